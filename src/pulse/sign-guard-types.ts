/**
 * The sign guard's public types and its error, apart from the guard (sign-guard.ts) so that its
 * in-memory state and its formats can use them without an import cycle. Callers import them from
 * sign-guard.ts, which re-exports them.
 */
import { CodedError } from "../util/errors.js";

/** Why the guard refused or failed. */
export type SignGuardErrorCode =
  /** A different content was approved for this slot before: signing would be double signing. */
  | "CONFLICT"
  /** The pulse is below the floor of pruned records: double signing there could not be ruled out. */
  | "STALE"
  /** The guard file is damaged (the message names the line). */
  | "CORRUPT"
  /** The guard file or an export document is not in a format this version reads. */
  | "FORMAT"
  /** import onto a guard file that already holds votes. */
  | "EXISTS"
  /** The file is already open in this process. */
  | "IN_USE"
  /** The guard was closed. */
  | "CLOSED"
  /** A write failed; nothing was approved. */
  | "IO"
  /** An earlier write failed, so what the file holds is unknown until it is reopened. */
  | "BROKEN";

/** A guard refusal or failure, in words an operator can act on. */
export class SignGuardError extends CodedError<SignGuardErrorCode> {}

/** The steps of a round, as the guard names them. */
export type GuardStep = "propose" | "prevote" | "precommit";

/** The steps, in round order. */
export const GUARD_STEPS: readonly GuardStep[] = ["propose", "prevote", "precommit"];

/** What `approve` is asked about: one signature of one slot. */
export interface GuardedVote {
  /** The organization's 20-byte id. */
  readonly org: Uint8Array;
  readonly pulse: number;
  readonly round: number;
  readonly step: GuardStep;
  /** The 32-byte hash of what would be signed. */
  readonly content: Uint8Array;
}

/** Pulses of records kept per organization by default. */
export const KEEP_PULSES = 10_000;
/** Pruned records left in the file before it is rewritten, by default. */
export const PRUNE_THRESHOLD = 10_000;

/** Options of SignGuard.open and SignGuard.import. */
export interface SignGuardOptions {
  /** Records are kept for pulses >= (the org's highest pulse - keepPulses); older votes are STALE. @default 10000 */
  readonly keepPulses?: number;
  /** Rewrite the file when more than this many of its records are pruned. @default 10000 */
  readonly pruneThreshold?: number;
}

/** A torn last line dropped on open. */
export interface GuardRepair {
  /** Its line number (1-based, the header is line 1). */
  readonly line: number;
  /** Bytes cut off the end of the file. */
  readonly bytes: number;
}
