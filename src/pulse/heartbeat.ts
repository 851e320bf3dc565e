/**
 * The heartbeat: what a bookkeeper signs for a pulse slot in which the state did not change, so the
 * organization sees it alive and still at the same root (the pulse number only grows with a change).
 *
 *   message   = u8 format (1) | u8 kind (0x40) | org[20] | u64 slot | u64 pulse | rootHash[32]
 *   heartbeat = message | publicKey[32] | signature[64]       (166 bytes)
 *
 * `slot` is the clock's tick index (floor(time / period)); `pulse` and `rootHash` are the last final
 * pulse and its root. The signature covers SIGNING_TAG || message (docs/PROTOCOL.md, "Heartbeat").
 */

import { accountId } from "../crypto/account-id.js";
import { MESSAGE_FORMAT_V1, NodeMessageKind, signingPayload } from "../crypto/domain.js";
import { type Signer, verifyNoble } from "../crypto/ed25519.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";

/** Bytes of an encoded heartbeat. */
export const HEARTBEAT_BYTES = 166;
const MESSAGE_BYTES = 70;

/** A heartbeat's fields. */
export interface Heartbeat {
  readonly org: Buffer;
  readonly slot: number;
  readonly pulse: number;
  readonly rootHash: Buffer;
}

/** A decoded heartbeat with its signer. */
export interface SignedHeartbeat extends Heartbeat {
  readonly publicKey: Buffer;
  /** The signer's account id. */
  readonly signer: Buffer;
  readonly signature: Buffer;
}

function message(h: Heartbeat): Buffer {
  const w = new Writer(MESSAGE_BYTES);
  w.u8(MESSAGE_FORMAT_V1);
  w.u8(NodeMessageKind.Heartbeat);
  w.exact(h.org, 20, "org");
  w.u64n(h.slot);
  w.u64n(h.pulse);
  w.exact(h.rootHash, 32, "rootHash");
  return w.finish();
}

/** Encodes and signs a heartbeat. */
export function signHeartbeat(h: Heartbeat, signer: Signer): Buffer {
  const m = message(h);
  return Buffer.concat([m, signer.publicKey, signer.sign(signingPayload(m))]);
}

/** Decodes a heartbeat (its signature is not checked: see verifyHeartbeat). */
export function decodeHeartbeat(bytes: Uint8Array): SignedHeartbeat {
  if (bytes.length !== HEARTBEAT_BYTES)
    throw new DecodeError(`a heartbeat is ${HEARTBEAT_BYTES} bytes, got ${bytes.length}`);
  const r = new Reader(bytes);
  const format = r.u8();
  if (format !== MESSAGE_FORMAT_V1) throw new DecodeError(`unknown message format ${format}`);
  const kind = r.u8();
  if (kind !== NodeMessageKind.Heartbeat) throw new DecodeError(`kind ${kind} is not a heartbeat`);
  const org = Buffer.from(r.bytes(20, "org"));
  const slot = r.u64Number("slot");
  const pulse = r.u64Number("pulse");
  const rootHash = Buffer.from(r.bytes(32, "rootHash"));
  const publicKey = Buffer.from(r.bytes(32, "publicKey"));
  const signature = Buffer.from(r.bytes(64, "signature"));
  r.end("heartbeat");
  return { org, slot, pulse, rootHash, publicKey, signer: accountId(publicKey), signature };
}

/** True if `bytes` is a well-formed heartbeat signed by its signer (pure JavaScript; not a hot path). */
export function verifyHeartbeat(bytes: Uint8Array): boolean {
  let h: SignedHeartbeat;
  try {
    h = decodeHeartbeat(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return false;
    throw err;
  }
  return verifyNoble(h.signature, signingPayload(Buffer.from(bytes).subarray(0, MESSAGE_BYTES)), h.publicKey);
}
