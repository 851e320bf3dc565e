/**
 * Domain separation of every signature this project makes: a signature covers
 * `SIGNING_TAG || message`, and every signed message starts with `u8 format || u8 kind || orgId[20]`.
 * So a signature made for one organization, one kind of message or one format version is never valid
 * for another (docs/PROTOCOL.md, "Signatures").
 */

/** 8 ASCII bytes prefixed to every signed message, so that no other protocol's message collides. */
export const SIGNING_TAG = Buffer.from("LEITHER\0", "latin1");

/** Format version of the signed messages defined so far. */
export const MESSAGE_FORMAT_V1 = 1;

/**
 * Kinds of signed messages: one number space for all of them, so a kind never means two things.
 * Append only; never reuse a number. 0x01-0x3f are ledger transactions.
 */
export const MessageKind = {
  Genesis: 0x01,
  Transfer: 0x02,
  Distribute: 0x03,
  Apply: 0x04,
  Approve: 0x05,
  SetRole: 0x06,
  Leave: 0x07,
  Pledge: 0x08,
  Release: 0x09,
  Candidacy: 0x0a,
  Vote: 0x0b,
  SetPolicy: 0x0c,
  /** A candidate's reveal of its committed secret for one election cycle (docs/PROTOCOL.md §12). */
  Reveal: 0x0d,
  /**
   * The mining reward of one final pulse to its committee: no signature, made final by the pulse's
   * certificate like every transaction of its batch (docs/PROTOCOL.md §8.3).
   */
  Reward: 0x0e,
  /**
   * The deposit a cycle's withheld reveals cost, to the organization's account: no signature, made
   * final by the pulse's certificate like the reward (docs/PROTOCOL.md §8.3, §12).
   */
  Forfeit: 0x0f,
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/**
 * Kinds of signed node messages: 0x40-0x7f of the same number space (never a transaction's kind).
 * Append only.
 */
export const NodeMessageKind = {
  /** A bookkeeper's heartbeat for a pulse slot that changed nothing (src/pulse/heartbeat.ts). */
  Heartbeat: 0x40,
  /** An organization's public record in the DHT (src/dht/records.ts). */
  OrgRecord: 0x41,
  /** A member's node record in the DHT: account id to peer id and addresses (src/dht/records.ts). */
  MemberRecord: 0x42,
  /** A request from one node to another, signed by the asking account (src/dht/wire.ts). */
  NetRequest: 0x43,
  /** Retired: a single bookkeeper's statement that a pulse was final; certificates (0x49) replace it. */
  PulseFinal: 0x44,
  /** A message to every member of an organization, on its group topic (src/dht/wire.ts). */
  GroupMessage: 0x45,
  /** A committee member's vote for one (pulse, round, step) (src/pulse/votes.ts). */
  Vote: 0x46,
  /** Two conflicting votes by one signer: evidence of equivocation (src/pulse/votes.ts). */
  Evidence: 0x47,
  /** A round's proposal: a signed propose vote, the batch and the root it leads to (src/pulse/proposal.ts). */
  Proposal: 0x48,
  /** 2f+1 precommit signatures that make a pulse final (src/pulse/certificate.ts). */
  Certificate: 0x49,
  /** Transactions a bookkeeper relays to the others, signed by it (src/dht/wire.ts). */
  TxBatch: 0x4a,
} as const;

/** The bytes a signature covers: the tag, then the message (which starts with format, kind, org). */
export function signingPayload(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SIGNING_TAG.length + message.length);
  SIGNING_TAG.copy(out, 0);
  out.set(message, SIGNING_TAG.length);
  return out;
}
