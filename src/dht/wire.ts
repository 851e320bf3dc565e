/**
 * The messages nodes send each other (docs/PROTOCOL.md §11). Every one is bounded: a decoder reads at
 * most its limit and throws DecodeError on anything else, so a peer's bytes never reach the rest of
 * the node unchecked. Signed messages follow the project's rule: `u8 format | u8 kind | org[20] | ...`,
 * then the signer's public key and the signature over `SIGNING_TAG || message`.
 *
 *   request     = u8 1 | u8 0x43 | org[20] | from[20] | u64 timeMs | u8 op | u32 n | body[n] | pk[32] | sig[64]
 *   pulse final = u8 1 | u8 0x44 | org[20] | u64 slot | u64 pulse | rootHash[32] | u64 sum | u64 count | pk | sig
 *   group msg   = u8 1 | u8 0x45 | org[20] | from[20] | u64 timeMs | text | pk | sig
 *   response    = u8 status (0 ok, 1 error) | ok: body | error: u8 code | text
 */
import { accountId } from "../crypto/account-id.js";
import { MESSAGE_FORMAT_V1, NodeMessageKind, signingPayload } from "../crypto/domain.js";
import { type Signer, Verifier, weakKey } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";

/** Largest request a node reads (a request carries at most one transaction or message). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Largest response a node sends or reads (Info carries the genesis: up to about 1.2 MB). */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Largest text of a direct or group message, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 4096;
/** How far a request's time may be from the receiver's clock. */
export const REQUEST_SKEW_MS = 5 * 60_000;

/** What a request asks for. Append only. */
export const Op = {
  /** Public: the organization's genesis and its latest final pulse. */
  Info: 1,
  /** Anyone: an application to join (a signed Apply transaction and the applicant's member record). */
  Apply: 2,
  /** Members: a transaction for the bookkeeper. */
  Submit: 3,
  /** The owner only: its accounts' data and proofs at the latest pulse. */
  Accounts: 4,
  /** A party of the transaction: its receipt. */
  Receipt: 5,
  /** The payer: asks the payee's node to countersign a transfer. */
  Countersign: 6,
  /** Members: a direct message to an account this node holds. */
  Message: 7,
  /** Members and guests: an account's role (anyone: its own). */
  Role: 8,
  /** Anyone who knows its id: a transaction's status. */
  Status: 9,
  /** Members and the committee: final pulses' accepted transactions and certificates (a bookkeeper catching up). */
  Pulses: 10,
  /** Anyone: the committee chain, each cycle's members with the certificate that binds them (a member following). */
  Committees: 11,
} as const;
export type Op = (typeof Op)[keyof typeof Op];
const OPS = new Set<number>(Object.values(Op));

/** Why a request was refused. Append only. */
export const NetErrorCode = {
  BAD_REQUEST: 1,
  FORBIDDEN: 2,
  NOT_FOUND: 3,
  REFUSED: 4,
  BUSY: 5,
  UNAVAILABLE: 6,
} as const;
export type NetErrorCode = keyof typeof NetErrorCode;
const CODE_NAMES = Object.fromEntries(Object.entries(NetErrorCode).map(([k, v]) => [v, k])) as Record<
  number,
  NetErrorCode
>;

/** A refusal, as sent back to the asking peer. */
export class NetError extends Error {
  override name = "NetError";
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A decoded, signature-checked request. */
export interface NetRequest {
  readonly org: Buffer;
  /** The account that signed it. */
  readonly from: Buffer;
  readonly timeMs: number;
  readonly op: Op;
  readonly body: Buffer;
}

/** A decoded, signature-checked group message. */
export interface GroupMessage {
  readonly org: Buffer;
  readonly from: Buffer;
  readonly timeMs: number;
  readonly text: string;
}

const verifier = new Verifier(4096);

function signed(w: Writer, signer: Signer): Buffer {
  const message = w.finish();
  return Buffer.concat([message, signer.publicKey, signer.sign(signingPayload(message))]);
}

/** Reads the trailing key and signature, checks them, returns the signer's id. */
function checkSignature(bytes: Uint8Array, r: Reader, what: string): Buffer {
  const end = r.offset;
  const publicKey = r.bytes(32, "public key");
  const signature = r.bytes(64, "signature");
  r.end(what);
  if (weakKey(publicKey)) throw new DecodeError(`${what}: weak public key`);
  if (!verifier.verify(signature, signingPayload(bytes.subarray(0, end)), publicKey))
    throw new DecodeError(`${what}: the signature does not verify`);
  return accountId(publicKey);
}

function header(r: Reader, kind: number, what: string): Buffer {
  const format = r.u8("format");
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`${what}: unknown format ${format}`);
  const k = r.u8("kind");
  if (k !== kind) throw new DecodeError(`kind ${k} is not a ${what}`);
  return Buffer.from(r.bytes(20, "org"));
}

/** Encodes and signs a request. */
export function signRequest(
  r: { org: Buffer; op: Op; body: Uint8Array; timeMs?: number },
  signer: Signer,
): Buffer {
  if (r.body.length > MAX_REQUEST_BYTES - 256) throw new RangeError("the request body is too large");
  const w = new Writer(r.body.length + 80);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.NetRequest).exact(r.org, 20, "org").exact(signer.id, 20, "from");
  w.u64n(r.timeMs ?? Date.now())
    .u8(r.op)
    .u32(r.body.length)
    .bytes(r.body);
  return signed(w, signer);
}

/** Decodes a request and checks its signature; throws DecodeError on anything else. */
export function decodeRequest(bytes: Uint8Array): NetRequest {
  if (bytes.length > MAX_REQUEST_BYTES)
    throw new DecodeError(`a request is at most ${MAX_REQUEST_BYTES} bytes`);
  const r = new Reader(bytes);
  const org = header(r, NodeMessageKind.NetRequest, "request");
  const from = Buffer.from(r.bytes(20, "from"));
  const timeMs = r.u64Number("timeMs");
  const op = r.u8("op");
  if (!OPS.has(op)) throw new DecodeError(`unknown op ${op}`);
  const body = Buffer.from(r.bytes(r.u32("body length"), "body"));
  const signer = checkSignature(bytes, r, "request");
  if (!signer.equals(from)) throw new DecodeError("request: signed by another account than its sender");
  return { org, from, timeMs, op: op as Op, body };
}

/** Encodes and signs a group message. */
export function signGroupMessage(m: { org: Buffer; text: string; timeMs?: number }, signer: Signer): Buffer {
  const w = new Writer(m.text.length + 200);
  w.u8(MESSAGE_FORMAT_V1)
    .u8(NodeMessageKind.GroupMessage)
    .exact(m.org, 20, "org")
    .exact(signer.id, 20, "from");
  w.u64n(m.timeMs ?? Date.now());
  writeText(w, m.text, MAX_TEXT_BYTES, "text");
  return signed(w, signer);
}

/** Decodes a group message and checks its signature. */
export function decodeGroupMessage(bytes: Uint8Array): GroupMessage {
  if (bytes.length > MAX_TEXT_BYTES + 256) throw new DecodeError("a group message is too large");
  const r = new Reader(bytes);
  const org = header(r, NodeMessageKind.GroupMessage, "group message");
  const from = Buffer.from(r.bytes(20, "from"));
  const timeMs = r.u64Number("timeMs");
  const text = readText(r, MAX_TEXT_BYTES, "text");
  const signer = checkSignature(bytes, r, "group message");
  if (!signer.equals(from)) throw new DecodeError("group message: signed by another account than its sender");
  return { org, from, timeMs, text };
}

/** Most transactions, and bytes of them, in one relayed batch (a gossip frame is at most 1 MiB). */
export const MAX_BATCH_TXS = 4096;
export const MAX_BATCH_BYTES = 900 * 1024;

/**
 * A batch of transactions a bookkeeper relays to the others on the tx topic, signed by its account:
 *
 *   u8 1 ‖ u8 0x4a ‖ org[20] ‖ u64 timeMs ‖ u16 count ‖ count × (u32 len ‖ tx) ‖ publicKey[32] ‖ signature[64]
 */
export function signTxBatch(
  b: { org: Buffer; txs: readonly Uint8Array[]; timeMs?: number },
  signer: Signer,
): Buffer {
  if (b.txs.length > MAX_BATCH_TXS)
    throw new RangeError(`a batch holds at most ${MAX_BATCH_TXS} transactions`);
  const w = new Writer(1024);
  w.u8(MESSAGE_FORMAT_V1).u8(NodeMessageKind.TxBatch).exact(b.org, 20, "org");
  w.u64n(b.timeMs ?? Date.now()).u16(b.txs.length);
  for (const tx of b.txs) w.u32(tx.length).bytes(tx);
  return signed(w, signer);
}

/** Decodes a relayed batch and checks its signature (not who signed it, nor the transactions: the caller does). */
export function decodeTxBatch(bytes: Uint8Array): {
  org: Buffer;
  timeMs: number;
  txs: Buffer[];
  signer: Buffer;
} {
  if (bytes.length > MAX_BATCH_BYTES + 4096 * 4 + 256)
    throw new DecodeError("a transaction batch is too large");
  const r = new Reader(bytes);
  const org = header(r, NodeMessageKind.TxBatch, "transaction batch");
  const timeMs = r.u64Number("timeMs");
  const n = r.u16("count");
  if (n > MAX_BATCH_TXS)
    throw new DecodeError(`a transaction batch holds at most ${MAX_BATCH_TXS} transactions`);
  const txs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32("length");
    if (len > 64 * 1024) throw new DecodeError("a transaction in a batch is over 64 KiB");
    txs.push(Buffer.from(r.bytes(len, "transaction")));
  }
  const signer = checkSignature(bytes, r, "transaction batch");
  return { org, timeMs, txs, signer };
}

/** An OK response. */
export function okResponse(body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(0), body]);
}

/** An error response. */
export function errorResponse(err: NetError): Buffer {
  const w = new Writer(err.message.length + 8);
  w.u8(1).u8(NetErrorCode[err.code]);
  writeText(w, safeText(err.message), 1024, "error");
  return w.finish();
}

/** The body of an OK response; throws the NetError of an error response. */
export function decodeResponse(bytes: Uint8Array): Buffer {
  if (bytes.length > MAX_RESPONSE_BYTES) throw new DecodeError("the response is too large");
  const r = new Reader(bytes);
  const status = r.u8("status");
  if (status === 0) return Buffer.from(bytes).subarray(1);
  if (status !== 1) throw new DecodeError(`unknown response status ${status}`);
  const code = CODE_NAMES[r.u8("code")];
  if (code === undefined) throw new DecodeError("unknown error code");
  const text = readText(r, 1024, "error");
  r.end("response");
  throw new NetError(code, text);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

// Error texts cross to peers: keep them short and printable.
function safeText(s: string): string {
  return s.replace(CONTROL, " ").slice(0, 300).toWellFormed();
}

/** Small length-prefixed lists used in bodies: u16 count | count x (u32 n | bytes[n]). */
export function encodeList(items: readonly Uint8Array[]): Buffer {
  const w = new Writer(64);
  w.u16(items.length);
  for (const it of items) w.u32(it.length).bytes(it);
  return w.finish();
}

/** Reads a list written by encodeList, at most `max` items. */
export function decodeList(bytes: Uint8Array, max: number, what: string): Buffer[] {
  const r = new Reader(bytes);
  const n = r.u16(`${what} count`);
  if (n > max) throw new DecodeError(`${what}: ${n} items, more than ${max}`);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(Buffer.from(r.bytes(r.u32(`${what} length`), what)));
  r.end(what);
  return out;
}
