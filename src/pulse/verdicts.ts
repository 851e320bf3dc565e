/**
 * Transactions' verdicts as the pulse service keeps them: the recent ones remembered for status
 * queries, callers waiting for one, and the rule that turns a pulse's results into one verdict per
 * transaction id. Shared by the bookkeeper's two ways of making a pulse final (alone, or with its
 * committee: finality.ts).
 */
import type { TxResult } from "../ledger/state-machine.js";
import type { TxVerdict } from "./events.js";

/** Where a transaction is. */
export type TxStatus =
  | { readonly txId: string; readonly state: "pending" }
  | { readonly txId: string; readonly state: "unknown" }
  | TxVerdict;

/** Recent verdicts and the callers waiting for them. */
export class Verdicts {
  private readonly memory = new Map<string, TxVerdict>();
  private readonly waiters = new Map<string, ((v: TxStatus) => void)[]>();

  /** @param max verdicts remembered (the oldest go first) */
  constructor(private readonly max: number) {}

  get(txId: string): TxVerdict | undefined {
    return this.memory.get(txId);
  }

  forget(txId: string): void {
    this.memory.delete(txId);
  }

  /** Remembers a verdict and hands it to whoever waits for it. */
  settle(v: TxVerdict): void {
    this.memory.set(v.txId, v);
    if (this.memory.size > this.max) {
      // Maps iterate in insertion order: the first key is the oldest verdict.
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
    const ws = this.waiters.get(v.txId);
    this.waiters.delete(v.txId);
    for (const w of ws ?? []) w(v);
  }

  /** Tells the waiters of `ids` that their transactions will get no verdict. */
  wake(ids: Iterable<string>): void {
    for (const txId of ids) {
      const ws = this.waiters.get(txId);
      this.waiters.delete(txId);
      for (const w of ws ?? []) w({ txId, state: "unknown" });
    }
  }

  /** Waits for a pending transaction's verdict; rejects if `signal` aborts first. */
  wait(txId: string, signal: AbortSignal): Promise<TxStatus> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(txId) ?? [];
      const onAbort = () => {
        const l = this.waiters.get(txId);
        const i = l?.indexOf(done) ?? -1;
        if (i >= 0) l!.splice(i, 1);
        if (l?.length === 0) this.waiters.delete(txId);
        reject(signal.reason);
      };
      const done = (v: TxStatus) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      };
      list.push(done);
      this.waiters.set(txId, list);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * One verdict per transaction id of a pulse's results. Of several copies of one transaction, an
 * accepted one is the verdict; a copy refused because an earlier pulse accepted the transaction
 * (it was sent again while that pulse was being written) leaves the transaction accepted then.
 */
export function verdictsOf(
  results: readonly TxResult[],
  pulse: number,
  slot: number,
  acceptedEarlier: (txId: Buffer) => number | undefined,
): { verdicts: Map<string, TxVerdict>; rejected: number } {
  const byId = new Map<string, TxVerdict>();
  let rejected = 0;
  for (const r of results) {
    if (!r.ok) rejected++;
    // A transaction that does not decode has no id (a peer's proposal may carry one): no verdict.
    if (r.txId === undefined) continue;
    const txId = r.txId.toString("hex");
    if (byId.get(txId)?.state === "accepted") continue;
    const earlier = r.ok ? undefined : acceptedEarlier(r.txId);
    byId.set(
      txId,
      r.ok
        ? { txId, state: "accepted", pulse }
        : earlier !== undefined
          ? { txId, state: "accepted", pulse: earlier }
          : { txId, state: "rejected", reason: r.reason, message: r.message, slot },
    );
  }
  return { verdicts: byId, rejected };
}
