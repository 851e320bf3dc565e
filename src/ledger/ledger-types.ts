/** The types a Ledger speaks in: its options and what a pulse returns (ledger.ts is the class). */
import type { BatchVerifier } from "../crypto/verify-batch.js";
import type { Summary } from "../smt/hash.js";
import type { Proof } from "../smt/proof.js";
import type { Account } from "./account.js";
import type { TxResult } from "./state-machine.js";
import type { VersionedTreeOptions } from "./store.js";

/** Options of a Ledger. */
export interface LedgerOptions extends VersionedTreeOptions {
  /** Verifies a batch's signatures (a VerifyPool uses every core). @default an InlineVerifier */
  verifier?: BatchVerifier;
  /**
   * Bytes of head-state accounts kept decoded in memory, so an active account costs no tree walk and
   * no LevelDB read (0 turns it off). @default 32 MiB
   */
  accountCacheBytes?: number;
  /**
   * Keep an index of accepted transactions (txId -> pulse and bytes) and each pulse's batch record
   * (its accepted transactions' ids in order) in the same atomic batch as the pulse, so a receipt
   * can be rebuilt after a restart (findTx) and a pulse replayed to a peer (batchAt). @default false
   */
  indexTxs?: boolean;
  /**
   * Keep the snapshot of the election draw still to come, however few pulses `retention` keeps
   * (the draw reads it at the reveal window's end, a quarter cycle later). Off only where a test
   * needs the bare policy. @default true
   */
  holdDrawSnapshot?: boolean;
}

/** Options of one pulse. */
export interface ApplyOptions {
  /** Put each party's proof in the receipts (costs a proof per party). @default true */
  proofs?: boolean;
  /**
   * Commit nothing when no transaction changes the state (every one rejected, or none): the pulse
   * number then does not grow (DESIGN.md: the pulse number grows only when the state changes), and
   * the outcome says `committed: false`. A reward or forfeit alone does not count as a change: each
   * rides on a pulse that the batch's other transactions make. @default false
   */
  skipUnchanged?: boolean;
  /**
   * The committee that finalizes this pulse, in drawn order: what a reward transaction must name.
   * Without it a reward is rejected (NO_COMMITTEE); nothing else reads it.
   */
  committee?: readonly Buffer[];
  /**
   * The candidates that withheld their reveal in the cycle whose forfeit is due in this pulse
   * (election/committee.ts `Committee.withheld`): what a forfeit transaction must name. Without it
   * a forfeit is rejected (NO_WITHHELD); nothing else reads it.
   */
  withheld?: readonly Buffer[];
}

/** What a pulse's commit writes besides the pulse itself, in the same atomic batch. */
export interface PulseExtras {
  /**
   * The certificate that made the pulse final (opaque bytes: the ledger does not check them), kept
   * for Ledger.certificateAt. Not stored when the commit writes nothing (skipUnchanged).
   */
  certificate?: Uint8Array;
}

/** What an accepted transaction's parties get: the pulse, its root synopsis and their proofs. */
export interface Receipt {
  readonly txId: Buffer;
  readonly pulse: number;
  readonly root: Summary;
  /** Each party's inclusion proof at `pulse` (empty when proofs were not asked for). */
  readonly proofs: readonly { readonly id: Buffer; readonly proof: Proof }[];
}

/** The outcome of one pulse. */
export interface PulseOutcome {
  readonly pulse: number;
  /** False when `skipUnchanged` kept an unchanged pulse out of the store (root is the head's then). */
  readonly committed: boolean;
  readonly root: Summary;
  /** One verdict per submitted transaction, in submission order. */
  readonly results: readonly TxResult[];
  /** One receipt per accepted transaction, in order of application. */
  readonly receipts: readonly Receipt[];
  readonly accountsChanged: number;
  readonly issued: bigint;
  /** Tree pages the pulse wrote. */
  readonly pagesWritten: number;
  /** Bytes of the pulse's atomic write (keys and values). */
  readonly bytesWritten: number;
  /** Where the time went, in milliseconds (for operators and benchmarks; not part of the result). */
  readonly timings: PulseTimings;
}

/** Milliseconds spent in each step of a pulse. */
export interface PulseTimings {
  readonly decode: number;
  readonly verify: number;
  readonly transition: number;
  readonly commit: number;
  readonly receipts: number;
}

/**
 * A pulse computed but not written (Ledger.prepare), for a bookkeeper to vote on its root before the
 * pulse is final. Nothing is on disk and the head is unchanged until `commit`. Several may be
 * prepared for one pulse number (proposals of different rounds): committing one makes the others
 * stale.
 */
export interface PreparedPulse {
  readonly pulse: number;
  /** The root the pulse will have once committed (the head's when nothing changed). */
  readonly root: Summary;
  /** One verdict per submitted transaction, in submission order. */
  readonly results: readonly TxResult[];
  /** False when `skipUnchanged` found nothing to change: commit then writes nothing. */
  readonly changed: boolean;
  readonly accountsChanged: number;
  readonly issued: bigint;
  /**
   * An account as the pulse leaves it (what Ledger.account will answer once it is committed), or
   * undefined if it has no leaf: what a draw seeded by this very pulse reads before it is final.
   * Throws PulseError STALE once the ledger has committed any pulse since the prepare.
   */
  account(id: Buffer): Account | undefined;
  /**
   * Writes the pulse: the same batch and outcome as applyPulse, with `extras.certificate` in it.
   * Rejects with PulseError STALE, writing nothing, if the ledger committed any pulse since the
   * prepare, or if this one was committed or discarded already.
   */
  commit(extras?: PulseExtras): Promise<PulseOutcome>;
  /** Drops the pulse and frees what it holds; a later commit rejects. A no-op once committed. */
  discard(): void;
}
