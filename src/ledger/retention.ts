/** Which pulses a store keeps: the last `keepLast`, and every pulse that is a multiple of `keepEvery`. */
export interface RetentionPolicy {
  /** How many of the newest pulses stay readable (at least 1). @default 100 */
  readonly keepLast: number;
  /** Also keep every pulse divisible by this, for good (0: none). @default 0 */
  readonly keepEvery: number;
}

/** The default policy. */
export const DEFAULT_RETENTION: RetentionPolicy = { keepLast: 100, keepEvery: 0 };

/** Fills in and checks a policy; throws RangeError naming the bad field. */
export function retentionPolicy(p: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const out = { ...DEFAULT_RETENTION, ...p };
  if (!Number.isSafeInteger(out.keepLast) || out.keepLast < 1)
    throw new RangeError(`retention.keepLast must be an integer >= 1, got ${out.keepLast}`);
  if (!Number.isSafeInteger(out.keepEvery) || out.keepEvery < 0)
    throw new RangeError(`retention.keepEvery must be an integer >= 0, got ${out.keepEvery}`);
  return out;
}

/** True if the policy keeps pulse `p` once `head` is the newest pulse. */
export function isRetained(policy: RetentionPolicy, head: number, p: number): boolean {
  return p > head - policy.keepLast || (policy.keepEvery > 0 && p % policy.keepEvery === 0);
}

/**
 * True if a page visible in pulses [from, until) is still reachable from a kept checkpoint.
 * Checkpoints (multiples of keepEvery) are kept for good, so this answer never changes.
 */
export function heldByCheckpoint(policy: RetentionPolicy, from: number, until: number): boolean {
  if (policy.keepEvery === 0) return false;
  const first = Math.ceil(from / policy.keepEvery) * policy.keepEvery;
  return first < until;
}

/** The policy in words, for errors: "keep the last 100 pulses" (and "every 1000th"). */
export function describeRetention(policy: RetentionPolicy): string {
  const { keepLast, keepEvery } = policy;
  return keepEvery > 0
    ? `keep the last ${keepLast} pulses and every ${keepEvery}th`
    : `keep the last ${keepLast} pulses`;
}
