/**
 * A ledger: the versioned tree of accounts plus each account's data, and the pulse step that
 * decodes a batch, verifies its signatures (across cores), runs the pure state machine and commits
 * the result in one atomic write. Every retained pulse's accounts and proofs stay readable.
 */
import { type BatchVerifier, InlineVerifier } from "../crypto/verify-batch.js";
import { drawHold } from "../election/cycle.js";
import type { Summary } from "../smt/hash.js";
import type { Proof } from "../smt/proof.js";
import { TreeError } from "../smt/tree.js";
import { DecodeError } from "../util/bytes.js";
import { ClockCache } from "../util/clock-cache.js";
import { type Account, copyAccount } from "./account.js";
import { type CheckedBatch, checkBatch, checkDecoded, isChecked, mergeChecked } from "./checked.js";
import { certKey, metaKey, txKey } from "./keys.js";
import type { KV } from "./kv.js";
import type {
  ApplyOptions,
  LedgerOptions,
  PreparedPulse,
  PulseExtras,
  PulseOutcome,
} from "./ledger-types.js";
import {
  outcomeOf,
  PulseHandle,
  type PulseWriter,
  type StagedPulse,
  stageChanges,
  staleError,
} from "./prepared.js";
import { accountOfLeaf, readBatch } from "./records.js";
import { partiesOf } from "./rules.js";
import { type LedgerView, type OrgInfo, transition } from "./state-machine.js";
import { PulseError, VersionedTree } from "./store.js";
import { type Tx, TxKind } from "./tx.js";
import { decodeTx } from "./tx-codec.js";

export type { CheckedBatch } from "./checked.js";
export type {
  ApplyOptions,
  LedgerOptions,
  PreparedPulse,
  PulseExtras,
  PulseOutcome,
  PulseTimings,
  Receipt,
} from "./ledger-types.js";

/** Rough bytes of one cached account (its object, id key and dataHash). */
const ACCOUNT_ENTRY_BYTES = 400;

/** A head-state account as cached: undefined when it has no leaf. */
type CachedAccount = { readonly account: Account; readonly dataHash: Buffer } | undefined;

/**
 * The ledger of one organization. It is also what the committee draw reads (it satisfies
 * src/election/accounts.ts's ElectionSource: accounts by id and every account of a pulse).
 */
export class Ledger implements LedgerView {
  private queue: Promise<unknown> = Promise.resolve();
  /** Pulses committed since open: a staged pulse is current while this has not moved. */
  private commits = 0;

  private readonly cache: ClockCache<CachedAccount>;
  private readonly cacheOn: boolean;
  /** What each prepared pulse commits and discards through (in the queue, like applyPulse). */
  private readonly writer: PulseWriter = {
    commit: (s, extras) => this.step(Promise.resolve(s), (staged) => this.write(staged, extras)),
    discard: (s) => {
      if (s.write !== undefined) this.tree.discard(s.write);
    },
    unchanged: (s, id) => {
      if (s.commitsAt !== this.commits) throw staleError(s, this.tree.head);
      return this.account(id);
    },
  };

  private constructor(
    private readonly tree: VersionedTree,
    private readonly verifier: BatchVerifier,
    private orgInfo: OrgInfo | undefined,
    cacheBytes: number,
    private readonly indexTxs: boolean,
    private readonly holdDrawSnapshot: boolean,
  ) {
    this.cache = new ClockCache(cacheBytes);
    this.cacheOn = cacheBytes > 0;
  }

  /** Opens the ledger kept in `kv` (empty or written by this class). */
  static async open(kv: KV, opts: LedgerOptions = {}): Promise<Ledger> {
    const tree = await VersionedTree.open(kv, opts);
    let org: OrgInfo | undefined;
    const genesis = kv.getSync(metaKey("genesis"));
    if (genesis !== undefined) {
      const tx = corrupt("genesis record", () => decodeTx(genesis));
      if (tx.body.kind !== 1) throw new TreeError("CORRUPT", "the genesis record is not a genesis");
      org = { id: tx.body.org, params: tx.body.params };
    }
    return new Ledger(
      tree,
      opts.verifier ?? new InlineVerifier(),
      org,
      opts.accountCacheBytes ?? 32 * 1024 * 1024,
      opts.indexTxs ?? false,
      opts.holdDrawSnapshot ?? true,
    );
  }

  /** The organization, once its genesis is applied. */
  get org(): OrgInfo | undefined {
    return this.orgInfo;
  }

  /** The genesis transaction's bytes, once it is applied (what a peer checks the organization by). */
  genesisBytes(): Buffer | undefined {
    const raw = this.tree.get(metaKey("genesis"));
    return raw === undefined ? undefined : Buffer.from(raw);
  }

  /** The newest committed pulse. */
  get head(): number | undefined {
    return this.tree.head;
  }

  /** An account at a retained pulse (the head when omitted), or undefined if it has no leaf. */
  account(id: Buffer, pulse?: number): Account | undefined {
    // A copy: the cached object is the next pulse's starting state, and `readonly` binds only TypeScript.
    const a = this.readAccount(id, pulse);
    return a === undefined ? undefined : copyAccount(a);
  }

  /**
   * Every account with a leaf at a retained pulse (the head when omitted), ascending by id, each
   * one a fresh copy. The pulse is checked at once (PulseError as for `account`); read the rest
   * without awaiting in between, as a prune could delete pages the walk has yet to read.
   */
  accountsAt(pulse?: number): Iterable<{ id: Buffer; account: Account }> {
    const leaves = this.tree.leaves(pulse);
    const get = this.tree.get;
    return (function* () {
      for (const { id, leaf } of leaves) yield { id, account: accountOfLeaf(get, id, leaf) };
    })();
  }

  /** Reads an account; `seen` collects the dataHash of each account read (the pulse retires them). */
  private readAccount(id: Buffer, pulse?: number, seen?: Map<string, Buffer>): Account | undefined {
    if (pulse === undefined && this.tree.head === undefined) return undefined;
    const key = pulse === undefined && this.cacheOn ? id.toString("latin1") : undefined;
    if (key !== undefined && this.cache.has(key)) {
      const hit = this.cache.get(key);
      if (hit !== undefined) seen?.set(key, hit.dataHash);
      return hit?.account;
    }
    const leaf = this.tree.getLeaf(id, pulse);
    if (leaf === undefined) {
      if (key !== undefined) this.cache.set(key, undefined, ACCOUNT_ENTRY_BYTES);
      return undefined;
    }
    seen?.set(id.toString("latin1"), leaf.dataHash);
    const account = accountOfLeaf(this.tree.get, id, leaf);
    if (key !== undefined) this.cache.set(key, { account, dataHash: leaf.dataHash }, ACCOUNT_ENTRY_BYTES);
    return account;
  }

  /** The root synopsis at a retained pulse (the head when omitted). */
  rootAt(pulse?: number): Summary {
    return this.tree.rootAt(pulse);
  }

  /** A proof of an account (or of its absence) at a retained pulse. */
  prove(id: Buffer, pulse?: number): Proof {
    return this.tree.prove(id, pulse);
  }

  /**
   * An accepted transaction and the pulse that applied it, from the index (`indexTxs`); undefined if
   * the index does not have it.
   */
  findTx(txId: Uint8Array): { pulse: number; tx: Tx } | undefined {
    const raw = this.tree.get(txKey(txId));
    if (raw === undefined) return undefined;
    return corrupt("tx index", () => ({
      pulse: Number(raw.readBigUInt64BE(0)),
      tx: decodeTx(raw.subarray(8)),
    }));
  }

  /**
   * The transactions pulse `pulse` accepted, encoded, in order of application (`indexTxs`):
   * replaying them on the state before the pulse gives its root. Undefined for a pulse without a
   * record (not committed, committed without `indexTxs`, or before records were kept).
   */
  batchAt(pulse: number): Buffer[] | undefined {
    return readBatch(this.tree.get, pulse);
  }

  /** The certificate stored for pulse `pulse` (by commit, applyPulse or putCertificate), if any. */
  certificateAt(pulse: number): Buffer | undefined {
    const raw = this.tree.get(certKey(pulse));
    return raw === undefined ? undefined : Buffer.from(raw);
  }

  /**
   * Stores the certificate of a committed pulse that arrived after its commit, replacing any stored
   * one (the ledger does not check it). Rejects with PulseError (EMPTY, FUTURE, BEFORE_FIRST) for a
   * pulse this ledger has not committed. Waits for the pulse steps called before it.
   */
  putCertificate(pulse: number, certificate: Uint8Array): Promise<void> {
    return this.step(Promise.resolve(), async () => {
      const { head, first } = this.tree;
      const refuse = (code: "EMPTY" | "FUTURE" | "BEFORE_FIRST", why: string) =>
        new PulseError(code, `cannot store a certificate for pulse ${pulse}: ${why}`);
      if (head === undefined || first === undefined) throw refuse("EMPTY", "the ledger has no pulse yet");
      if (!Number.isSafeInteger(pulse) || pulse > head)
        throw refuse("FUTURE", `it is not committed (head is ${head})`);
      if (pulse < first) throw refuse("BEFORE_FIRST", `it is before this ledger's first pulse ${first}`);
      await this.tree.putRecords([{ key: certKey(pulse), value: Buffer.from(certificate) }]);
    });
  }

  /** One batch of several checked ones, in order (a bookkeeper checks as transactions arrive). */
  static mergeChecked(batches: readonly CheckedBatch[]): CheckedBatch {
    return mergeChecked(batches);
  }

  /**
   * Applies pulse `pulse` (head + 1) with the encoded transactions `txs`: bad ones are rejected with a
   * reason, the rest applied in canonical order, and the result committed in one atomic batch (with
   * `opts.certificate`, as PreparedPulse.commit stores it).
   */
  applyPulse(
    pulse: number,
    txs: readonly Uint8Array[] | CheckedBatch,
    opts: ApplyOptions & PulseExtras = {},
  ): Promise<PulseOutcome> {
    return this.step(this.checked(txs), async (c) => this.write(await this.stage(pulse, c, opts), opts));
  }

  /**
   * Decodes a batch and verifies its signatures: the part of a pulse that needs no state. A
   * bookkeeper runs it on the next pulse's transactions while the current pulse commits, and hands
   * the result to applyPulse.
   */
  check(txs: readonly Uint8Array[]): Promise<CheckedBatch> {
    return checkBatch(this.verifier, txs);
  }

  /** Like check, for transactions already decoded (a bookkeeper decodes each on arrival). */
  checkDecoded(txs: readonly Tx[]): Promise<CheckedBatch> {
    return checkDecoded(this.verifier, txs);
  }

  /**
   * Computes pulse `pulse` as applyPulse would (verdicts, root, the conservation check) but writes
   * nothing and leaves the head as it is: reads see the head until the returned pulse is committed.
   */
  prepare(
    pulse: number,
    txs: readonly Uint8Array[] | CheckedBatch,
    opts: ApplyOptions = {},
  ): Promise<PreparedPulse> {
    return this.step(
      this.checked(txs),
      async (c) => new PulseHandle(await this.stage(pulse, c, opts), this.writer),
    );
  }

  /** Checking needs no state, so it runs at once; only the state step waits for earlier pulses. */
  private checked(txs: readonly Uint8Array[] | CheckedBatch): Promise<CheckedBatch> {
    return isChecked(txs) ? Promise.resolve(txs) : this.check(txs);
  }

  /** Runs `fn` on `input` once it and every earlier pulse step (apply, prepare, commit) are done. */
  private step<A, T>(input: Promise<A>, fn: (a: A) => Promise<T>): Promise<T> {
    const run = Promise.all([input, this.queue]).then(([a]) => fn(a));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs the transition on the head and stages its write, changing no state. */
  private async stage(pulse: number, c: CheckedBatch, opts: ApplyOptions): Promise<StagedPulse> {
    const { decoded, items } = c;
    const head = this.tree.head;
    const commitsAt = this.commits;
    const before = head === undefined ? 0n : this.tree.rootAt().sum;
    const t2 = performance.now();
    const hashes = new Map<string, Buffer>();
    const view: LedgerView = { org: this.orgInfo, account: (id) => this.readAccount(id, undefined, hashes) };
    const t = transition(view, pulse, items, opts);
    const changes = stageChanges(t, hashes, decoded, items, pulse, this.indexTxs);
    // Every accepted transaction but a reward or forfeit changes the state (a nonce at least; a
    // genesis the organization); those two ride on a pulse the others make.
    const unchanged =
      opts.skipUnchanged === true &&
      changes.accepted.every((tx) => tx.body.kind === TxKind.Reward || tx.body.kind === TxKind.Forfeit);
    const t3 = performance.now();
    // Conservation at the root: the store refuses the batch unless sum after = sum before + issued.
    const write = unchanged
      ? undefined
      : await this.tree.prepareCommit(pulse, changes.ops, {
          puts: changes.puts,
          stale: changes.stale,
          expectSum: before + t.issued,
        });
    return {
      pulse,
      head,
      commitsAt,
      root: write?.root ?? this.tree.rootAt(),
      results: changes.results,
      accepted: changes.accepted,
      fresh: changes.fresh,
      org: t.org,
      accountsChanged: t.changes.length,
      issued: t.issued,
      write,
      proofs: opts.proofs !== false,
      ms: { decode: c.decodeMs, verify: c.verifyMs, transition: t3 - t2, tree: performance.now() - t3 },
    };
  }

  /**
   * Writes a staged pulse (with its certificate, if any), then updates the head state; refused if
   * the ledger moved since staging. A pulse that writes nothing stores no certificate either: its
   * number is not taken, and the next pulse will be another batch under it.
   */
  private async write(s: StagedPulse, extras: PulseExtras = {}): Promise<PulseOutcome> {
    if (s.commitsAt !== this.commits) {
      this.writer.discard(s);
      throw staleError(s, this.tree.head);
    }
    if (s.write === undefined) return outcomeOf(s);
    const t4 = performance.now();
    const { certificate } = extras;
    const cert =
      certificate === undefined ? [] : [{ key: certKey(s.pulse), value: Buffer.from(certificate) }];
    const result = await this.tree.finish(s.write, cert);
    const t5 = performance.now();
    this.commits++;
    this.orgInfo = s.org;
    // Only after the commit: a refused or discarded batch leaves the cache as the head is.
    if (this.cacheOn)
      for (const f of s.fresh)
        this.cache.set(f.key, { account: f.account, dataHash: f.dataHash }, ACCOUNT_ENTRY_BYTES);
    const receipts = s.accepted.map((tx) => ({
      txId: tx.id,
      pulse: s.pulse,
      root: result.root,
      proofs: s.proofs
        ? partiesOf(tx.body, s.org?.id).map((id) => ({ id, proof: this.tree.prove(id, s.pulse) }))
        : [],
    }));
    return outcomeOf(s, { result, receipts, finishMs: t5 - t4, receiptsMs: performance.now() - t5 });
  }

  /**
   * Deletes what the retention policy no longer keeps, in bounded steps; never the snapshot of an
   * election draw still to come (its candidates and weights are read at the reveal window's end,
   * which may be further back than the policy keeps: 450 pulses with the default cycle).
   */
  pruneAll(): Promise<{ pulsesDropped: number; pagesDeleted: number }> {
    // Asked at each step: a prune that runs on while pulses commit holds what the head then needs.
    const hold = (head: number) => {
      const length = this.orgInfo?.params.electionCycle;
      return length === undefined || !this.holdDrawSnapshot ? undefined : drawHold(head, length);
    };
    return this.tree.pruneAll(10_000, hold);
  }

  /** The pulses readable now, ascending. */
  retained(): readonly number[] {
    return this.tree.retained();
  }

  /** Closes the store (the verifier belongs to the caller). */
  close(): Promise<void> {
    return this.tree.close();
  }
}

function corrupt<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DecodeError) throw new TreeError("CORRUPT", `${what}: ${err.message}`);
    throw err;
  }
}
