/**
 * A ledger: the versioned tree of accounts plus each account's data, and the pulse step that
 * decodes a batch, verifies its signatures (across cores), runs the pure state machine and commits
 * the result in one atomic write. Every retained pulse's accounts and proofs stay readable.
 */
import { signingPayload } from "../crypto/domain.js";
import { type BatchVerifier, InlineVerifier, type SigItem } from "../crypto/verify-batch.js";
import type { Summary } from "../smt/hash.js";
import type { Proof } from "../smt/proof.js";
import { type LeafOp, TreeError } from "../smt/tree.js";
import { DecodeError } from "../util/bytes.js";
import { ClockCache } from "../util/clock-cache.js";
import { type Account, accountDataHash, decodeAccountData, encodeAccountData } from "./account.js";
import { dataKey, dataStaleTarget, metaKey, txKey } from "./keys.js";
import type { KV } from "./kv.js";
import type { ApplyOptions, LedgerOptions, PulseOutcome } from "./ledger-types.js";
import { keysMatch, partiesOf } from "./rules.js";
import {
  type BatchItem,
  type LedgerView,
  type OrgInfo,
  type StaticCheck,
  type TxResult,
  transition,
} from "./state-machine.js";
import { VersionedTree } from "./store.js";
import type { Tx } from "./tx.js";
import { decodeTx, signerIds, txBytes } from "./tx-codec.js";

export type { ApplyOptions, LedgerOptions, PulseOutcome, PulseTimings, Receipt } from "./ledger-types.js";

/** Rough bytes of one cached account (its object, id key and dataHash). */
const ACCOUNT_ENTRY_BYTES = 400;

/** A head-state account as cached: undefined when it has no leaf. */
type CachedAccount = { readonly account: Account; readonly dataHash: Buffer } | undefined;

const CHECKED = Symbol("checked");

/** A batch decoded and its signatures verified (Ledger.check), ready for applyPulse. */
export interface CheckedBatch {
  readonly [CHECKED]: true;
  readonly decoded: readonly (Tx | string)[];
  readonly items: readonly BatchItem[];
  readonly decodeMs: number;
  readonly verifyMs: number;
}

function isChecked(x: readonly Uint8Array[] | CheckedBatch): x is CheckedBatch {
  return (x as CheckedBatch)[CHECKED] === true;
}

/** The ledger of one organization. */
export class Ledger implements LedgerView {
  private queue: Promise<unknown> = Promise.resolve();

  private readonly cache: ClockCache<CachedAccount>;
  private readonly cacheOn: boolean;

  private constructor(
    private readonly tree: VersionedTree,
    private readonly verifier: BatchVerifier,
    private orgInfo: OrgInfo | undefined,
    cacheBytes: number,
    private readonly indexTxs: boolean,
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
    if (a === undefined) return undefined;
    return { ...a, vote: a.vote === null ? null : { ...a.vote, candidate: Buffer.from(a.vote.candidate) } };
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
    const raw = this.tree.get(dataKey(id, leaf.dataHash));
    if (raw === undefined)
      throw new TreeError("CORRUPT", `account ${id.toString("hex")}: its data is missing from the store`);
    if (!accountDataHash(raw).equals(leaf.dataHash))
      throw new TreeError("CORRUPT", `account ${id.toString("hex")}: its data does not match its dataHash`);
    const account = { amount: leaf.amount, ...corrupt("account data", () => decodeAccountData(raw)) };
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

  /** One batch of several checked ones, in order (a bookkeeper checks as transactions arrive). */
  static mergeChecked(batches: readonly CheckedBatch[]): CheckedBatch {
    return {
      [CHECKED]: true,
      decoded: batches.flatMap((b) => b.decoded),
      items: batches.flatMap((b) => b.items),
      decodeMs: batches.reduce((a, b) => a + b.decodeMs, 0),
      verifyMs: batches.reduce((a, b) => a + b.verifyMs, 0),
    };
  }

  /**
   * Applies pulse `pulse` (head + 1) with the encoded transactions `txs`: bad ones are rejected with a
   * reason, the rest applied in canonical order, and the result committed in one atomic batch.
   */
  applyPulse(
    pulse: number,
    txs: readonly Uint8Array[] | CheckedBatch,
    opts: ApplyOptions = {},
  ): Promise<PulseOutcome> {
    // Checking needs no state, so it runs at once; only the state step waits for earlier pulses.
    const checked = isChecked(txs) ? Promise.resolve(txs) : this.check(txs);
    const run = Promise.all([checked, this.queue]).then(([c]) => this.doApply(pulse, c, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Decodes a batch and verifies its signatures: the part of a pulse that needs no state. A
   * bookkeeper runs it on the next pulse's transactions while the current pulse commits, and hands
   * the result to applyPulse.
   */
  async check(txs: readonly Uint8Array[]): Promise<CheckedBatch> {
    const t0 = performance.now();
    const decoded: (Tx | string)[] = txs.map((bytes) => {
      try {
        return decodeTx(bytes);
      } catch (err) {
        if (err instanceof DecodeError) return err.message;
        throw err;
      }
    });
    const t1 = performance.now();
    const items = await this.checkStatic(decoded.filter((d): d is Tx => typeof d !== "string"));
    return { [CHECKED]: true, decoded, items, decodeMs: t1 - t0, verifyMs: performance.now() - t1 };
  }

  /** Like check, for transactions already decoded (a bookkeeper decodes each on arrival). */
  async checkDecoded(txs: readonly Tx[]): Promise<CheckedBatch> {
    const t0 = performance.now();
    const items = await this.checkStatic(txs);
    return { [CHECKED]: true, decoded: txs, items, decodeMs: 0, verifyMs: performance.now() - t0 };
  }

  private async doApply(pulse: number, c: CheckedBatch, opts: ApplyOptions): Promise<PulseOutcome> {
    const { decoded, items } = c;
    const head = this.tree.head;
    const before = head === undefined ? 0n : this.tree.rootAt().sum;
    const t2 = performance.now();
    const hashes = new Map<string, Buffer>();
    const view: LedgerView = { org: this.orgInfo, account: (id) => this.readAccount(id, undefined, hashes) };
    const t = transition(view, pulse, items);
    const ops: LeafOp[] = [];
    const fresh: { key: string; account: Account; dataHash: Buffer }[] = [];
    const puts: { key: Buffer; value: Buffer }[] = [];
    const stale: Buffer[] = [];
    for (const c of t.changes) {
      const key = c.id.toString("latin1");
      // The pulse read every account it changed, so the old dataHash is known: data that did not
      // change (a payee's) is neither encoded nor hashed again.
      const oldHash = c.before === undefined ? undefined : hashes.get(key)!;
      let dataHash: Buffer;
      if (oldHash !== undefined && c.before!.updated === c.after.updated) dataHash = oldHash;
      else {
        const data = encodeAccountData(c.after);
        dataHash = accountDataHash(data);
        puts.push({ key: dataKey(c.id, dataHash), value: data });
        if (oldHash !== undefined) stale.push(dataStaleTarget(c.id, oldHash, c.before!.updated));
      }
      ops.push({ id: c.id, leaf: { amount: c.after.amount, dataHash } });
      fresh.push({ key, account: c.after, dataHash });
    }
    // Rebuilt from the decoded body (canonical: the same bytes), not the caller's buffer, which it may reuse.
    if (t.genesis !== undefined) puts.push({ key: metaKey("genesis"), value: txBytes(t.genesis) });
    const accepted: Tx[] = [];
    t.results.forEach((r, i) => {
      if (r.ok) accepted[r.position] = items[i]!.tx;
    });
    let k = 0;
    const results: TxResult[] = decoded.map((d) =>
      typeof d === "string" ? { txId: undefined, ok: false, reason: "DECODE", message: d } : t.results[k++]!,
    );
    if (opts.skipUnchanged === true && t.changes.length === 0 && t.genesis === undefined) {
      const root = this.tree.rootAt();
      return {
        pulse,
        committed: false,
        root,
        results,
        receipts: [],
        accountsChanged: 0,
        issued: 0n,
        pagesWritten: 0,
        bytesWritten: 0,
        timings: {
          decode: c.decodeMs,
          verify: c.verifyMs,
          transition: performance.now() - t2,
          commit: 0,
          receipts: 0,
        },
      };
    }
    if (this.indexTxs)
      for (const tx of accepted) {
        const enc = txBytes(tx);
        const value = Buffer.allocUnsafe(8 + enc.length);
        value.writeBigUInt64BE(BigInt(pulse), 0);
        enc.copy(value, 8);
        puts.push({ key: txKey(tx.id), value });
      }
    // Conservation at the root: the store refuses the batch unless sum after = sum before + issued.
    const t3 = performance.now();
    const commit = await this.tree.commit(pulse, ops, { puts, stale, expectSum: before + t.issued });
    const t4 = performance.now();
    this.orgInfo = t.org;
    // Only after the commit: a refused batch leaves the cache as the head is.
    if (this.cacheOn)
      for (const f of fresh)
        this.cache.set(f.key, { account: f.account, dataHash: f.dataHash }, ACCOUNT_ENTRY_BYTES);
    const receipts = accepted.map((tx) => ({
      txId: tx.id,
      pulse,
      root: commit.root,
      proofs:
        opts.proofs === false
          ? []
          : partiesOf(tx.body, t.org?.id).map((id) => ({ id, proof: this.tree.prove(id, pulse) })),
    }));
    return {
      pulse,
      committed: true,
      root: commit.root,
      results,
      receipts,
      accountsChanged: t.changes.length,
      issued: t.issued,
      pagesWritten: commit.pagesWritten,
      bytesWritten: commit.bytesWritten,
      timings: {
        decode: c.decodeMs,
        verify: c.verifyMs,
        transition: t3 - t2,
        commit: t4 - t3,
        receipts: performance.now() - t4,
      },
    };
  }

  /** Signers' keys against their ids, then every signature of the batch in one verifier call. */
  private async checkStatic(txs: readonly Tx[]): Promise<BatchItem[]> {
    const checks: StaticCheck[] = txs.map((tx) =>
      keysMatch(tx, signerIds(tx.body)) ? "OK" : "KEY_MISMATCH",
    );
    const sigs: SigItem[] = [];
    const owner: number[] = [];
    txs.forEach((tx, i) => {
      if (checks[i] !== "OK") return;
      const message = signingPayload(tx.bodyBytes);
      for (const s of tx.signatures) {
        sigs.push({ publicKey: s.publicKey, message, signature: s.signature });
        owner.push(i);
      }
    });
    const ok = await this.verifier.verifyBatch(sigs);
    for (let j = 0; j < sigs.length; j++) if (ok[j] !== 1) checks[owner[j]!] = "BAD_SIGNATURE";
    return txs.map((tx, i) => ({ tx, check: checks[i]! }));
  }

  /** Deletes what the retention policy no longer keeps, in bounded steps. */
  pruneAll(): Promise<{ pulsesDropped: number; pagesDeleted: number }> {
    return this.tree.pruneAll();
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
