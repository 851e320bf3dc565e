/**
 * An account's state. The tree leaf holds `amount` (SPEC-smt.md); everything else is the account's
 * data, whose SHA-256 is the leaf's `dataHash`. Encoding v1 (docs/PROTOCOL.md, "Account data"):
 *
 *   u8 1 | u64 nonce | u64 frozen | u64 deposit | u8 role | u8 candidate | u8 policy
 *        | u8 hasVote [| candidate[20] | u64 weight] [| commitment[32] iff candidate = 1]
 *        | u8 hasReveal [| u32 cycle | secret[32]] | u64 updated
 */
import { sha256 } from "../smt/hash.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";

/** An account's role in its organization. */
export const Role = { None: 0, Applicant: 1, Guest: 2, Member: 3, Supervisor: 4 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** How an account takes incoming transfers. */
export const Policy = {
  /** Each incoming transfer needs the payee's own signature. */
  Countersign: 0,
  /** The payee's policy stands for its signature. */
  AcceptAll: 1,
} as const;
export type Policy = (typeof Policy)[keyof typeof Policy];

/** An account's current vote: for whom, and with how much of its balance. */
export interface Vote {
  readonly candidate: Buffer;
  /** > 0 and never above the account's amount. */
  readonly weight: bigint;
}

/** A candidate's last reveal: the secret it revealed in the reveal window of `cycle`. */
export interface Reveal {
  /** The election cycle (u32) whose reveal window the reveal was applied in. */
  readonly cycle: number;
  /** 32 bytes; SHA-256("LEITHER\0commit" ‖ secret) was the commitment it opened. */
  readonly secret: Buffer;
}

/** Everything about an account except its amount: what the leaf's dataHash commits to. */
export interface AccountData {
  /** Number of transactions this account has signed as actor; the next one carries nonce + 1. */
  readonly nonce: bigint;
  /** Part of the amount frozen by a dispute: it cannot move. */
  readonly frozen: bigint;
  /** Part of the amount pledged as a bookkeeper candidate's deposit: it cannot move. */
  readonly deposit: bigint;
  readonly role: Role;
  /** Declared bookkeeper candidate. */
  readonly candidate: boolean;
  readonly policy: Policy;
  readonly vote: Vote | null;
  /**
   * A candidate's commitment to the secret of its next reveal (32 bytes): set iff `candidate`, so
   * that every candidate can take part in a draw and no one else holds one.
   */
  readonly commitment: Buffer | null;
  /** The last reveal, kept so the draw can read it at the seed pulse (docs/PROTOCOL.md §12). */
  readonly reveal: Reveal | null;
  /**
   * Pulse at which this data last changed. Besides telling when, it makes each version's dataHash
   * unique, which the store's account-data index relies on (docs/PROTOCOL.md, "Ledger store").
   */
  readonly updated: number;
}

/** An account: its leaf's amount and its data. */
export interface Account extends AccountData {
  /** All it holds, frozen and pledged parts included. */
  readonly amount: bigint;
}

/** Version byte of the account data encoding. */
export const ACCOUNT_DATA_V1 = 1;

/** The data of an account that has never been written. */
export function freshAccountData(updated: number): AccountData {
  return {
    nonce: 0n,
    frozen: 0n,
    deposit: 0n,
    role: Role.None,
    candidate: false,
    policy: Policy.Countersign,
    vote: null,
    commitment: null,
    reveal: null,
    updated,
  };
}

/** A copy sharing no Buffer with `a` (its vote's candidate, commitment and reveal secret). */
export function copyAccount(a: Account): Account {
  return {
    ...a,
    vote: a.vote === null ? null : { ...a.vote, candidate: Buffer.from(a.vote.candidate) },
    commitment: a.commitment === null ? null : Buffer.from(a.commitment),
    reveal: a.reveal === null ? null : { ...a.reveal, secret: Buffer.from(a.reveal.secret) },
  };
}

/** What can move: amount minus the frozen and pledged parts (0 if those exceed it). */
export function spendable(a: Account): bigint {
  const locked = a.frozen + a.deposit;
  return a.amount > locked ? a.amount - locked : 0n;
}

/** The canonical encoding of an account's data. */
export function encodeAccountData(d: AccountData): Buffer {
  // The same rules the decoder enforces, so that no encoding it would refuse is ever written.
  if (
    !Number.isInteger(d.role) ||
    d.role < Role.None ||
    d.role > Role.Supervisor ||
    (d.policy !== 0 && d.policy !== 1)
  )
    throw new RangeError(`account data: bad role ${d.role} or policy ${d.policy}`);
  if (d.vote !== null && (d.vote.weight <= 0n || d.vote.candidate.length !== 20))
    throw new RangeError("account data: a vote has a 20-byte candidate and a weight above 0");
  if (d.candidate !== (d.commitment !== null) || (d.commitment !== null && d.commitment.length !== 32))
    throw new RangeError("account data: a candidate, and only a candidate, has a 32-byte commitment");
  if (
    d.reveal !== null &&
    (!Number.isInteger(d.reveal.cycle) ||
      d.reveal.cycle < 0 ||
      d.reveal.cycle > 0xffffffff ||
      d.reveal.secret.length !== 32)
  )
    throw new RangeError("account data: a reveal has a u32 cycle and a 32-byte secret");
  if (!Number.isSafeInteger(d.updated) || d.updated < 0)
    throw new RangeError(`account data: updated must be a pulse number, got ${d.updated}`);
  const w = new Writer(144);
  w.u8(ACCOUNT_DATA_V1).u64(d.nonce).u64(d.frozen).u64(d.deposit);
  w.u8(d.role)
    .u8(d.candidate ? 1 : 0)
    .u8(d.policy);
  if (d.vote === null) w.u8(0);
  else w.u8(1).bytes(d.vote.candidate).u64(d.vote.weight);
  if (d.commitment !== null) w.bytes(d.commitment);
  if (d.reveal === null) w.u8(0);
  else w.u8(1).u32(d.reveal.cycle).bytes(d.reveal.secret);
  w.u64n(d.updated);
  return w.finish();
}

/** Decodes account data; throws DecodeError unless `bytes` is exactly one canonical encoding. */
export function decodeAccountData(bytes: Uint8Array): AccountData {
  const r = new Reader(bytes);
  const v = r.u8("account data version");
  if (v !== ACCOUNT_DATA_V1) throw new DecodeError(`unknown account data version ${v}`);
  const nonce = r.u64("nonce");
  const frozen = r.u64("frozen");
  const deposit = r.u64("deposit");
  const role = readRole(r, "role");
  const candidate = readBool(r, "candidate");
  const policy = r.u8("policy");
  if (policy !== Policy.Countersign && policy !== Policy.AcceptAll)
    throw new DecodeError(`unknown policy ${policy}`);
  let vote: Vote | null = null;
  if (readBool(r, "vote flag")) {
    const candidateId = Buffer.from(r.bytes(20, "vote candidate"));
    const weight = r.u64("vote weight");
    if (weight === 0n) throw new DecodeError("a vote of weight 0 is written as no vote");
    vote = { candidate: candidateId, weight };
  }
  // A candidate's commitment has no flag of its own: the candidate byte says whether it is there.
  const commitment = candidate ? Buffer.from(r.bytes(32, "commitment")) : null;
  let reveal: Reveal | null = null;
  if (readBool(r, "reveal flag"))
    reveal = { cycle: r.u32("reveal cycle"), secret: Buffer.from(r.bytes(32, "reveal secret")) };
  const updated = r.u64Number("updated");
  r.end("account data");
  return { nonce, frozen, deposit, role, candidate, policy, vote, commitment, reveal, updated };
}

/** SHA-256 of the encoded data: the leaf's dataHash. */
export function accountDataHash(encoded: Uint8Array): Buffer {
  return sha256(encoded);
}

/** Reads a role byte (0-4). */
export function readRole(r: Reader, what: string): Role {
  const v = r.u8(what);
  if (v > Role.Supervisor) throw new DecodeError(`${what}: unknown role ${v}`);
  return v as Role;
}

/** Reads a boolean byte (0 or 1 only). */
export function readBool(r: Reader, what: string): boolean {
  const v = r.u8(what);
  if (v > 1) throw new DecodeError(`${what}: ${v} is not 0 or 1`);
  return v === 1;
}
