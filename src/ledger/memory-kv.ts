/** An in-memory KV: the same contract as LevelKV, for tests and for tools that need no disk. */
import type { KV, KVOp, KVRange } from "./kv.js";

/** A KV held in a Map; keys are kept as latin1 strings, whose order is the bytes' order. */
export class MemoryKV implements KV {
  private readonly map = new Map<string, Buffer>();
  private closed = false;

  /** Number of keys held (tests use it to show what pruning removed). */
  get size(): number {
    return this.map.size;
  }

  private check(): void {
    if (this.closed) throw new Error("MemoryKV is closed");
  }

  getSync(key: Buffer): Buffer | undefined {
    this.check();
    return this.map.get(key.toString("latin1"));
  }

  async write(ops: readonly KVOp[]): Promise<void> {
    this.check();
    for (const op of ops) {
      const k = op.key.toString("latin1");
      if (op.type === "put") this.map.set(k, Buffer.from(op.value));
      else this.map.delete(k);
    }
  }

  async *entries(range: KVRange): AsyncIterable<[Buffer, Buffer]> {
    this.check();
    const lo = range.gte.toString("latin1");
    const hi = range.lt.toString("latin1");
    const keys = [...this.map.keys()].filter((k) => k >= lo && k < hi).sort();
    if (range.reverse) keys.reverse();
    const limit = range.limit ?? Number.POSITIVE_INFINITY;
    let n = 0;
    for (const k of keys) {
      if (n++ >= limit) return;
      const v = this.map.get(k);
      if (v !== undefined) yield [Buffer.from(k, "latin1"), v];
    }
  }

  async compact(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}
