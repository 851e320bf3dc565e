/** What one pulse's round state works on and is given (finality-round.ts). */
import type { PreparedPulse } from "../ledger/ledger.js";
import type { Decided, FinalityOptions } from "./finality.js";

/** What the committee agrees on: a batch, the root it leads to and the committee after it. */
export interface FinalityValue {
  readonly txs: readonly Buffer[];
  readonly root: { readonly hash: Buffer; readonly sum: bigint; readonly count: number };
  readonly batchHash: Buffer;
  /** committeeHash of the committee that keeps the next pulse. */
  readonly next: Buffer;
}

/** Options of one pulse's round state (the service's, plus what it hands down). */
export interface PulseRoundOptions extends Omit<FinalityOptions, "committee"> {
  readonly pulse: number;
  readonly committee: readonly Buffer[];
  /** committeeHash of the committee that keeps the next pulse once `prepared` (this pulse) commits (next-committee.ts). */
  readonly nextCommittee: (prepared: PreparedPulse) => Buffer;
  /** The transactions to propose now. */
  readonly pool: () => Buffer[];
  /** Transactions this node would have proposed, refused since they change nothing. */
  readonly refuse: (txs: readonly Buffer[], prepared: PreparedPulse) => void;
  readonly decided: (d: Decided, proposalBytes: Buffer) => void;
  /** The round ended without committing (its commit failed, e.g. catching up committed the pulse first). */
  readonly abandoned?: () => void;
  /** Evidence this node found. */
  readonly evidence: (ev: Buffer) => void;
}
