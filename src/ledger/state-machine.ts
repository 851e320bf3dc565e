/**
 * The ledger's state machine: one pulse's batch of transactions in, the accounts it changed and a
 * verdict per transaction out. Pure and deterministic: no clock, no I/O, no randomness; reads go
 * through a read-only view of the state before the pulse, so every bookkeeper and every auditor
 * replays it bit for bit. The rules per kind are in rules.ts; docs/PROTOCOL.md ("State machine")
 * states them for other implementations.
 *
 * Ordering rule: a batch is applied in canonical order, not in the order it was submitted: genesis
 * first, then the reward (it pays from what the organization's account held at the start of the
 * pulse, before any distribution), then the forfeit (it takes deposits before any acting
 * transaction could touch them), then by actor id (bytes), then nonce, then transaction id, then
 * (copies of one body) the signatures: count, then each public key and signature bytewise. So the
 * chief bookkeeper chooses which transactions go in a pulse but not their order.
 *
 * Funds received in a pulse can be spent from the next pulse on: a transaction spends only what its
 * actor held at the start of the pulse, less what it already spent in this pulse. This makes every
 * spend check independent of the order between different accounts.
 */
import { MAX_U64 } from "../smt/hash.js";
import { type Account, freshAccountData } from "./account.js";
import { applyRule } from "./rules.js";
import {
  type AccountChange,
  type BatchItem,
  type Entry,
  type LedgerView,
  type OrgInfo,
  type Overlay,
  Reject,
  type Transition,
  type TransitionOptions,
  type TxResult,
} from "./transition-types.js";
import type { Tx, TxBody } from "./tx.js";
import { isActing, TxKind } from "./tx.js";

export * from "./transition-types.js";

/** Where a kind comes in the canonical order: genesis, then the reward, then the forfeit, then the acting kinds. */
const RANK: Partial<Record<TxBody["kind"], number>> = {
  [TxKind.Genesis]: 0,
  [TxKind.Reward]: 1,
  [TxKind.Forfeit]: 2,
};

const actingOf = (b: TxBody) => (isActing(b) ? b : null);

/** The canonical order of a batch: indices into it (see the ordering rule above). */
export function canonicalOrder(items: readonly BatchItem[]): number[] {
  const idx = items.map((_, i) => i);
  const rank = (i: number) => RANK[items[i]!.tx.body.kind] ?? 3;
  return idx.sort((i, j) => {
    const ri = rank(i);
    const rj = rank(j);
    if (ri !== rj) return ri - rj;
    // Equal ranks: both acting, or both not (genesis, reward, forfeit), which go by id.
    const a = actingOf(items[i]!.tx.body);
    const b = actingOf(items[j]!.tx.body);
    if (a !== null && b !== null) {
      const c = Buffer.compare(a.actor, b.actor);
      if (c !== 0) return c;
      if (a.nonce !== b.nonce) return a.nonce < b.nonce ? -1 : 1;
    }
    const c = Buffer.compare(items[i]!.tx.id, items[j]!.tx.id);
    return c !== 0 ? c : compareSignatures(items[i]!.tx, items[j]!.tx);
  });
}

/** Orders copies of one body by their signatures, so that even their verdicts never depend on submission order. */
function compareSignatures(a: Tx, b: Tx): number {
  if (a.signatures.length !== b.signatures.length) return a.signatures.length - b.signatures.length;
  for (let k = 0; k < a.signatures.length; k++) {
    const sa = a.signatures[k]!;
    const sb = b.signatures[k]!;
    const c = Buffer.compare(sa.publicKey, sb.publicKey) || Buffer.compare(sa.signature, sb.signature);
    if (c !== 0) return c;
  }
  return 0;
}

/** Applies a batch at `pulse` to the state `view` describes. Pure: `view` is only read. */
export function transition(
  view: LedgerView,
  pulse: number,
  items: readonly BatchItem[],
  opts: TransitionOptions = {},
): Transition {
  const overlay = new AccountOverlay(view, pulse, opts.committee, opts.withheld);
  const results: TxResult[] = new Array(items.length);
  const seen = new Set<string>();
  let position = 0;
  let issued = 0n;
  for (const i of canonicalOrder(items)) {
    const { tx, check } = items[i]!;
    const key = tx.id.toString("latin1");
    try {
      if (check !== "OK")
        throw new Reject(
          check,
          check === "KEY_MISMATCH" ? "a signer's key is not the account's" : "a signature does not verify",
        );
      if (seen.has(key)) throw new Reject("DUPLICATE", "the same transaction is already in this batch");
      issued += applyRule(overlay, pulse, tx);
      seen.add(key);
      results[i] = { txId: tx.id, ok: true, position: position++ };
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      results[i] = { txId: tx.id, ok: false, reason: err.reason, message: err.message };
    }
  }
  const changes = overlay.changes(pulse);
  let delta = 0n;
  for (const c of changes) delta += c.after.amount - (c.before?.amount ?? 0n);
  if (delta !== issued) throw new Error(`conservation broken: balances moved by ${delta}, issued ${issued}`);
  return { org: overlay.org, genesis: overlay.genesis, results, changes, issued };
}

class AccountOverlay implements Overlay {
  private readonly entries = new Map<string, Entry>();
  org: OrgInfo | undefined;
  genesis: Tx | undefined;

  constructor(
    private readonly view: LedgerView,
    private readonly pulse: number,
    readonly committee: readonly Buffer[] | undefined,
    readonly withheld: readonly Buffer[] | undefined,
  ) {
    this.org = view.org;
  }

  get(id: Buffer): Entry {
    const k = id.toString("latin1");
    let e = this.entries.get(k);
    if (e === undefined) {
      const before = this.view.account(id);
      e = {
        id,
        before,
        cur: before ?? { amount: 0n, ...freshAccountData(this.pulse) },
        received: 0n,
        dirty: false,
      };
      this.entries.set(k, e);
    }
    return e;
  }

  setGenesis(org: OrgInfo, tx: Tx): void {
    this.org = org;
    this.genesis = tx;
  }

  changes(pulse: number): AccountChange[] {
    const out: AccountChange[] = [];
    for (const e of this.entries.values()) {
      if (!e.dirty) continue;
      let after = e.cur;
      if (e.before === undefined || dataChanged(e.before, after)) after = { ...after, updated: pulse };
      if (after.amount > MAX_U64) throw new Error("an amount passed u64");
      out.push({ id: e.id, before: e.before, after });
    }
    return out.sort((a, b) => Buffer.compare(a.id, b.id));
  }
}

const NONE = Buffer.alloc(0);

function dataChanged(a: Account, b: Account): boolean {
  return (
    a.nonce !== b.nonce ||
    a.frozen !== b.frozen ||
    a.deposit !== b.deposit ||
    a.role !== b.role ||
    a.candidate !== b.candidate ||
    a.policy !== b.policy ||
    a.vote?.weight !== b.vote?.weight ||
    !(a.vote?.candidate ?? NONE).equals(b.vote?.candidate ?? NONE) ||
    !(a.commitment ?? NONE).equals(b.commitment ?? NONE) ||
    a.reveal?.cycle !== b.reveal?.cycle ||
    !(a.reveal?.secret ?? NONE).equals(b.reveal?.secret ?? NONE)
  );
}
