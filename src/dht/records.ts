/**
 * Leither's DHT records (docs/PROTOCOL.md §9.3): an organization's public information, signed by the
 * organization's key, and a member's node record (account id to peer id and addresses), signed by
 * the account's key. Both live under the `/leither/` namespace of the kad-dht, whose validator and
 * selector (below) refuse unsigned, forged, malformed and oversized records and keep the newest
 * sequence number. Peers' bytes: every field is bounded and the whole record is at most 2 KiB.
 *
 *   org record    = u8 1 | u8 0x41 | org[20] | u64 seq | text name | u32 pulsePeriodMs (1-3,600,000) | supervisor[20]
 *                   | publicKey[32] | signature[64]                 key: "/leither/org/<org hex>"
 *   member record = u8 1 | u8 0x42 | org[20] | account[20] | u64 seq | u8 n | peerId[n]
 *                   | u8 k | k x (u8 m | multiaddr[m]) | publicKey[32] | signature[64]
 *                                                                  key: "/leither/member/<org hex>/<account hex>"
 *
 * The signature covers `"LEITHER\0" || message` (every byte before the public key); the public key's
 * account id must be the org (org record) or the account (member record).
 */
import { accountId } from "../crypto/account-id.js";
import { MESSAGE_FORMAT_V1, NodeMessageKind, signingPayload } from "../crypto/domain.js";
import { type Signer, Verifier, weakKey } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";

/** Largest record accepted from a peer. */
export const MAX_RECORD_BYTES = 2048;
const MAX_PEER_ID_BYTES = 64;
const MAX_ADDRS = 8;
const MAX_ADDR_BYTES = 128;
const NAME_BYTES = 64;
/** An hour: the longest pulse period the node's configuration takes. */
const MAX_PERIOD_MS = 3_600_000;

function period(ms: number): number {
  if (ms < 1 || ms > MAX_PERIOD_MS) throw new DecodeError(`pulsePeriodMs: ${ms}, not 1 to ${MAX_PERIOD_MS}`);
  return ms;
}

/** An organization's public information. */
export interface OrgRecord {
  readonly org: Buffer;
  /** Grows with each new version; the highest wins. */
  readonly seq: bigint;
  readonly name: string;
  readonly pulsePeriodMs: number;
  /** A supervisor to send applications to. */
  readonly supervisor: Buffer;
}

/** A member's node: where its account can be reached. */
export interface MemberRecord {
  readonly org: Buffer;
  readonly account: Buffer;
  readonly seq: bigint;
  /** The libp2p peer id, as its bytes. */
  readonly peerId: Uint8Array;
  /** Multiaddrs, as their bytes. */
  readonly addrs: readonly Uint8Array[];
}

/** A decoded record of either kind, with its signer's key. */
export type DhtRecord =
  | ({ readonly kind: "org" } & OrgRecord & Signed)
  | ({ readonly kind: "member" } & MemberRecord & Signed);

interface Signed {
  readonly publicKey: Buffer;
  readonly signature: Buffer;
}

/** Why a record was refused. */
export class RecordError extends Error {
  override name = "RecordError";
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The DHT key of an organization's record. */
export function orgRecordKey(org: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`/leither/org/${hex(org)}`);
}

/** The DHT key of a member's record. */
export function memberRecordKey(org: Uint8Array, account: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`/leither/member/${hex(org)}/${hex(account)}`);
}

function sign(w: Writer, signer: Signer): Buffer {
  const message = w.finish();
  const out = Buffer.concat([message, signer.publicKey, signer.sign(signingPayload(message))]);
  if (out.length > MAX_RECORD_BYTES) throw new RangeError(`the record is over ${MAX_RECORD_BYTES} bytes`);
  return out;
}

/** Encodes and signs an organization record with the organization's key. */
export function signOrgRecord(r: OrgRecord, orgKey: Signer): Buffer {
  if (!orgKey.id.equals(r.org)) throw new RangeError("an org record is signed by the organization's key");
  if (r.name === "") throw new RangeError("an organization's name is not empty");
  if (!Number.isInteger(r.pulsePeriodMs) || r.pulsePeriodMs < 1 || r.pulsePeriodMs > MAX_PERIOD_MS)
    throw new RangeError(`pulsePeriodMs must be 1 to ${MAX_PERIOD_MS}`);
  const w = new Writer(160);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.OrgRecord).exact(r.org, 20, "org").u64(r.seq);
  writeText(w, r.name, NAME_BYTES, "name");
  w.u32(r.pulsePeriodMs).exact(r.supervisor, 20, "supervisor");
  return sign(w, orgKey);
}

/** Encodes and signs a member record with the account's key. */
export function signMemberRecord(r: MemberRecord, accountKey: Signer): Buffer {
  if (!accountKey.id.equals(r.account))
    throw new RangeError("a member record is signed by its account's key");
  if (r.peerId.length === 0 || r.peerId.length > MAX_PEER_ID_BYTES)
    throw new RangeError(`a peer id is 1 to ${MAX_PEER_ID_BYTES} bytes`);
  if (r.addrs.length > MAX_ADDRS) throw new RangeError(`at most ${MAX_ADDRS} addresses`);
  const w = new Writer(256);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.MemberRecord);
  w.exact(r.org, 20, "org").exact(r.account, 20, "account").u64(r.seq);
  w.u8(r.peerId.length).bytes(r.peerId).u8(r.addrs.length);
  for (const a of r.addrs) {
    if (a.length === 0 || a.length > MAX_ADDR_BYTES)
      throw new RangeError(`an address is 1 to ${MAX_ADDR_BYTES} bytes`);
    w.u8(a.length).bytes(a);
  }
  return sign(w, accountKey);
}

/** Decodes a record of either kind (its signature is not checked: see validateRecord). */
export function decodeRecord(bytes: Uint8Array): DhtRecord & { readonly message: Uint8Array } {
  if (bytes.length > MAX_RECORD_BYTES) throw new DecodeError(`a record is at most ${MAX_RECORD_BYTES} bytes`);
  const r = new Reader(bytes);
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown record format ${format}`);
  const kind = r.u8("kind");
  const org = Buffer.from(r.bytes(20, "org"));
  let body: ({ kind: "org" } & OrgRecord) | ({ kind: "member" } & MemberRecord);
  if (kind === NodeMessageKind.OrgRecord) {
    const seq = r.u64("seq");
    const name = readText(r, NAME_BYTES, "name");
    if (name === "") throw new DecodeError("name: empty");
    body = {
      kind: "org",
      org,
      seq,
      name,
      pulsePeriodMs: period(r.u32("pulsePeriodMs")),
      supervisor: Buffer.from(r.bytes(20, "supervisor")),
    };
  } else if (kind === NodeMessageKind.MemberRecord) {
    const account = Buffer.from(r.bytes(20, "account"));
    const seq = r.u64("seq");
    const n = r.u8("peer id length");
    if (n === 0 || n > MAX_PEER_ID_BYTES) throw new DecodeError(`peer id: ${n} bytes`);
    const peerId = Buffer.from(r.bytes(n, "peer id"));
    const k = r.u8("address count");
    if (k > MAX_ADDRS) throw new DecodeError(`${k} addresses, more than ${MAX_ADDRS}`);
    const addrs: Buffer[] = [];
    for (let i = 0; i < k; i++) {
      const m = r.u8("address length");
      if (m === 0 || m > MAX_ADDR_BYTES) throw new DecodeError(`address: ${m} bytes`);
      addrs.push(Buffer.from(r.bytes(m, "address")));
    }
    body = { kind: "member", org, account, seq, peerId, addrs };
  } else throw new DecodeError(`kind ${kind} is not a DHT record`);
  const messageEnd = r.offset;
  const publicKey = Buffer.from(r.bytes(32, "public key"));
  const signature = Buffer.from(r.bytes(64, "signature"));
  r.end("record");
  return { ...body, publicKey, signature, message: Buffer.from(bytes).subarray(0, messageEnd) };
}

const verifier = new Verifier(4096);

/**
 * The kad-dht validator of the `/leither/` namespace: throws RecordError unless `value` is a
 * well-formed record of the kind and ids its `key` names, signed by the right key.
 */
export function validateRecord(key: Uint8Array, value: Uint8Array): DhtRecord {
  let rec: ReturnType<typeof decodeRecord>;
  try {
    rec = decodeRecord(value);
  } catch (err) {
    if (err instanceof DecodeError) throw new RecordError(`malformed record: ${err.message}`);
    throw err;
  }
  const expected = rec.kind === "org" ? orgRecordKey(rec.org) : memberRecordKey(rec.org, rec.account);
  if (!Buffer.from(key).equals(Buffer.from(expected)))
    throw new RecordError("the record is not the one its key names");
  const signer = rec.kind === "org" ? rec.org : rec.account;
  if (weakKey(rec.publicKey) || !accountId(rec.publicKey).equals(signer))
    throw new RecordError(
      `the record's key is not ${rec.kind === "org" ? "the organization's" : "the account's"}`,
    );
  if (!verifier.verify(rec.signature, signingPayload(rec.message), rec.publicKey))
    throw new RecordError("the record's signature does not verify");
  return rec;
}

/** The kad-dht selector: the valid record with the highest seq (ties: the smallest bytes). */
export function selectRecord(key: Uint8Array, records: readonly Uint8Array[]): number {
  let best = -1;
  let bestSeq = -1n;
  records.forEach((bytes, i) => {
    let seq: bigint;
    try {
      seq = validateRecord(key, bytes).seq;
    } catch {
      return;
    }
    if (
      seq > bestSeq ||
      (seq === bestSeq && Buffer.compare(Buffer.from(bytes), Buffer.from(records[best]!)) < 0)
    ) {
      best = i;
      bestSeq = seq;
    }
  });
  // kad-dht expects an index; with no valid record any index is refused by its validator anyway.
  return Math.max(0, best);
}
