/**
 * The canonical binary encoding of transactions (docs/PROTOCOL.md, "Transactions"). Every value has
 * exactly one encoding: fixed-width integers, enums and booleans checked, text in canonical UTF-8,
 * signature counts fixed per kind, and decoding rejects trailing bytes.
 *
 *   body = u8 format(1) | u8 kind | org[20] | kind fields        (what the signatures cover)
 *   tx   = body | u8 n | n x (publicKey[32] | signature[64])
 *
 * A reward (kind 0x0e) and a forfeit (0x0f) are the kinds with no signature (n = 0): the committee's
 * proposer puts them in its batch and the pulse's certificate makes them final.
 */
import { hash } from "node:crypto";
import { MESSAGE_FORMAT_V1, MessageKind, signingPayload } from "../crypto/domain.js";
import { SIGNATURE_BYTES, type Signer } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";
import { Policy, Role, readBool, readRole } from "./account.js";
import {
  type Acting,
  RewardCategory,
  type SignedTx,
  TX_LIMITS,
  type Tx,
  type TxBody,
  type TxOf,
  type TxSignature,
} from "./tx.js";
import { id, readId, readParams, u64, uint, writeParams } from "./tx-fields.js";

const ZERO_ID = Buffer.alloc(20);

/** How many signatures a kind carries: [least, most]. Transfer: the payer's, then optionally the payee's. */
export function signatureCount(kind: TxBody["kind"]): readonly [number, number] {
  if (kind === MessageKind.Reward || kind === MessageKind.Forfeit) return [0, 0];
  return kind === MessageKind.Transfer ? [1, 2] : [1, 1];
}

/** The account ids that must sign, in order (for a transfer the payee's is optional). */
export function signerIds(body: TxBody): Buffer[] {
  if (body.kind === MessageKind.Genesis) return [body.org];
  if (body.kind === MessageKind.Reward || body.kind === MessageKind.Forfeit) return [];
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
  if (b.kind === MessageKind.Forfeit) return writeForfeit(w, b);
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

/**
 * The forfeit of election cycle `cycle` (encoded, with its empty signatures section): what the
 * proposer of the pulse after the cycle's reveal window puts in its batch, naming the candidates
 * that withheld their reveal (ascending by id, as the draw lists them).
 */
export function forfeitTx(org: Buffer, cycle: number, candidates: readonly Buffer[]): Buffer {
  return encodeTx({ body: { kind: MessageKind.Forfeit, org, cycle, candidates }, signatures: [] });
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
  if (kind === MessageKind.Forfeit) {
    const cycle = r.u32("cycle");
    const n = r.u16("candidates");
    if (n === 0) throw new DecodeError("a forfeit names at least one candidate");
    if (n > TX_LIMITS.forfeitCandidates)
      throw new DecodeError(`a forfeit names at most ${TX_LIMITS.forfeitCandidates} candidates, got ${n}`);
    const candidates: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const c = readId(r, "candidate");
      // Ascending, each once: one list has one encoding, so one cycle's forfeit has one id.
      if (i > 0 && Buffer.compare(candidates[i - 1]!, c) >= 0)
        throw new DecodeError("a forfeit's candidates are in strictly ascending order");
      candidates.push(c);
    }
    const body: TxBody = { kind, org, cycle, candidates };
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

function writeForfeit(w: Writer, b: TxOf<typeof MessageKind.Forfeit>): Buffer {
  w.u32(uint(b.cycle, 0xffffffff, "cycle"));
  const n = b.candidates.length;
  if (n < 1 || n > TX_LIMITS.forfeitCandidates)
    throw new RangeError(`a forfeit names 1-${TX_LIMITS.forfeitCandidates} candidates, got ${n}`);
  w.u16(n);
  b.candidates.forEach((c, i) => {
    id(w, c, "candidate");
    if (i > 0 && Buffer.compare(b.candidates[i - 1]!, c) >= 0)
      throw new RangeError("a forfeit's candidates are in strictly ascending order");
  });
  return w.finish();
}

function writeActing(w: Writer, a: Acting): void {
  id(w, a.actor, "actor");
  u64(w, a.nonce, "nonce");
  if (!Number.isSafeInteger(a.expiry) || a.expiry < 0)
    throw new RangeError(`expiry must be a pulse number, got ${a.expiry}`);
  w.u64n(a.expiry);
}
