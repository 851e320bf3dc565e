/**
 * A byte-bounded cache with CLOCK (second chance) eviction. A hit only sets a flag; eviction sweeps
 * a ring of slots. Unlike an LRU over a Map (delete and re-insert on every hit, evict by iterating
 * from the front), it never iterates a Map: V8 Maps keep deleted entries as holes until they rehash,
 * and iterating from the front over many holes made page-cache evictions take seconds.
 */
interface Slot<V> {
  key: string;
  value: V;
  size: number;
  hot: boolean;
}

/** A cache of values by string key, within a budget of bytes (each value's size given on put). */
export class ClockCache<V> {
  private readonly index = new Map<string, number>();
  private readonly slots: (Slot<V> | undefined)[] = [];
  private readonly free: number[] = [];
  private hand = 0;
  private bytes = 0;

  /** @param maxBytes the budget; the newest value stays even if it alone exceeds it. */
  constructor(private readonly maxBytes: number) {}

  /** The value of `key`, marking it recently used; undefined if absent. */
  get(key: string): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const s = this.slots[i]!;
    s.hot = true;
    return s.value;
  }

  /** True if `key` is held (its value may be undefined). */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Adds or replaces `key`, then evicts cold values until the budget holds. */
  set(key: string, value: V, size: number): void {
    const at = this.index.get(key);
    if (at !== undefined) {
      const s = this.slots[at]!;
      this.bytes += size - s.size;
      s.value = value;
      s.size = size;
    } else {
      const slot: Slot<V> = { key, value, size, hot: false };
      const i = this.free.pop();
      if (i === undefined) {
        this.index.set(key, this.slots.length);
        this.slots.push(slot);
      } else {
        this.index.set(key, i);
        this.slots[i] = slot;
      }
      this.bytes += size;
    }
    while (this.bytes > this.maxBytes && this.index.size > 1) this.evictOne(key);
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    const i = this.index.get(key);
    if (i !== undefined) this.remove(i);
  }

  /** Removes everything. */
  clear(): void {
    this.index.clear();
    this.slots.length = 0;
    this.free.length = 0;
    this.hand = 0;
    this.bytes = 0;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  /** Number of values held. */
  get count(): number {
    return this.index.size;
  }

  private evictOne(keep: string): void {
    for (;;) {
      if (this.hand >= this.slots.length) this.hand = 0;
      const i = this.hand++;
      const s = this.slots[i];
      if (s === undefined || s.key === keep) continue;
      if (s.hot) s.hot = false;
      else {
        this.remove(i);
        return;
      }
    }
  }

  private remove(i: number): void {
    const s = this.slots[i]!;
    this.index.delete(s.key);
    this.slots[i] = undefined;
    this.free.push(i);
    this.bytes -= s.size;
  }
}
