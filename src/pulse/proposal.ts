/**
 * A round's proposal for the committee's Tendermint finality (docs/PROTOCOL.md §13.1): the proposer's
 * signed propose vote, the batch of transactions and the root synopsis the batch leads to.
 *
 *   proposal = u8 1 | u8 0x48 | vote (163 bytes, step Propose, value = proposalId) | u32 validRound
 *              | rootHash[32] | u64 rootSum | u64 rootCount | next[32] | u32 count | count × (u32 len | tx)
 *
 * Three hashes bind it together. The value's id covers what is decided (organization, pulse, root,
 * batch, and `next`: the committee that keeps the pulse after, certificate.ts committeeHash, so that
 * a pulse's certificate hands the committee on) and not the round, so a value re-proposed in a later round keeps its id and the votes of
 * earlier rounds still count for it. The proposal's id adds validRound, so the signature also covers
 * the proposer's claim about where the value was seen with 2f+1 prevotes.
 */
import { createHash, hash } from "node:crypto";
import { MESSAGE_FORMAT_V1, NodeMessageKind } from "../crypto/domain.js";
import type { Signer } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { decodeVote, Step, signVote, VOTE_BYTES } from "./votes.js";

/** Largest transaction a proposal carries (64 KiB). */
export const PROPOSAL_MAX_TX_BYTES = 64 * 1024;
/** Default limit on a whole proposal's bytes (8 MiB). */
export const PROPOSAL_MAX_BYTES = 8 * 1024 * 1024;
/** validRound on the wire when there is none (-1 in the API). */
const NO_ROUND = 0xffffffff;
const BATCH_TAG = Buffer.from("LEITHER\0batch", "latin1");
const VALUE_TAG = Buffer.from("LEITHER\0value", "latin1");
const PROPOSAL_TAG = Buffer.from("LEITHER\0proposal", "latin1");
// After the vote: validRound, root hash, root sum, root count, next, count.
const FIXED_BYTES = 2 + VOTE_BYTES + 4 + 32 + 8 + 8 + 32 + 4;

/** A root synopsis (SPEC-smt.md): the tree's hash, sum and count of leaves. */
export interface RootSynopsis {
  readonly hash: Uint8Array;
  readonly sum: bigint;
  readonly count: number;
}

/** A proposal to encode. */
export interface ProposalFields {
  readonly org: Buffer;
  readonly pulse: number;
  readonly round: number;
  /** The round in which the proposer saw 2f+1 prevotes for this value, or -1. */
  readonly validRound: number;
  readonly root: RootSynopsis;
  /** committeeHash of the committee that keeps pulse + 1 (32 bytes). */
  readonly next: Buffer;
  readonly txs: readonly Uint8Array[];
}

/** A decoded proposal whose signature and hashes hold. */
export interface DecodedProposal {
  readonly org: Buffer;
  readonly pulse: number;
  readonly round: number;
  readonly validRound: number;
  readonly root: { readonly hash: Buffer; readonly sum: bigint; readonly count: number };
  /** committeeHash of the committee that keeps pulse + 1. */
  readonly next: Buffer;
  readonly txs: Buffer[];
  readonly batchHash: Buffer;
  readonly valueId: Buffer;
  /** The proposer's 20-byte account id. */
  readonly signer: Buffer;
  /** The 163 bytes of the signed propose vote. */
  readonly vote: Buffer;
  readonly bytes: Buffer;
}

/** SHA-256("LEITHER\0batch" ‖ for each tx: u32 len ‖ tx): the batch's hash, in order. */
export function batchHashOf(txs: readonly Uint8Array[]): Buffer {
  const h = createHash("sha256").update(BATCH_TAG);
  const len = Buffer.alloc(4);
  for (const tx of txs) {
    len.writeUInt32BE(tx.length);
    h.update(len).update(tx);
  }
  return h.digest();
}

/**
 * SHA-256("LEITHER\0value" ‖ org[20] ‖ u64 pulse ‖ rootHash[32] ‖ u64 rootSum ‖ u64 rootCount ‖
 * batchHash[32] ‖ next[32]), `next` the committeeHash (certificate.ts) of the committee that keeps pulse + 1.
 */
export function valueIdOf(
  org: Buffer,
  pulse: number,
  root: RootSynopsis,
  batchHash: Buffer,
  next: Buffer,
): Buffer {
  if (!Number.isSafeInteger(pulse) || pulse < 0) throw new RangeError("pulse must be a whole number");
  if (!Number.isSafeInteger(root.count) || root.count < 0)
    throw new RangeError("root count must be a whole number");
  const w = new Writer(VALUE_TAG.length + 20 + 8 + 32 + 8 + 8 + 32 + 32).bytes(VALUE_TAG);
  w.exact(org, 20, "org").u64n(pulse).exact(root.hash, 32, "root hash").u64(root.sum).u64n(root.count);
  w.exact(batchHash, 32, "batch hash").exact(next, 32, "next committee hash");
  return hash("sha256", w.finish(), "buffer");
}

/**
 * SHA-256("LEITHER\0proposal" ‖ valueId ‖ u32 validRound), validRound -1 as 0xffffffff: the value
 * the proposer's propose vote signs.
 */
export function proposalIdOf(valueId: Buffer, validRound: number): Buffer {
  const w = new Writer(PROPOSAL_TAG.length + 32 + 4).bytes(PROPOSAL_TAG).bytes(valueId);
  w.u32(validRound === -1 ? NO_ROUND : validRound);
  return hash("sha256", w.finish(), "buffer");
}

/** Encodes a proposal, its propose vote signed by `signer`. Throws RangeError on fields out of range. */
export function encodeProposal(p: ProposalFields, signer: Signer): Buffer {
  // signVote checks round; validRound is checked against it here so decode never sees one it refuses.
  if (
    !Number.isInteger(p.validRound) ||
    p.validRound < -1 ||
    (p.validRound >= p.round && p.validRound !== -1)
  )
    throw new RangeError("validRound must be -1 or a round before the proposal's");
  let size = FIXED_BYTES;
  for (const tx of p.txs) {
    if (tx.length > PROPOSAL_MAX_TX_BYTES)
      throw new RangeError(`a transaction is at most ${PROPOSAL_MAX_TX_BYTES} bytes, got ${tx.length}`);
    size += 4 + tx.length;
  }
  if (size > PROPOSAL_MAX_BYTES) throw new RangeError(`the proposal would be ${size} bytes, over the limit`);
  const batchHash = batchHashOf(p.txs);
  const valueId = valueIdOf(p.org, p.pulse, p.root, batchHash, p.next);
  const value = proposalIdOf(valueId, p.validRound);
  const vote = signVote({ org: p.org, pulse: p.pulse, round: p.round, step: Step.Propose, value }, signer);
  const w = new Writer(size).u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.Proposal).bytes(vote);
  w.u32(p.validRound === -1 ? NO_ROUND : p.validRound)
    .bytes(p.root.hash)
    .u64(p.root.sum)
    .u64n(p.root.count)
    .bytes(p.next)
    .u32(p.txs.length);
  for (const tx of p.txs) w.u32(tx.length).bytes(tx);
  return w.finish();
}

/**
 * Decodes a proposal and checks it: the vote verifies and is a propose vote for exactly this
 * proposal's id, validRound is -1 or before the round, every length is within bounds and nothing
 * trails. Throws DecodeError on anything else. `maxBytes` defaults to PROPOSAL_MAX_BYTES.
 */
export function decodeProposal(bytes: Uint8Array, opts: { maxBytes?: number } = {}): DecodedProposal {
  const maxBytes = opts.maxBytes ?? PROPOSAL_MAX_BYTES;
  if (bytes.length > maxBytes)
    throw new DecodeError(`proposal: ${bytes.length} bytes, over the limit of ${maxBytes}`);
  // One copy of the whole message; the transactions are views of it, so none is copied again.
  const own = Buffer.from(bytes);
  const r = new Reader(own);
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown format ${format}`);
  const kind = r.u8("kind");
  if (kind !== NodeMessageKind.Proposal) throw new DecodeError(`kind ${kind} is not a proposal`);
  const voteBytes = r.bytes(VOTE_BYTES, "vote");
  const rawValidRound = r.u32("validRound");
  const root = { hash: r.bytes(32, "root hash"), sum: r.u64("root sum"), count: r.u64Number("root count") };
  const next = r.bytes(32, "next committee hash");
  const count = r.u32("count");
  // Every transaction takes at least its 4-byte length: a count beyond that is a lie, caught before
  // anything is read or allocated for it.
  if (count > r.remaining / 4) throw new DecodeError(`proposal: count ${count} exceeds the bytes left`);
  const txs: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u32("transaction length");
    if (len > PROPOSAL_MAX_TX_BYTES)
      throw new DecodeError(`proposal: transaction ${i} is ${len} bytes, over ${PROPOSAL_MAX_TX_BYTES}`);
    txs.push(r.bytes(len, "transaction"));
  }
  r.end("proposal");
  // The structure holds; now the signature, then the hashes (the costliest for a large batch).
  const vote = decodeVote(voteBytes);
  if (vote.step !== Step.Propose)
    throw new DecodeError(`proposal: the vote's step is ${vote.step}, not propose`);
  const validRound = rawValidRound === NO_ROUND ? -1 : rawValidRound;
  if (validRound !== -1 && validRound >= vote.round)
    throw new DecodeError(`proposal: validRound ${validRound} is not before round ${vote.round}`);
  const batchHash = batchHashOf(txs);
  const valueId = valueIdOf(vote.org, vote.pulse, root, batchHash, next);
  if (!proposalIdOf(valueId, validRound).equals(vote.value))
    throw new DecodeError(
      "proposal: the signed vote is not for this batch, root, next committee and validRound",
    );
  return {
    org: vote.org,
    pulse: vote.pulse,
    round: vote.round,
    validRound,
    root,
    next,
    txs,
    batchHash,
    valueId,
    signer: vote.signer,
    vote: vote.bytes,
    bytes: own,
  };
}
