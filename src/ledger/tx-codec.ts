/**
 * The canonical binary encoding of transactions (docs/PROTOCOL.md, "Transactions"). Every value has
 * exactly one encoding: fixed-width integers, enums and booleans checked, text in canonical UTF-8,
 * signature counts fixed per kind, and decoding rejects trailing bytes.
 *
 *   body = u8 format(1) | u8 kind | org[20] | kind fields        (what the signatures cover)
 *   tx   = body | u8 n | n x (publicKey[32] | signature[64])
 *
 * A reward (kind 0x0e) is the one kind with no signature (n = 0): the committee's proposer puts it in
 * its batch and the pulse's certificate makes it final.
 */
import { hash } from "node:crypto";
import { MESSAGE_FORMAT_V1, MessageKind, signingPayload } from "../crypto/domain.js";
import { SIGNATURE_BYTES, type Signer } from "../crypto/ed25519.js";
import { MAX_U64 } from "../smt/hash.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";
import { Policy, Role, readBool, readRole } from "./account.js";
import {
  type Acting,
  type DistributionLine,
  type OrgParams,
  RewardCategory,
  type SignedTx,
  TX_LIMITS,
  type Tx,
  type TxBody,
  type TxOf,
  type TxSignature,
} from "./tx.js";

const ZERO_ID = Buffer.alloc(20);

/** How many signatures a kind carries: [least, most]. Transfer: the payer's, then optionally the payee's. */
export function signatureCount(kind: TxBody["kind"]): readonly [number, number] {
  if (kind === MessageKind.Reward) return [0, 0];
  return kind === MessageKind.Transfer ? [1, 2] : [1, 1];
}

/** The account ids that must sign, in order (for a transfer the payee's is optional). */
export function signerIds(body: TxBody): Buffer[] {
  if (body.kind === MessageKind.Genesis) return [body.org];
  if (body.kind === MessageKind.Reward) return [];
  if (body.kind === MessageKind.Transfer) return [body.actor, body.to];
  return [body.actor];
}

/** The encoded body: what the signatures cover (after SIGNING_TAG). Throws RangeError on a bad field. */
export function encodeBody(b: TxBody): Buffer {
  const w = new Writer(128);
  w.u8(MESSAGE_FORMAT_V1).u8(b.kind);
  id(w, b.org, "org");
  if (b.kind === MessageKind.Genesis) {
    writeParams(w, b.params);
    return w.finish();
  }
  if (b.kind === MessageKind.Reward) return writeReward(w, b);
  writeActing(w, b);
  switch (b.kind) {
    case MessageKind.Transfer:
      id(w, b.to, "to");
      u64(w, b.amount, "amount");
      break;
    case MessageKind.Distribute:
      id(w, b.to, "to");
      u64(w, b.amount, "amount");
      w.u8(b.category);
      writeText(w, b.reason, TX_LIMITS.reason, "reason");
      break;
    case MessageKind.Apply:
      writeText(w, b.note, TX_LIMITS.note, "note");
      break;
    case MessageKind.Approve:
      id(w, b.applicant, "applicant");
      w.u8(b.role);
      break;
    case MessageKind.SetRole:
      id(w, b.target, "target");
      w.u8(b.role);
      break;
    case MessageKind.Leave:
      break;
    case MessageKind.Pledge:
    case MessageKind.Release:
      u64(w, b.amount, "amount");
      break;
    case MessageKind.Candidacy:
      w.u8(b.declare ? 1 : 0);
      // Present iff declare = 1; the check-by-decoding below refuses any other combination.
      if (b.commitment !== null) w.exact(b.commitment, 32, "commitment");
      break;
    case MessageKind.Reveal:
      w.u32(uint(b.cycle, 0xffffffff, "cycle"));
      w.exact(b.secret, 32, "secret");
      w.exact(b.next, 32, "next commitment");
      break;
    case MessageKind.Vote:
      id(w, b.candidate, "candidate");
      u64(w, b.weight, "weight");
      break;
    case MessageKind.SetPolicy:
      w.u8(b.policy);
      break;
  }
  const out = w.finish();
  // Enums and cross-field rules are checked by decoding what was written: one rule both ways.
  try {
    const r = new Reader(out);
    decodeBody(r);
    r.end("body");
  } catch (err) {
    if (err instanceof DecodeError) throw new RangeError(err.message);
    throw err;
  }
  return out;
}

/**
 * The reward transaction of `pulse` (encoded, with its empty signatures section): what the
 * committee's proposer puts in the pulse's batch, the committee in drawn order as recipients.
 */
export function rewardTx(org: Buffer, pulse: number, committee: readonly Buffer[]): Buffer {
  return encodeTx({ body: { kind: MessageKind.Reward, org, pulse, recipients: committee }, signatures: [] });
}

/** The encoded transaction. */
export function encodeTx(tx: SignedTx): Buffer {
  return withSignatures(encodeBody(tx.body), tx.body.kind, tx.signatures);
}

/**
 * The bytes of a decoded transaction, from its body bytes as decoded (canonical, since the decoder
 * accepts nothing else): no re-encoding of the body.
 */
export function txBytes(tx: Tx): Buffer {
  return withSignatures(tx.bodyBytes, tx.body.kind, tx.signatures);
}

/** An encoded body followed by its signatures section. */
function withSignatures(body: Buffer, kind: TxBody["kind"], signatures: readonly TxSignature[]): Buffer {
  const [least, most] = signatureCount(kind);
  const n = signatures.length;
  if (n < least || n > most) throw new RangeError(`this kind carries ${least}-${most} signatures, got ${n}`);
  const w = new Writer(body.length + 1 + n * 96);
  w.bytes(body).u8(n);
  for (const s of signatures) {
    if (s.publicKey.length !== 32 || s.signature.length !== SIGNATURE_BYTES)
      throw new RangeError("a signature is a 32-byte public key and a 64-byte signature");
    w.bytes(s.publicKey).bytes(s.signature);
  }
  return w.finish();
}

/** Decodes one transaction; throws DecodeError unless `bytes` is exactly one canonical encoding. */
export function decodeTx(bytes: Uint8Array): Tx {
  const r = new Reader(bytes);
  const { body, length } = decodeBody(r);
  const [least, most] = signatureCount(body.kind);
  const n = r.u8("signature count");
  if (n < least || n > most) throw new DecodeError(`this kind carries ${least}-${most} signatures, got ${n}`);
  const signatures = [];
  for (let i = 0; i < n; i++) {
    const publicKey = Buffer.from(r.bytes(32, "public key"));
    const signature = Buffer.from(r.bytes(SIGNATURE_BYTES, "signature"));
    signatures.push({ publicKey, signature });
  }
  r.end("transaction");
  const bodyBytes = Buffer.from(bytes.subarray(0, length));
  return { body, signatures, bodyBytes, id: hash("sha256", bodyBytes, "buffer") };
}

/** Signs a body with each signer in order and returns the decoded transaction and its bytes. */
export function signTx(body: TxBody, signers: readonly Signer[]): { tx: Tx; bytes: Buffer } {
  const bodyBytes = encodeBody(body);
  const payload = signingPayload(bodyBytes);
  const signatures = signers.map((s) => ({
    publicKey: Buffer.from(s.publicKey),
    signature: s.sign(payload),
  }));
  const bytes = withSignatures(bodyBytes, body.kind, signatures);
  return { tx: decodeTx(bytes), bytes };
}

/** Adds a countersignature (the payee's) to an encoded transaction. */
export function countersign(bytes: Uint8Array, signer: Signer): Buffer {
  const tx = decodeTx(bytes);
  const signature = signer.sign(signingPayload(tx.bodyBytes));
  return withSignatures(tx.bodyBytes, tx.body.kind, [
    ...tx.signatures,
    { publicKey: Buffer.from(signer.publicKey), signature },
  ]);
}

function decodeBody(r: Reader): { body: TxBody; length: number } {
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown transaction format ${format}`);
  const kind = r.u8("kind");
  const org = readId(r, "org");
  if (kind === MessageKind.Genesis) {
    const body: TxBody = { kind, org, params: readParams(r) };
    return { body, length: r.offset };
  }
  if (kind === MessageKind.Reward) {
    const pulse = r.u64Number("pulse");
    const n = r.u16("recipients");
    if (n === 0) throw new DecodeError("a reward has at least one recipient");
    const recipients: Buffer[] = [];
    for (let i = 0; i < n; i++) recipients.push(readId(r, "recipient"));
    const body: TxBody = { kind, org, pulse, recipients };
    return { body, length: r.offset };
  }
  const acting: Acting = { actor: readId(r, "actor"), nonce: r.u64("nonce"), expiry: r.u64Number("expiry") };
  let body: TxBody;
  switch (kind) {
    case MessageKind.Transfer:
      body = { kind, org, ...acting, to: readId(r, "to"), amount: r.u64("amount") };
      break;
    case MessageKind.Distribute: {
      const to = readId(r, "to");
      const amount = r.u64("amount");
      const category = r.u8("category");
      if (category < RewardCategory.Construction || category > RewardCategory.Operation)
        throw new DecodeError(`unknown reward category ${category}`);
      const reason = readText(r, TX_LIMITS.reason, "reason");
      body = { kind, org, ...acting, to, amount, category: category as RewardCategory, reason };
      break;
    }
    case MessageKind.Apply:
      body = { kind, org, ...acting, note: readText(r, TX_LIMITS.note, "note") };
      break;
    case MessageKind.Approve: {
      const applicant = readId(r, "applicant");
      const role = readRole(r, "role");
      if (role !== Role.Guest && role !== Role.Member)
        throw new DecodeError(`an applicant is approved as guest (2) or member (3), not ${role}`);
      body = { kind, org, ...acting, applicant, role };
      break;
    }
    case MessageKind.SetRole: {
      const target = readId(r, "target");
      const role = readRole(r, "role");
      if (role === Role.Applicant) throw new DecodeError("a role cannot be set to applicant");
      body = { kind, org, ...acting, target, role };
      break;
    }
    case MessageKind.Leave:
      body = { kind, org, ...acting };
      break;
    case MessageKind.Pledge:
    case MessageKind.Release:
      body = { kind, org, ...acting, amount: r.u64("amount") };
      break;
    case MessageKind.Candidacy: {
      const declare = readBool(r, "declare");
      const commitment = declare ? Buffer.from(r.bytes(32, "commitment")) : null;
      body = { kind, org, ...acting, declare, commitment };
      break;
    }
    case MessageKind.Reveal: {
      const cycle = r.u32("cycle");
      const secret = Buffer.from(r.bytes(32, "secret"));
      body = { kind, org, ...acting, cycle, secret, next: Buffer.from(r.bytes(32, "next commitment")) };
      break;
    }
    case MessageKind.Vote: {
      const candidate = readId(r, "candidate");
      const weight = r.u64("weight");
      if (weight === 0n && !candidate.equals(ZERO_ID))
        throw new DecodeError("a vote of weight 0 (withdrawal) names no candidate (20 zero bytes)");
      body = { kind, org, ...acting, candidate, weight };
      break;
    }
    case MessageKind.SetPolicy: {
      const policy = r.u8("policy");
      if (policy !== Policy.Countersign && policy !== Policy.AcceptAll)
        throw new DecodeError(`unknown policy ${policy}`);
      body = { kind, org, ...acting, policy };
      break;
    }
    default:
      throw new DecodeError(`unknown transaction kind ${kind}`);
  }
  return { body, length: r.offset };
}

function writeReward(w: Writer, b: TxOf<typeof MessageKind.Reward>): Buffer {
  if (!Number.isSafeInteger(b.pulse) || b.pulse < 0)
    throw new RangeError(`a reward's pulse must be a pulse number, got ${b.pulse}`);
  w.u64n(b.pulse);
  const n = b.recipients.length;
  if (n < 1 || n > 0xffff) throw new RangeError(`a reward has 1-65535 recipients, got ${n}`);
  w.u16(n);
  for (const member of b.recipients) id(w, member, "recipient");
  return w.finish();
}

function writeActing(w: Writer, a: Acting): void {
  id(w, a.actor, "actor");
  u64(w, a.nonce, "nonce");
  if (!Number.isSafeInteger(a.expiry) || a.expiry < 0)
    throw new RangeError(`expiry must be a pulse number, got ${a.expiry}`);
  w.u64n(a.expiry);
}

function writeParams(w: Writer, p: OrgParams): void {
  writeText(w, p.name, TX_LIMITS.name, "name");
  id(w, p.supervisor, "supervisor");
  w.u32(uint(p.pulsePeriodMs, 0xffffffff, "pulsePeriodMs"));
  w.u32(uint(p.electionCycle, 0xffffffff, "electionCycle"));
  w.u32(uint(p.publicityPeriod, 0xffffffff, "publicityPeriod"));
  w.u16(uint(p.committeeSize, 0xffff, "committeeSize"));
  u64(w, p.minDeposit, "minDeposit");
  u64(w, p.supply, "supply");
  if (p.distribution.length > TX_LIMITS.distributionLines)
    throw new RangeError(`at most ${TX_LIMITS.distributionLines} distribution lines`);
  w.uvarint(p.distribution.length);
  for (const line of p.distribution) {
    id(w, line.to, "distribution to");
    u64(w, line.amount, "distribution amount");
    writeText(w, line.reason, TX_LIMITS.reason, "distribution reason");
  }
  if (p.committee.length > 0xffff) throw new RangeError("at most 65535 committee members");
  w.u16(p.committee.length);
  for (const member of p.committee) id(w, member, "committee member");
  u64(w, p.miningReward ?? 0n, "miningReward");
}

function readParams(r: Reader): OrgParams {
  const name = readText(r, TX_LIMITS.name, "name");
  const supervisor = readId(r, "supervisor");
  const pulsePeriodMs = r.u32("pulsePeriodMs");
  const electionCycle = r.u32("electionCycle");
  const publicityPeriod = r.u32("publicityPeriod");
  const committeeSize = r.u16("committeeSize");
  const minDeposit = r.u64("minDeposit");
  const supply = r.u64("supply");
  const n = r.uvarintNumber("distribution lines");
  if (n > TX_LIMITS.distributionLines)
    throw new DecodeError(`${n} distribution lines, more than ${TX_LIMITS.distributionLines}`);
  const distribution: DistributionLine[] = [];
  for (let i = 0; i < n; i++) {
    const to = readId(r, "distribution to");
    const amount = r.u64("distribution amount");
    distribution.push({ to, amount, reason: readText(r, TX_LIMITS.reason, "distribution reason") });
  }
  const members = r.u16("committee members");
  const committee: Buffer[] = [];
  for (let i = 0; i < members; i++) committee.push(readId(r, "committee member"));
  const miningReward = r.u64("miningReward");
  return {
    name,
    supervisor,
    pulsePeriodMs,
    electionCycle,
    publicityPeriod,
    committeeSize,
    minDeposit,
    supply,
    distribution,
    committee,
    miningReward,
  };
}

function id(w: Writer, v: Uint8Array, what: string): void {
  w.exact(v, 20, `${what} (an account id)`);
}

function u64(w: Writer, v: bigint, what: string): void {
  if (typeof v !== "bigint" || v < 0n || v > MAX_U64)
    throw new RangeError(`${what} must be a u64, got ${String(v)}`);
  w.u64(v);
}

function uint(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`${what} must be an integer in 0..${max}`);
  return v;
}

function readId(r: Reader, what: string): Buffer {
  return Buffer.from(r.bytes(20, what));
}
