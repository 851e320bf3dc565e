/**
 * A pulse applied in memory and not yet written (Ledger.prepare): a transition's changes staged as
 * the tree's leaf ops and the extras riding in its batch, and the handle a bookkeeper votes with
 * before the pulse is final (issue 7). Ledger.applyPulse is a prepare and an immediate commit.
 */
import type { Summary } from "../smt/hash.js";
import type { LeafOp } from "../smt/tree.js";
import { type Account, accountDataHash, copyAccount, encodeAccountData } from "./account.js";
import { dataKey, dataStaleTarget, metaKey, txKey } from "./keys.js";
import type { PreparedPulse, PulseExtras, PulseOutcome, Receipt } from "./ledger-types.js";
import { batchRecord } from "./records.js";
import type { BatchItem, OrgInfo, Transition, TxResult } from "./state-machine.js";
import { type CommitResult, type PreparedCommit, PulseError } from "./store-types.js";
import type { Tx } from "./tx.js";
import { txBytes } from "./tx-codec.js";

/** A head-state account after the pulse, for the account cache once committed. */
export interface FreshAccount {
  readonly key: string;
  readonly account: Account;
  readonly dataHash: Buffer;
}

/** What a transition writes: leaf ops for the tree, and account data and indexes beside it. */
export interface StagedChanges {
  readonly ops: LeafOp[];
  readonly fresh: FreshAccount[];
  readonly puts: { key: Buffer; value: Buffer }[];
  /** Account data the pulse retires (STALE targets). */
  readonly stale: Buffer[];
  /** Accepted transactions in order of application. */
  readonly accepted: Tx[];
  /** One verdict per submitted transaction, in submission order. */
  readonly results: TxResult[];
}

/**
 * Stages a transition: `hashes` holds the dataHash of each account the pulse read, `decoded` the
 * submitted batch (a string for each one that did not decode), `items` the decoded ones.
 */
export function stageChanges(
  t: Transition,
  hashes: ReadonlyMap<string, Buffer>,
  decoded: readonly (Tx | string)[],
  items: readonly BatchItem[],
  pulse: number,
  indexTxs: boolean,
): StagedChanges {
  const ops: LeafOp[] = [];
  const fresh: FreshAccount[] = [];
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
  if (indexTxs)
    for (const tx of accepted) {
      const enc = txBytes(tx);
      const value = Buffer.allocUnsafe(8 + enc.length);
      value.writeBigUInt64BE(BigInt(pulse), 0);
      enc.copy(value, 8);
      puts.push({ key: txKey(tx.id), value });
    }
  // Beside the index, the order of application: what a peer replays this pulse with (an empty
  // record for a pulse that accepted nothing, so a replay tells it from a pulse without a record).
  if (indexTxs) puts.push(batchRecord(pulse, accepted));
  return { ops, fresh, puts, stale, accepted, results };
}

/** A staged pulse: everything its commit needs, computed on one head. */
export interface StagedPulse {
  readonly pulse: number;
  /** The head it was staged on, and the ledger's commit count then (a commit since makes it stale). */
  readonly head: number | undefined;
  readonly commitsAt: number;
  readonly root: Summary;
  readonly results: readonly TxResult[];
  readonly accepted: readonly Tx[];
  readonly fresh: readonly FreshAccount[];
  /** The organization after the pulse. */
  readonly org: OrgInfo | undefined;
  readonly accountsChanged: number;
  readonly issued: bigint;
  /** The tree's prepared write; undefined when skipUnchanged found nothing to write. */
  readonly write: PreparedCommit | undefined;
  readonly proofs: boolean;
  /** Milliseconds so far: decode, verify, transition (staging included), and the tree's prepare. */
  readonly ms: {
    readonly decode: number;
    readonly verify: number;
    readonly transition: number;
    readonly tree: number;
  };
}

/** Why a staged pulse can no longer be committed: the ledger committed another since. */
export function staleError(s: StagedPulse, head: number | undefined): PulseError {
  return new PulseError(
    "STALE",
    `pulse ${s.pulse} was prepared on head ${s.head ?? "(none)"}, but the head is now ${head}: another pulse was committed since`,
  );
}

/** The outcome of a staged pulse: `written` and `receipts` once committed, nothing if unchanged. */
export function outcomeOf(
  s: StagedPulse,
  written?: { result: CommitResult; receipts: Receipt[]; finishMs: number; receiptsMs: number },
): PulseOutcome {
  const committed = written !== undefined;
  return {
    pulse: s.pulse,
    committed,
    root: s.root,
    results: s.results,
    receipts: written?.receipts ?? [],
    accountsChanged: s.accountsChanged,
    issued: s.issued,
    pagesWritten: written?.result.pagesWritten ?? 0,
    bytesWritten: written?.result.bytesWritten ?? 0,
    timings: {
      decode: s.ms.decode,
      verify: s.ms.verify,
      transition: s.ms.transition,
      commit: committed ? s.ms.tree + written.finishMs : 0,
      receipts: written?.receiptsMs ?? 0,
    },
  };
}

/** What a handle asks of its ledger. */
export interface PulseWriter {
  /** Writes a staged pulse after every earlier pulse step, or rejects (STALE) if it is out of date. */
  commit(s: StagedPulse, extras: PulseExtras): Promise<PulseOutcome>;
  /** Frees what a staged pulse holds in the store. */
  discard(s: StagedPulse): void;
  /** An account the staged pulse does not change, at the head it was staged on (STALE if it moved). */
  unchanged(s: StagedPulse, id: Buffer): Account | undefined;
}

/** The PreparedPulse a Ledger hands out: commit or discard it, once. */
export class PulseHandle implements PreparedPulse {
  private state: "open" | "committed" | "discarded" = "open";
  /** The accounts the pulse changes, by id (latin1), made on the first read. */
  private changes: Map<string, Account> | undefined;

  constructor(
    private readonly staged: StagedPulse,
    private readonly writer: PulseWriter,
  ) {}

  get pulse(): number {
    return this.staged.pulse;
  }

  get root(): Summary {
    return this.staged.root;
  }

  get results(): readonly TxResult[] {
    return this.staged.results;
  }

  get changed(): boolean {
    return this.staged.write !== undefined;
  }

  get accountsChanged(): number {
    return this.staged.accountsChanged;
  }

  get issued(): bigint {
    return this.staged.issued;
  }

  account(id: Buffer): Account | undefined {
    this.changes ??= new Map(this.staged.fresh.map((f) => [f.key, f.account]));
    const changed = this.changes.get(id.toString("latin1"));
    // A copy, as Ledger.account gives: the staged object is what the commit caches.
    return changed === undefined ? this.writer.unchanged(this.staged, id) : copyAccount(changed);
  }

  commit(extras: PulseExtras = {}): Promise<PulseOutcome> {
    if (this.state !== "open")
      return Promise.reject(
        new PulseError("STALE", `this prepared pulse ${this.pulse} was ${this.state} already`),
      );
    this.state = "committed";
    return this.writer.commit(this.staged, extras);
  }

  discard(): void {
    // Once commit is called the write is the ledger's: discarding then would race it.
    if (this.state !== "open") return;
    this.state = "discarded";
    this.writer.discard(this.staged);
  }
}
