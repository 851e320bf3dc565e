/**
 * What the committee draw reads from a ledger: the draw needs each candidate and each vote at the
 * snapshot, so besides accounts by id it enumerates every account of a pulse. A Ledger
 * (src/ledger/ledger.ts) is one as it is; the interface lets the draw run on other sources too.
 */
import type { Account } from "../ledger/account.js";
import type { KV } from "../ledger/kv.js";
import type { Ledger } from "../ledger/ledger.js";
import type { OrgInfo } from "../ledger/transition-types.js";
import type { Summary } from "../smt/hash.js";

/** What the committee computation reads: the organization, accounts, roots, and every account of a pulse. */
export interface ElectionSource {
  readonly org: OrgInfo | undefined;
  /** The newest committed pulse. */
  readonly head: number | undefined;
  account(id: Buffer, pulse?: number): Account | undefined;
  rootAt(pulse?: number): Summary;
  /** Every account with a leaf at a retained pulse, by id ascending. */
  accountsAt(pulse: number): Iterable<{ readonly id: Buffer; readonly account: Account }>;
}

/**
 * The Ledger as an ElectionSource: the ledger itself, which enumerates its own accounts now.
 * @deprecated pass the Ledger; `kv` (the store it was opened on, which the walk used to read) is ignored.
 */
export function ledgerSource(ledger: Ledger, _kv?: KV): ElectionSource {
  return ledger;
}
