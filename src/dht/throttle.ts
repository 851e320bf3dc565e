/** Rate limits for what peers send (a node's own protection against floods). */

/** A token bucket per peer: `rate` requests a second, bursts of `burst`. */
export class PeerThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True if `peer` may make one more request now. */
  take(peer: string): boolean {
    const t = this.now();
    const b = this.buckets.get(peer) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    // Past 10,000 peers the buckets start over: memory stays bounded, at worst a burst is granted again.
    if (this.buckets.size > 10_000) this.buckets.clear();
    this.buckets.set(peer, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
