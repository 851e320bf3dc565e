/**
 * The storage interface under the versioned tree: a sorted byte-key store with synchronous point
 * reads and atomic batch writes. Two implementations pass one compliance suite
 * (test/ledger-kv.test.ts): LevelKV (classic-level) and MemoryKV.
 */

/** One write of a batch. */
export type KVOp =
  | { readonly type: "put"; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: "del"; readonly key: Buffer };

/** A key range: `gte` inclusive, `lt` exclusive. */
export interface KVRange {
  readonly gte: Buffer;
  readonly lt: Buffer;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** A sorted key-value store. Keys compare bytewise. */
export interface KV {
  /** The value of `key`, or undefined. Synchronous: tree walks stay simple and fast. */
  getSync(key: Buffer): Buffer | undefined;
  /** Applies every op or none (atomic). With `sync`, returns only once the batch is on disk. */
  write(ops: readonly KVOp[], opts?: { sync?: boolean }): Promise<void>;
  /** Entries in a range, in key order (or reverse). */
  entries(range: KVRange): AsyncIterable<[Buffer, Buffer]>;
  /** Lets the store reclaim the space of deleted keys now. */
  compact(): Promise<void>;
  /** Releases the store (and its lock). */
  close(): Promise<void>;
}
