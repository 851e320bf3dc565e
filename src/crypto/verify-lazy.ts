/**
 * A VerifyPool that exists only while there is work for it: small batches are verified on the
 * calling thread, the first large one starts the worker threads, and after `idleMs` without a large
 * batch they are stopped again. An idle node then holds no threads (about 10 MB of memory each),
 * which matters on a Raspberry Pi; a busy one keeps every core verifying.
 */
import { type BatchVerifier, InlineVerifier, type SigItem } from "./verify-batch.js";
import { VerifyPool, type VerifyPoolOptions } from "./verify-pool.js";

/** Options of a LazyVerifyPool. */
export interface LazyVerifyPoolOptions extends VerifyPoolOptions {
  /** Stop the threads after this long without a large batch. @default 30000 */
  idleMs?: number;
}

/** Threads on demand. */
export class LazyVerifyPool implements BatchVerifier {
  private pool: VerifyPool | undefined;
  private readonly inline = new InlineVerifier();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: LazyVerifyPoolOptions = {}) {}

  /** True while the worker threads run. */
  get active(): boolean {
    return this.pool !== undefined;
  }

  async verifyBatch(items: readonly SigItem[]): Promise<Uint8Array> {
    if (this.closed) throw new Error("the verify pool is closed");
    if (items.length < (this.opts.minBatch ?? 64)) return this.inline.verifyBatch(items);
    this.pool ??= new VerifyPool(this.opts);
    const pool = this.pool;
    clearTimeout(this.timer);
    this.inFlight++;
    try {
      return await pool.verifyBatch(items);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && !this.closed) {
        this.timer = setTimeout(() => this.retire(), this.opts.idleMs ?? 30_000);
        this.timer.unref();
      }
    }
  }

  private retire(): void {
    if (this.inFlight > 0 || this.pool === undefined) return;
    const pool = this.pool;
    this.pool = undefined;
    void pool.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}
