/**
 * The types a pulse's transition speaks in: the state view it reads, the verdicts it gives, the
 * accounts it changes. Shared by state-machine.ts (the loop) and rules.ts (one rule per kind).
 */
import type { Account } from "./account.js";
import type { OrgParams, Tx } from "./tx.js";

/** The organization a ledger belongs to. */
export interface OrgInfo {
  /** The organization id: the account id of the organization's key, also its own account. */
  readonly id: Buffer;
  readonly params: OrgParams;
}

/** What a pulse's transition is told besides its batch. */
export interface TransitionOptions {
  /**
   * The committee that finalizes the pulse, in drawn order: the recipients a reward must name.
   * Without it a reward is rejected (NO_COMMITTEE).
   */
  readonly committee?: readonly Buffer[];
  /**
   * The candidates that withheld their reveal in the cycle whose forfeit is due in this pulse
   * (the first after its reveal window), ascending by id: what a forfeit must name. Without it a
   * forfeit is rejected (NO_WITHHELD); nothing else reads it.
   */
  readonly withheld?: readonly Buffer[];
}

/** Read-only state before a pulse. */
export interface LedgerView {
  /** Undefined before genesis. */
  readonly org: OrgInfo | undefined;
  /** An account, or undefined if it has no leaf. */
  account(id: Buffer): Account | undefined;
}

/** Why a transaction was rejected. A rejection never stops the rest of the batch. */
export type RejectReason =
  | "DECODE"
  | "BAD_SIGNATURE"
  | "KEY_MISMATCH"
  | "DUPLICATE"
  | "NO_ORG"
  | "ORG_EXISTS"
  | "WRONG_ORG"
  | "BAD_PARAMS"
  | "EXPIRED"
  | "ORG_ACCOUNT"
  | "NONCE"
  | "BAD_AMOUNT"
  | "SELF"
  | "INSUFFICIENT_FUNDS"
  | "PAYEE_SIGNATURE"
  | "OVERFLOW"
  | "NOT_SUPERVISOR"
  | "NOT_MEMBER"
  | "NOT_APPLICANT"
  | "ALREADY_MEMBER"
  | "BAD_ROLE"
  | "DEPOSIT"
  | "NOT_CANDIDATE"
  | "VOTE_WEIGHT"
  | "REVEAL_WINDOW"
  | "ALREADY_REVEALED"
  | "BAD_REVEAL"
  | "NO_REWARD"
  | "REWARD_PULSE"
  | "NO_COMMITTEE"
  | "REWARD_RECIPIENTS"
  | "FORFEIT_PULSE"
  | "NO_WITHHELD"
  | "FORFEIT_CANDIDATES";

/** Outcome of the checks that need no state: signer keys match the ids, signatures verify. */
export type StaticCheck = "OK" | "BAD_SIGNATURE" | "KEY_MISMATCH";

/** A decoded transaction and its static check. */
export interface BatchItem {
  readonly tx: Tx;
  readonly check: StaticCheck;
}

/** The verdict on one transaction. */
export type TxResult =
  | {
      readonly txId: Buffer;
      readonly ok: true /** Place in the order of application. */;
      readonly position: number;
    }
  | {
      readonly txId: Buffer | undefined;
      readonly ok: false;
      readonly reason: RejectReason;
      readonly message: string;
    };

/** One account the pulse changed. */
export interface AccountChange {
  readonly id: Buffer;
  /** Undefined if the account had no leaf. */
  readonly before: Account | undefined;
  readonly after: Account;
}

/** What a pulse's batch does. */
export interface Transition {
  /** The organization after the pulse (set by genesis). */
  readonly org: OrgInfo | undefined;
  /** The genesis transaction applied in this pulse, if any. */
  readonly genesis: Tx | undefined;
  /** One verdict per item, in the batch's order. */
  readonly results: TxResult[];
  /** Changed accounts, ascending by id. */
  readonly changes: AccountChange[];
  /** Tokens created by this pulse (the genesis supply); the sum at the root grows by exactly this. */
  readonly issued: bigint;
}

/** A transaction's rejection, thrown by a rule before it changes anything. */
export class Reject extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/** A mutable account inside one pulse. */
export interface Entry {
  readonly id: Buffer;
  readonly before: Account | undefined;
  cur: Account;
  /** Received in this pulse: not spendable before the next. */
  received: bigint;
  dirty: boolean;
}

/** What a rule may do to the pulse's accounts. */
export interface Overlay {
  readonly org: OrgInfo | undefined;
  /** The pulse's committee, when the caller gave it (TransitionOptions). */
  readonly committee: readonly Buffer[] | undefined;
  /** The withheld reveals a forfeit must name, when the caller gave them (TransitionOptions). */
  readonly withheld: readonly Buffer[] | undefined;
  /** The account's entry (a fresh zero account if it has no leaf). */
  get(id: Buffer): Entry;
  setGenesis(org: OrgInfo, tx: Tx): void;
}
