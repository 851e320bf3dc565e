/**
 * The versioned ledger tree: one atomic write batch per pulse, every retained pulse readable (root,
 * leaves, proofs), pruning by a retention policy. A pulse writes only the pages it changed; each
 * page it replaced is recorded in a stale index keyed by that pulse, so pruning walks the index in
 * small steps and never scans the tree.
 */

import type { Summary } from "../smt/hash.js";
import type { LeafNode, TreeNode } from "../smt/node.js";
import { decodePage, decodeRootNode } from "../smt/page.js";
import type { Proof } from "../smt/proof.js";
import { type LeafOp, lookup, prove, summaryOf, TreeError } from "../smt/tree.js";
import { DecodeError, Reader } from "../util/bytes.js";
import { indexOfSorted } from "../util/sorted.js";
import {
  Bucket,
  bucketRange,
  metaKey,
  parseStaleKey,
  pulseOfRootKey,
  rootKey,
  staleKey,
  staleTarget,
} from "./keys.js";
import type { KV, KVOp } from "./kv.js";
import { PageStore } from "./page-store.js";
import { corruptGuard, type Staged, stageCommit } from "./prepared-commit.js";
import {
  describeRetention,
  heldByCheckpoint,
  isRetained,
  type RetentionPolicy,
  retentionPolicy,
} from "./retention.js";
import {
  type CommitExtras,
  type CommitPut,
  type CommitResult,
  type LeafValue,
  type PreparedCommit,
  type PruneResult,
  PulseError,
  type RawGet,
  ROOT_RECORD_V1,
  STORE_FORMAT,
  type VersionedTreeOptions,
} from "./store-types.js";
import { leavesOf } from "./tree-walk.js";

export * from "./store-types.js";

/** The page cache of one leaf walk: it loads each page once, so a small one is enough. */
const WALK_CACHE_BYTES = 1 << 20;

/** The ledger tree with a snapshot per pulse, on any KV. */
export class VersionedTree {
  private readonly policy: RetentionPolicy;
  private readonly pages: PageStore;
  private readonly sync: boolean;
  /** Pulses with a root record on disk, ascending. */
  private pulses: number[];
  private headRoot: TreeNode | null;
  private firstPulse: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Commits since open: a prepared commit is current while this has not moved. */
  private commits = 0;
  private readonly prepared = new WeakMap<PreparedCommit, Staged>();

  private constructor(
    private readonly kv: KV,
    pulses: number[],
    headRoot: TreeNode | null,
    first: number | undefined,
    opts: VersionedTreeOptions,
  ) {
    this.policy = retentionPolicy(opts.retention);
    this.pages = new PageStore(kv, opts.cacheBytes ?? 32 * 1024 * 1024);
    this.sync = opts.sync ?? true;
    this.pulses = pulses;
    this.headRoot = headRoot;
    this.firstPulse = first;
  }

  /** Opens the tree kept in `kv` (empty or written by this class). */
  static async open(kv: KV, opts: VersionedTreeOptions = {}): Promise<VersionedTree> {
    const fmt = kv.getSync(metaKey("format"));
    if (fmt !== undefined && (fmt.length !== 1 || fmt[0] !== STORE_FORMAT))
      throw new TreeError(
        "CORRUPT",
        `unknown ledger store format ${fmt.toString("hex")} (this build reads ${STORE_FORMAT})`,
      );
    const pulses: number[] = [];
    for await (const [k] of kv.entries(bucketRange(Bucket.Root))) pulses.push(pulseOfRootKey(k));
    const firstRaw = kv.getSync(metaKey("first"));
    const first = firstRaw === undefined ? undefined : Number(firstRaw.readBigUInt64BE(0));
    const t = new VersionedTree(kv, pulses, null, first, opts);
    if (pulses.length > 0) t.headRoot = t.readRootRecord(pulses[pulses.length - 1]!);
    return t;
  }

  /** The newest committed pulse, or undefined before the first commit. */
  get head(): number | undefined {
    return this.pulses.length === 0 ? undefined : this.pulses[this.pulses.length - 1];
  }

  /** The first pulse ever committed to this store (META "first"), or undefined before it. */
  get first(): number | undefined {
    return this.firstPulse;
  }

  /** The pulses readable now, ascending (policy-dropped pulses stay until the next prune). */
  retained(): readonly number[] {
    return this.pulses;
  }

  /** The retention policy in force. */
  get retention(): RetentionPolicy {
    return this.policy;
  }

  /**
   * Applies one pulse's upserts and deletes and writes them in one atomic batch. `pulse` must be
   * head + 1 (any number for the first). A batch that would overflow the u64 supply is refused whole.
   */
  commit(pulse: number, ops: readonly LeafOp[], extras: CommitExtras = {}): Promise<CommitResult> {
    return this.exclusive(async () => this.write(this.stage(pulse, ops, extras)));
  }

  /**
   * Computes what commit would write (root, pages, batch) and keeps it in memory, writing nothing:
   * the head, its reads and the page cache stay as they are until `finish`. Several may be prepared
   * on one head; finishing one makes the others stale.
   */
  prepareCommit(pulse: number, ops: readonly LeafOp[], extras: CommitExtras = {}): Promise<PreparedCommit> {
    return this.exclusive(async () => {
      const staged = this.stage(pulse, ops, extras);
      const prepared: PreparedCommit = { pulse, root: staged.result.root };
      this.prepared.set(prepared, staged);
      return prepared;
    });
  }

  /**
   * Writes a prepared commit, with `puts` (records known only now, such as its certificate) in the
   * same atomic batch. Refused (PulseError STALE, nothing written) if any pulse was committed since
   * it was prepared, or it was finished or discarded already: its batch assumed the old head.
   */
  finish(prepared: PreparedCommit, puts: readonly CommitPut[] = []): Promise<CommitResult> {
    return this.exclusive(async () => {
      this.checkOpen();
      const staged = this.prepared.get(prepared);
      // One shot: a refused or failed finish frees the batch too.
      this.prepared.delete(prepared);
      if (staged === undefined)
        throw new PulseError("STALE", `pulse ${prepared.pulse} was already finished or discarded`);
      if (staged.commitsAt !== this.commits)
        throw new PulseError(
          "STALE",
          `pulse ${prepared.pulse} was prepared on an older head (head is now ${this.head})`,
        );
      return this.write(staged, puts);
    });
  }

  /** Forgets a prepared commit (its batch is freed; finishing it is refused). */
  discard(prepared: PreparedCommit): void {
    this.prepared.delete(prepared);
  }

  /** Computes a pulse's new root and atomic batch from the head, touching no state. */
  private stage(pulse: number, ops: readonly LeafOp[], extras: CommitExtras): Staged {
    this.checkOpen();
    const head = this.head;
    if (!Number.isSafeInteger(pulse) || pulse < 0)
      throw new PulseError("NOT_NEXT", `pulse must be a non-negative integer, got ${pulse}`);
    if (head !== undefined && pulse !== head + 1)
      throw new PulseError("NOT_NEXT", `pulse ${pulse} is not the next pulse (head is ${head})`);
    return stageCommit(
      { root: this.headRoot, pages: this.pages, first: this.firstPulse, commits: this.commits },
      pulse,
      ops,
      extras,
    );
  }

  /** Writes a staged pulse and makes it the head. Only from `exclusive`, with `staged` current. */
  private async write(staged: Staged, puts: readonly CommitPut[] = []): Promise<CommitResult> {
    const { pulse } = staged.result;
    const batch = puts.length === 0 ? staged.batch : [...staged.batch, ...putOps(puts)];
    const more = puts.reduce((n, p) => n + p.key.length + p.value.length, 0);
    await this.kv.write(batch, { sync: this.sync });
    this.commits++;
    this.headRoot = staged.newRoot;
    // Only now: pages of a prepared pulse that is never finished must not linger in the cache.
    for (const p of staged.pages)
      this.pages.put(p.key.toString("latin1"), decodePage(p.value, p.level, pulse), p.value.length);
    this.pulses.push(pulse);
    this.firstPulse ??= pulse;
    return more === 0 ? staged.result : { ...staged.result, bytesWritten: staged.result.bytesWritten + more };
  }

  /** The root node of a retained pulse (the head when omitted). */
  private rootNode(pulse?: number): TreeNode | null {
    const head = this.head;
    if (head === undefined) throw new PulseError("EMPTY", "the ledger has no pulse yet");
    if (pulse === undefined || pulse === head) return this.headRoot;
    this.checkReadable(pulse);
    return this.readRootRecord(pulse);
  }

  private readRootRecord(pulse: number): TreeNode | null {
    const rec = this.kv.getSync(rootKey(pulse));
    if (rec === undefined) throw this.pruned(pulse);
    try {
      const r = new Reader(rec);
      const v = r.u8("root record version");
      if (v !== ROOT_RECORD_V1) throw new DecodeError(`unknown root record version ${v}`);
      const n = decodeRootNode(r);
      r.end("root record");
      return n;
    } catch (err) {
      if (err instanceof DecodeError)
        throw new TreeError("CORRUPT", `root record of pulse ${pulse}: ${err.message}`);
      throw err;
    }
  }

  private checkReadable(pulse: number): void {
    const head = this.head!;
    if (!Number.isSafeInteger(pulse) || pulse < 0)
      throw new PulseError("FUTURE", `pulse must be a non-negative integer, got ${pulse}`);
    if (pulse > head) throw new PulseError("FUTURE", `pulse ${pulse} is not committed yet (head is ${head})`);
    if (this.firstPulse !== undefined && pulse < this.firstPulse)
      throw new PulseError(
        "BEFORE_FIRST",
        `pulse ${pulse} is before this ledger's first pulse ${this.firstPulse}`,
      );
    if (indexOfSorted(this.pulses, pulse) < 0) throw this.pruned(pulse);
  }

  private pruned(pulse: number): PulseError {
    return new PulseError(
      "PRUNED",
      `pulse ${pulse} was pruned by the retention policy (${describeRetention(this.policy)})`,
    );
  }

  /** A synchronous read of any key of the store's KV (for state kept beside the tree). */
  readonly get: RawGet = (key) => {
    this.checkOpen();
    return this.kv.getSync(key);
  };

  /** The root synopsis at a retained pulse (the head when omitted). */
  rootAt(pulse?: number): Summary {
    this.checkOpen();
    return summaryOf(this.rootNode(pulse));
  }

  /** An account's leaf at a retained pulse, or undefined if it has none. */
  getLeaf(id: Buffer, pulse?: number): LeafValue | undefined {
    this.checkOpen();
    const root = this.rootNode(pulse);
    const leaf: LeafNode | undefined = corruptGuard(() => lookup(root, id, this.pages.resolve));
    return leaf === undefined ? undefined : { amount: leaf.sum, dataHash: leaf.dataHash };
  }

  /**
   * Every leaf of a retained pulse (the head when omitted), ascending by id. The pulse is checked at
   * once; the walk is lazy and reads pages through a small cache of its own (a full walk would evict
   * the hot top of the tree from the shared one). Read it to the end without awaiting in between: a
   * prune may otherwise delete pages it has yet to read.
   */
  leaves(pulse?: number): Generator<{ id: Buffer; leaf: LeafValue }> {
    this.checkOpen();
    return leavesOf(this.rootNode(pulse), new PageStore(this.kv, WALK_CACHE_BYTES));
  }

  /**
   * Writes records kept beside the tree (not tree state: a late certificate) in one atomic batch,
   * after every earlier commit.
   */
  putRecords(puts: readonly CommitPut[]): Promise<void> {
    return this.exclusive(async () => {
      this.checkOpen();
      await this.kv.write(putOps(puts), { sync: this.sync });
    });
  }

  /** An inclusion or exclusion proof for `id` at a retained pulse. */
  prove(id: Buffer, pulse?: number): Proof {
    this.checkOpen();
    const root = this.rootNode(pulse);
    return corruptGuard(() => prove(root, id, this.pages.resolve));
  }

  /**
   * One bounded prune step: drops the root records the policy no longer keeps and deletes at most
   * `maxPages` pages that no retained pulse reaches. Call until `done`; each step is one atomic batch.
   * `hold(head)`: every pulse from it on stays too, whatever the policy (a pending election draw
   * reads its snapshot); asked at each step, from the head then.
   */
  prune(maxPages = 10_000, hold?: (head: number) => number | undefined): Promise<PruneResult> {
    return this.exclusive(() => this.doPrune(maxPages, hold));
  }

  private async doPrune(
    maxPages: number,
    hold: ((head: number) => number | undefined) | undefined,
  ): Promise<PruneResult> {
    this.checkOpen();
    const head = this.head;
    if (head === undefined) return { pulsesDropped: 0, pagesDeleted: 0, done: true };
    const holdFrom = hold?.(head) ?? Number.POSITIVE_INFINITY;
    const batch: KVOp[] = [];
    const dropped = this.pulses.filter((p) => p < holdFrom && !isRetained(this.policy, head, p));
    for (const p of dropped) batch.push({ type: "del", key: rootKey(p) });
    // A page stale from pulse s was visible in [version, s); decide it once all of those are outside
    // the kept window, i.e. s <= head - keepLast + 1, and before the held pulses, s <= holdFrom.
    const until = Math.min(head - this.policy.keepLast + 2, holdFrom + 1);
    let entries = 0;
    let pagesDeleted = 0;
    if (until > 0) {
      const range = {
        gte: staleKey(0, Buffer.alloc(0)),
        lt: staleKey(until, Buffer.alloc(0)),
        limit: maxPages,
      };
      for await (const [k] of this.kv.entries(range)) {
        entries++;
        const { pulse: s, page: target } = parseStaleKey(k);
        const { key, version } = staleTarget(target);
        if (!heldByCheckpoint(this.policy, version, s)) {
          batch.push({ type: "del", key: Buffer.from(key) });
          if (key[0] === Bucket.Page) this.pages.forget(key.toString("latin1"));
          pagesDeleted++;
        }
        batch.push({ type: "del", key: k });
      }
    }
    if (batch.length > 0) await this.kv.write(batch, { sync: this.sync });
    const droppedSet = new Set(dropped);
    this.pulses = this.pulses.filter((p) => !droppedSet.has(p));
    return { pulsesDropped: dropped.length, pagesDeleted, done: entries < maxPages };
  }

  /** Prunes until nothing is left, in bounded steps. */
  async pruneAll(
    maxPagesPerStep = 10_000,
    hold?: (head: number) => number | undefined,
  ): Promise<{ pulsesDropped: number; pagesDeleted: number }> {
    let pulsesDropped = 0;
    let pagesDeleted = 0;
    for (;;) {
      const r = await this.prune(maxPagesPerStep, hold);
      pulsesDropped += r.pulsesDropped;
      pagesDeleted += r.pagesDeleted;
      if (r.done) return { pulsesDropped, pagesDeleted };
    }
  }

  /** Asks the KV to reclaim the space of deleted keys now. */
  compact(): Promise<void> {
    return this.exclusive(() => this.kv.compact());
  }

  /** Waits for pending work and closes the KV. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      this.pages.clear();
      await this.kv.close();
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the ledger store is closed");
  }

  /** Runs `fn` after every earlier commit, prune or close has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function putOps(puts: readonly CommitPut[]): KVOp[] {
  return puts.map((p) => ({ type: "put", key: p.key, value: p.value }));
}
