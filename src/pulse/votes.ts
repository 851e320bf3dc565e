/**
 * Committee votes and equivocation evidence (docs/PROTOCOL.md §13): groundwork for the
 * Tendermint-style finality of issue 7. A vote is what a bookkeeper signs for one (pulse, round,
 * step); two different votes by one signer for the same (pulse, round, step) are evidence anyone can
 * check, given the two signed messages.
 *
 *   vote     = u8 1 | u8 0x46 | org[20] | u64 pulse | u32 round | u8 step | value[32] | pk[32] | sig[64]
 *   evidence = u8 1 | u8 0x47 | vote a (163 bytes) | vote b (163 bytes), a < b bytewise
 *
 * `step`: 1 propose, 2 prevote, 3 precommit. `value` is the hash of what the vote is for (a proposal:
 * its batch and root synopsis); 32 zero bytes is "nil" (a prevote or precommit for nothing).
 */
import { accountId } from "../crypto/account-id.js";
import { MESSAGE_FORMAT_V1, NodeMessageKind, signingPayload } from "../crypto/domain.js";
import { type Signer, Verifier, weakKey } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";

/** The steps of a round. */
export const Step = { Propose: 1, Prevote: 2, Precommit: 3 } as const;
export type Step = (typeof Step)[keyof typeof Step];

/** Bytes of an encoded vote. */
export const VOTE_BYTES = 163;
const MESSAGE_BYTES = 67;

/** A vote's fields. */
export interface Vote {
  readonly org: Buffer;
  readonly pulse: number;
  readonly round: number;
  readonly step: Step;
  /** What it is for; 32 zero bytes: nil. */
  readonly value: Buffer;
}

/** A decoded vote whose signature verified. */
export interface SignedVote extends Vote {
  readonly signer: Buffer;
  readonly bytes: Buffer;
}

const verifier = new Verifier(4096);

/** Encodes and signs a vote. */
export function signVote(v: Vote, signer: Signer): Buffer {
  if (!Number.isSafeInteger(v.pulse) || v.pulse < 0) throw new RangeError("pulse must be a whole number");
  if (!Number.isInteger(v.round) || v.round < 0 || v.round > 0xffffffff)
    throw new RangeError("round must fit a u32");
  if (v.step !== Step.Propose && v.step !== Step.Prevote && v.step !== Step.Precommit)
    throw new RangeError("step is 1, 2 or 3");
  const w = new Writer(MESSAGE_BYTES);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.Vote).exact(v.org, 20, "org");
  w.u64n(v.pulse).u32(v.round).u8(v.step).exact(v.value, 32, "value");
  const m = w.finish();
  return Buffer.concat([m, signer.publicKey, signer.sign(signingPayload(m))]);
}

/** Decodes a vote and verifies its signature; throws DecodeError on anything else. */
export function decodeVote(bytes: Uint8Array): SignedVote {
  if (bytes.length !== VOTE_BYTES)
    throw new DecodeError(`a vote is ${VOTE_BYTES} bytes, got ${bytes.length}`);
  const r = new Reader(bytes);
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown format ${format}`);
  const kind = r.u8("kind");
  if (kind !== NodeMessageKind.Vote) throw new DecodeError(`kind ${kind} is not a vote`);
  const org = Buffer.from(r.bytes(20, "org"));
  const pulse = r.u64Number("pulse");
  const round = r.u32("round");
  const step = r.u8("step");
  if (step < Step.Propose || step > Step.Precommit) throw new DecodeError(`unknown step ${step}`);
  const value = Buffer.from(r.bytes(32, "value"));
  const publicKey = r.bytes(32, "public key");
  const signature = r.bytes(64, "signature");
  r.end("vote");
  if (weakKey(publicKey)) throw new DecodeError("vote: weak public key");
  if (!verifier.verify(signature, signingPayload(Buffer.from(bytes).subarray(0, MESSAGE_BYTES)), publicKey))
    throw new DecodeError("vote: the signature does not verify");
  return {
    org,
    pulse,
    round,
    step: step as Step,
    value,
    signer: accountId(publicKey),
    bytes: Buffer.from(bytes),
  };
}

/** Why evidence does not hold. */
export class EvidenceError extends Error {
  override name = "EvidenceError";
}

/** Evidence of equivocation from two conflicting votes (in either order). */
export function makeEvidence(a: Uint8Array, b: Uint8Array): Buffer {
  const [x, y] = Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 ? [a, b] : [b, a];
  const ev = Buffer.concat([Buffer.of(MESSAGE_FORMAT_V1, NodeMessageKind.Evidence), x, y]);
  checkEvidence(ev);
  return ev;
}

/**
 * Checks evidence: two votes, in canonical order, both signatures valid, one signer, the same
 * organization, pulse, round and step, different values. Returns the signer and the slot; whether
 * the signer was in that cycle's committee is the caller's check (it knows the committee).
 */
export function checkEvidence(bytes: Uint8Array): {
  signer: Buffer;
  org: Buffer;
  pulse: number;
  round: number;
  step: Step;
} {
  if (bytes.length !== 2 + 2 * VOTE_BYTES) throw new EvidenceError(`evidence is ${2 + 2 * VOTE_BYTES} bytes`);
  if (bytes[0] !== MESSAGE_FORMAT_V1 || bytes[1] !== NodeMessageKind.Evidence)
    throw new EvidenceError("not evidence of the known format");
  const ra = bytes.subarray(2, 2 + VOTE_BYTES);
  const rb = bytes.subarray(2 + VOTE_BYTES);
  if (Buffer.compare(Buffer.from(ra), Buffer.from(rb)) >= 0)
    throw new EvidenceError("the votes are not in canonical order (or are the same)");
  let a: SignedVote;
  let b: SignedVote;
  try {
    a = decodeVote(ra);
    b = decodeVote(rb);
  } catch (err) {
    throw new EvidenceError(`a vote does not hold: ${(err as Error).message}`);
  }
  if (!a.signer.equals(b.signer)) throw new EvidenceError("the votes have different signers");
  if (!a.org.equals(b.org) || a.pulse !== b.pulse || a.round !== b.round || a.step !== b.step)
    throw new EvidenceError("the votes are for different (organization, pulse, round, step)");
  if (a.value.equals(b.value)) throw new EvidenceError("the votes are for the same value");
  return { signer: a.signer, org: a.org, pulse: a.pulse, round: a.round, step: a.step };
}
