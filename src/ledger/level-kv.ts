/** The LevelDB KV (classic-level). */
import { ClassicLevel } from "classic-level";
import { CodedError } from "../util/errors.js";
import type { KV, KVOp, KVRange } from "./kv.js";

/** classic-level's implementation of abstract-level's private `_batch`. */
interface PrivateBatch {
  _batch(ops: readonly KVOp[], options: { sync: boolean }): Promise<void>;
}

/** Why a store could not be opened, in words an operator can act on. */
export class StoreOpenError extends CodedError<"LOCKED" | "OPEN_FAILED"> {}

/** Options of LevelKV. */
export interface LevelKVOptions {
  /** LevelDB's block cache in bytes. @default 8 MiB */
  cacheSize?: number;
  /** LevelDB's write buffer (memtable) in bytes. @default 16 MiB */
  writeBufferSize?: number;
}

/** A KV on a LevelDB folder. Open with `LevelKV.open`; a folder locked by another process fails fast. */
export class LevelKV implements KV {
  private constructor(private readonly db: ClassicLevel<Buffer, Buffer>) {}

  /** Opens (creating if needed) the LevelDB at `dir`. */
  static async open(dir: string, opts: LevelKVOptions = {}): Promise<LevelKV> {
    const db = new ClassicLevel<Buffer, Buffer>(dir, {
      keyEncoding: "buffer",
      valueEncoding: "buffer",
      cacheSize: opts.cacheSize ?? 8 * 1024 * 1024,
      writeBufferSize: opts.writeBufferSize ?? 16 * 1024 * 1024,
      // Pages are mostly hashes, which do not compress: skip Snappy's attempt on every block.
      compression: false,
    });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "LEVEL_LOCKED")
        throw new StoreOpenError(
          "LOCKED",
          `the database at ${dir} is in use by another process (is another leither running on this data dir?)`,
        );
      throw new StoreOpenError(
        "OPEN_FAILED",
        `cannot open the database at ${dir}: ${cause?.message ?? (err as Error).message}`,
      );
    }
    return new LevelKV(db);
  }

  getSync(key: Buffer): Buffer | undefined {
    return this.db.getSync(key);
  }

  async write(ops: readonly KVOp[], opts: { sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    // One atomic LevelDB WriteBatch. The public batch() clones and re-encodes every op in JS (a fifth
    // of a pulse's time at 10,000 pages); our keys and values are Buffers already, so call the
    // implementation's _batch (abstract-level's private API for implementors) directly.
    await (this.db as unknown as PrivateBatch)._batch(ops, { sync: opts.sync ?? false });
  }

  async *entries(range: KVRange): AsyncIterable<[Buffer, Buffer]> {
    const it = this.db.iterator({
      gte: range.gte,
      lt: range.lt,
      reverse: range.reverse ?? false,
      limit: range.limit ?? -1,
    });
    try {
      for await (const [k, v] of it) yield [k, v];
    } finally {
      await it.close();
    }
  }

  async compact(): Promise<void> {
    await this.db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
