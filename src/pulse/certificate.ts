/**
 * A finality certificate (docs/PROTOCOL.md §13.2): the 2f+1 precommit signatures that make a pulse
 * final, with what they decided, so that anyone who knows the committee can check it alone.
 *
 *   certificate = u8 1 | u8 0x49 | org[20] | u64 pulse | u32 round | valueId[32] | rootHash[32]
 *                 | u64 rootSum | u64 rootCount | batchHash[32] | next[32] | u16 count | count × (pk[32] | sig[64])
 *
 * `next` is the committeeHash of the committee that keeps pulse + 1, covered by the value id: a
 * member node that knows the committee of pulse p learns that of p + 1 from p's certificate (the
 * committee chain, docs/PROTOCOL.md §13.2), given the member list that hashes to it.
 *
 * Each (pk, sig) signs the precommit vote (votes.ts) for (org, pulse, round, valueId): the vote is
 * rebuilt from the certificate's fields and checked as any vote, so a certificate holds exactly the
 * signatures of precommits that were sent. Signers are in ascending account-id order, so a signer
 * counts once and a set of signatures has exactly one encoding.
 */
import { hash } from "node:crypto";
import { accountId } from "../crypto/account-id.js";
import { MESSAGE_FORMAT_V1, NodeMessageKind } from "../crypto/domain.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { type RootSynopsis, valueIdOf } from "./proposal.js";
import { quorum } from "./tendermint.js";
import { decodeVote, type SignedVote, Step, VOTE_BYTES } from "./votes.js";

/** Most signatures a certificate holds (the committee is far smaller). */
export const CERTIFICATE_MAX_SIGNERS = 1024;
const HEADER_BYTES = 2 + 20 + 8 + 4 + 32 + 32 + 8 + 8 + 32 + 32 + 2;
/** Where the signers' count is (format, kind, org, pulse, round, valueId, root, batchHash, next before it). */
export const CERTIFICATE_COUNT_OFFSET = HEADER_BYTES - 2;
const COMMITTEE_TAG = Buffer.from("LEITHER\0committee", "latin1");
const ENTRY_BYTES = 32 + 64;
// A vote's signed part (format, kind, org, pulse, round, step, value), before its public key.
const VOTE_MESSAGE_BYTES = VOTE_BYTES - ENTRY_BYTES;

/** Quorum of a committee of n: floor(2n/3) + 1 signers. */
export const certificateQuorum = quorum;

/**
 * SHA-256("LEITHER\0committee" ‖ u16 n ‖ n × accountId[20]): a committee's members in drawn order
 * (the order names the proposers, so it is part of what is hashed). Throws RangeError for no member,
 * more than CERTIFICATE_MAX_SIGNERS, or an id that is not 20 bytes.
 */
export function committeeHash(members: readonly Buffer[]): Buffer {
  if (members.length === 0 || members.length > CERTIFICATE_MAX_SIGNERS)
    throw new RangeError(`a committee has 1 to ${CERTIFICATE_MAX_SIGNERS} members, got ${members.length}`);
  const w = new Writer(COMMITTEE_TAG.length + 2 + 20 * members.length).bytes(COMMITTEE_TAG);
  w.u16(members.length);
  for (const id of members) w.exact(id, 20, "a member's account id");
  return hash("sha256", w.finish(), "buffer");
}

/** What a certificate decides. */
export interface CertificateFields {
  readonly org: Buffer;
  readonly pulse: number;
  readonly round: number;
  readonly root: RootSynopsis;
  readonly batchHash: Buffer;
  /** committeeHash of the committee that keeps pulse + 1. */
  readonly next: Buffer;
}

/** A decoded certificate whose signatures all verified. */
export interface Certificate {
  readonly org: Buffer;
  readonly pulse: number;
  readonly round: number;
  readonly valueId: Buffer;
  readonly root: { readonly hash: Buffer; readonly sum: bigint; readonly count: number };
  readonly batchHash: Buffer;
  /** committeeHash of the committee that keeps pulse + 1 (covered by valueId). */
  readonly next: Buffer;
  /** The signers' account ids, strictly ascending. */
  readonly signers: Buffer[];
  readonly bytes: Buffer;
}

/** Why a certificate does not hold (for a committee), or why precommits make none. */
export class CertificateError extends Error {
  override name = "CertificateError";
}

/** The signed part of the precommit for (org, pulse, round, valueId). */
function precommitMessage(org: Buffer, pulse: number, round: number, valueId: Buffer): Buffer {
  const w = new Writer(VOTE_MESSAGE_BYTES).u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.Vote);
  w.exact(org, 20, "org").u64n(pulse).u32(round).u8(Step.Precommit).exact(valueId, 32, "valueId");
  return w.finish();
}

/**
 * Encodes the certificate of `precommits` (163-byte signed votes): each must verify and be a
 * precommit for exactly (org, pulse, round, valueIdOf(org, pulse, root, batchHash, next)), else
 * CertificateError. Signatures are sorted by signer; a signer's second signature is dropped.
 */
export function encodeCertificate(
  c: CertificateFields & { readonly precommits: readonly Uint8Array[] },
): Buffer {
  const valueId = valueIdOf(c.org, c.pulse, c.root, c.batchHash, c.next);
  const expected = precommitMessage(c.org, c.pulse, c.round, valueId);
  const votes: SignedVote[] = [];
  for (const [i, bytes] of c.precommits.entries()) {
    let v: SignedVote;
    try {
      v = decodeVote(bytes);
    } catch (err) {
      throw new CertificateError(`precommit ${i} does not hold: ${(err as Error).message}`);
    }
    if (!v.bytes.subarray(0, VOTE_MESSAGE_BYTES).equals(expected))
      throw new CertificateError(`precommit ${i} is not a precommit for this pulse, round and value`);
    votes.push(v);
  }
  votes.sort((a, b) => Buffer.compare(a.signer, b.signer) || Buffer.compare(a.bytes, b.bytes));
  const kept = votes.filter((v, i) => i === 0 || !v.signer.equals(votes[i - 1]!.signer));
  if (kept.length === 0) throw new CertificateError("a certificate needs at least one precommit");
  if (kept.length > CERTIFICATE_MAX_SIGNERS)
    throw new CertificateError(`more than ${CERTIFICATE_MAX_SIGNERS} signers`);
  const w = new Writer(HEADER_BYTES + kept.length * ENTRY_BYTES);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.Certificate).bytes(c.org).u64n(c.pulse).u32(c.round);
  w.bytes(valueId).bytes(c.root.hash).u64(c.root.sum).u64n(c.root.count);
  w.bytes(c.batchHash).bytes(c.next).u16(kept.length);
  for (const v of kept) w.bytes(v.bytes.subarray(VOTE_MESSAGE_BYTES));
  return w.finish();
}

/**
 * A certificate's organization and pulse from its header alone, nothing verified: what a node reads
 * to drop a certificate before it spends anything on it. Throws DecodeError for bytes too short to
 * be a certificate, of another kind, or a pulse above 2^53 - 1.
 */
export function certificateHeader(bytes: Uint8Array): { org: Buffer; pulse: number } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < HEADER_BYTES || b[0] !== MESSAGE_FORMAT_V1 || b[1] !== NodeMessageKind.Certificate)
    throw new DecodeError("not a certificate");
  const pulse = b.readBigUInt64BE(22);
  if (pulse > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError("certificate: a pulse above 2^53 - 1");
  return { org: b.subarray(2, 22), pulse: Number(pulse) };
}

/**
 * What can be known of a certificate's signers before any signature is checked: as many as a quorum
 * of `committee` and no more than it has, each a member, and the length they take. Throws
 * CertificateError (or DecodeError for a length that does not match); a hash per signer, so a
 * forged certificate of many signers costs little.
 */
export function precheckSigners(bytes: Uint8Array, committee: readonly Buffer[]): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = b.readUInt16BE(CERTIFICATE_COUNT_OFFSET);
  const n = committee.length;
  if (count > n)
    throw new CertificateError(
      `${count} signers for a committee of ${n}: more signers than the committee has`,
    );
  if (count < quorum(n))
    throw new CertificateError(`${count} signers for a committee of ${n}, quorum ${quorum(n)}`);
  if (b.length !== HEADER_BYTES + count * ENTRY_BYTES)
    throw new DecodeError(`certificate: ${b.length} bytes for ${count} signers`);
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    const id = accountId(b.subarray(at, at + 32));
    if (!committee.some((m) => m.equals(id)))
      throw new CertificateError(`signer ${id.toString("hex")} is not in the committee`);
  }
}

/**
 * Decodes a certificate and checks what needs no committee: the value id is the hash of its fields,
 * 1 to 1024 signers in strictly ascending order, every signature valid. Throws DecodeError otherwise.
 * Whether the signers are a quorum of the committee is verifyCertificate's check.
 */
export function decodeCertificate(bytes: Uint8Array): Certificate {
  const own = Buffer.from(bytes);
  const r = new Reader(own);
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown format ${format}`);
  const kind = r.u8("kind");
  if (kind !== NodeMessageKind.Certificate) throw new DecodeError(`kind ${kind} is not a certificate`);
  const org = r.bytes(20, "org");
  const pulse = r.u64Number("pulse");
  const round = r.u32("round");
  const valueId = r.bytes(32, "valueId");
  const root = { hash: r.bytes(32, "root hash"), sum: r.u64("root sum"), count: r.u64Number("root count") };
  const batchHash = r.bytes(32, "batch hash");
  const next = r.bytes(32, "next committee hash");
  const count = r.u16("count");
  if (count === 0 || count > CERTIFICATE_MAX_SIGNERS)
    throw new DecodeError(`certificate: ${count} signers, not 1 to ${CERTIFICATE_MAX_SIGNERS}`);
  if (r.remaining !== count * ENTRY_BYTES)
    throw new DecodeError(`certificate: ${r.remaining} bytes of signatures for ${count} signers`);
  if (!valueIdOf(org, pulse, root, batchHash, next).equals(valueId))
    throw new DecodeError(
      "certificate: the value id is not the hash of its organization, pulse, root, batch and next committee",
    );
  // Cheap checks first: the signers' order before any signature is verified.
  const message = precommitMessage(org, pulse, round, valueId);
  const signers: Buffer[] = [];
  const votes: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const entry = r.bytes(ENTRY_BYTES, "signature");
    const signer = accountId(entry.subarray(0, 32));
    if (i > 0 && Buffer.compare(signers[i - 1]!, signer) >= 0)
      throw new DecodeError(`certificate: signer ${i} is not after signer ${i - 1} (ascending, each once)`);
    signers.push(signer);
    votes.push(Buffer.concat([message, entry]));
  }
  r.end("certificate");
  // Each signature is checked as the precommit it signed, by the votes' own decoder.
  for (const [i, vote] of votes.entries()) {
    try {
      decodeVote(vote);
    } catch (err) {
      throw new DecodeError(`certificate: signature ${i}: ${(err as Error).message}`);
    }
  }
  return { org, pulse, round, valueId, root, batchHash, next, signers, bytes: own };
}

/**
 * Checks a decoded certificate against the committee of its pulse: every signer a member, and at
 * least quorum(committee.length) of them. Throws CertificateError otherwise.
 */
export function verifyCertificate(c: Certificate, committee: readonly Buffer[]): void {
  const members = new Set(committee.map((id) => id.toString("hex")));
  if (members.size !== committee.length) throw new RangeError("the committee lists a member twice");
  // A decoded certificate has each signer once; one built by hand is held to the same rule.
  if (new Set(c.signers.map((s) => s.toString("hex"))).size !== c.signers.length)
    throw new CertificateError("a signer is counted twice");
  for (const s of c.signers)
    if (!members.has(s.toString("hex")))
      throw new CertificateError(`signer ${s.toString("hex")} is not in the committee`);
  const q = quorum(committee.length);
  if (c.signers.length < q)
    throw new CertificateError(
      `${c.signers.length} signers of a committee of ${committee.length}, quorum ${q}`,
    );
}
