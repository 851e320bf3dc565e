/**
 * The ledger as it will be once a prepared pulse commits, as the draw reads it (an ElectionSource).
 * With a 4-pulse election cycle the draw's seed pulse is the cycle's last (cycle.ts), so the
 * committee that keeps the next pulse depends on the very pulse being proposed: its proposer and
 * validators draw it over this view before the pulse is final. The view answers the prepared pulse
 * (the head, its accounts and root) from the prepared state and every older pulse from the ledger,
 * so a draw over it gives what the same draw over the ledger gives after the commit.
 */
import type { Account } from "../ledger/account.js";
import type { Summary } from "../smt/hash.js";
import type { ElectionSource } from "./accounts.js";

/** What the view reads of a prepared pulse (a Ledger's PreparedPulse is one). */
export interface PreparedState {
  readonly pulse: number;
  /** The root the pulse will have once committed. */
  readonly root: Summary;
  /** An account as the pulse leaves it. */
  account(id: Buffer): Account | undefined;
}

/**
 * `base` with `prepared` (its head + 1) applied on top. Throws RangeError unless `prepared` is the
 * pulse after `base`'s head. Enumerating the prepared pulse's accounts is refused (RangeError): the
 * draw enumerates only its snapshot, which is always before its seed pulse.
 */
export function preparedSource(base: ElectionSource, prepared: PreparedState): ElectionSource {
  const p = prepared.pulse;
  if (base.head === undefined || p !== base.head + 1)
    throw new RangeError(`pulse ${p} is not the one after the ledger's head ${base.head ?? "(none)"}`);
  const isPrepared = (pulse: number | undefined) => pulse === undefined || pulse === p;
  return {
    org: base.org,
    head: p,
    account: (id, pulse) => (isPrepared(pulse) ? prepared.account(id) : base.account(id, pulse)),
    rootAt: (pulse) => (isPrepared(pulse) ? prepared.root : base.rootAt(pulse)),
    accountsAt: (pulse) => {
      if (pulse === p) throw new RangeError(`the accounts of pulse ${p} cannot be listed before it commits`);
      return base.accountsAt(pulse);
    },
  };
}
