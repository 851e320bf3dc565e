/**
 * Signature verification of a whole batch across all cores: a pool of worker threads, each with its
 * own cache of node:crypto KeyObjects. A bookkeeper on 2 cores verifies on both while the main thread
 * waits. Results are the same as verifying one by one; a worker that dies has its share verified on
 * the main thread, so a result never depends on a thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type BatchVerifier, InlineVerifier, type SigItem } from "./verify-batch.js";
import { packItems } from "./verify-pack.js";

export * from "./verify-batch.js";

/** Worker restarts before the pool gives up on threads and verifies inline. */
const MAX_RESTARTS = 16;

/** Options of a VerifyPool. */
export interface VerifyPoolOptions {
  /** Worker threads. @default os.availableParallelism() */
  threads?: number;
  /** Batches smaller than this are verified inline (a round trip to a worker costs more). @default 64 */
  minBatch?: number;
  /**
   * A worker that has not answered a job after this long (plus 1 ms per signature) is retired and
   * its job verified on the calling thread, so a stuck thread cannot stall a pulse. @default 30000
   */
  deadlineMs?: number;
}

interface Job {
  readonly items: readonly SigItem[];
  readonly resolve: (r: Uint8Array) => void;
  timer?: NodeJS.Timeout;
}

/** A pool of verifying worker threads. Close it when done (idle workers never hold the process). */
export class VerifyPool implements BatchVerifier {
  private readonly workers: Worker[] = [];
  private readonly jobs = new Map<number, { worker: number; job: Job }>();
  private readonly inline = new InlineVerifier();
  private readonly minBatch: number;
  private readonly deadlineMs: number;
  private nextId = 0;
  private closed = false;
  private restarts = 0;
  private broken = false;

  constructor(opts: VerifyPoolOptions = {}) {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be >= 1, got ${threads}`);
    this.minBatch = opts.minBatch ?? 64;
    this.deadlineMs = opts.deadlineMs ?? 30_000;
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn(i));
  }

  /** Number of worker threads. */
  get threads(): number {
    return this.workers.length;
  }

  private spawn(index: number): Worker {
    const w = new Worker(new URL("./verify-worker.js", import.meta.url), { execArgv: [] });
    w.on("message", (m: { id: number; result: Uint8Array }) => this.settle(m.id, m.result));
    // A crash fires both "error" and "exit": fail() acts once per worker.
    w.on("error", () => this.fail(index, w));
    w.on("exit", () => this.fail(index, w));
    // A reply that cannot be read: retire the worker, so its jobs are verified here.
    w.on("messageerror", () => void w.terminate());
    // After the listeners: adding a "message" listener refs the worker again.
    w.unref();
    return w;
  }

  /** A worker died: verify its pending jobs here, and start a new one (a few times at most). */
  private fail(index: number, w: Worker): void {
    if (this.workers[index] !== w) return;
    for (const [id, { worker, job }] of this.jobs) {
      if (worker !== index) continue;
      this.jobs.delete(id);
      clearTimeout(job.timer);
      job.resolve(this.inline.verifySync(job.items));
    }
    if (this.closed) return;
    if (this.restarts++ < MAX_RESTARTS) {
      try {
        this.workers[index] = this.spawn(index);
      } catch {
        this.broken = true; // from inside an event handler: a throw here would end the process
      }
    } else this.broken = true; // workers cannot start here: verify inline from now on
    if (this.jobs.size === 0) for (const x of this.workers) x.unref();
  }

  private settle(id: number, result: Uint8Array): void {
    const j = this.jobs.get(id);
    if (j === undefined) return;
    this.jobs.delete(id);
    clearTimeout(j.job.timer);
    if (!this.jobs.size) for (const w of this.workers) w.unref();
    j.job.resolve(result);
  }

  verifyBatch(items: readonly SigItem[]): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error("the verify pool is closed"));
    if (items.length < this.minBatch || this.broken) return this.inline.verifyBatch(items);
    const n = this.workers.length;
    // Each key goes to one worker (by its first byte, uniform for real keys): a worker builds and
    // caches the KeyObjects of its share of the keys only, not of all of them.
    const shares: number[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < items.length; i++) shares[(items[i]!.publicKey[0] ?? 0) % n]!.push(i);
    const parts = shares.map((idx, w) =>
      idx.length === 0
        ? Promise.resolve(new Uint8Array(0))
        : this.send(
            w,
            idx.map((i) => items[i]!),
          ),
    );
    return Promise.all(parts).then((rs) => {
      const out = new Uint8Array(items.length);
      rs.forEach((r, w) => {
        const idx = shares[w]!;
        for (let k = 0; k < idx.length; k++) out[idx[k]!] = r[k]!;
      });
      // Packing has fixed-size key and signature slots: an item of another size is invalid here,
      // exactly as InlineVerifier says.
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        if (it.publicKey.length !== 32 || it.signature.length !== 64) out[i] = 0;
      }
      return out;
    });
  }

  /** Sends one worker its share of a batch. */
  private send(w: number, chunk: readonly SigItem[]): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve) => {
      const id = this.nextId++;
      const worker = this.workers[w]!;
      try {
        const buf = packItems(chunk);
        const job: Job = { items: chunk, resolve };
        this.jobs.set(id, { worker: w, job });
        worker.ref();
        worker.postMessage({ id, buf }, [buf]);
        // Terminating fires "exit", and fail() verifies the job here.
        job.timer = setTimeout(() => void worker.terminate(), this.deadlineMs + chunk.length);
        job.timer.unref();
      } catch {
        // Too large to pack or post: the same answer, on this thread.
        this.jobs.delete(id);
        resolve(this.inline.verifySync(chunk));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
