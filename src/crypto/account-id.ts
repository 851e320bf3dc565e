/**
 * Account ids (SPEC-smt.md, "Account id"): the first 20 bytes of SHA-256 of the 32-byte ed25519
 * public key. Keys, signing and encodings join this folder with the ledger's state machine.
 */
import { hash } from "node:crypto";

/** Length of an ed25519 public key in bytes. */
export const PUBLIC_KEY_BYTES = 32;

/** The 160-bit account id of an ed25519 public key. Throws RangeError on a key of the wrong length. */
export function accountId(publicKey: Uint8Array): Buffer {
  if (publicKey.length !== PUBLIC_KEY_BYTES)
    throw new RangeError(`an ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  return hash("sha256", publicKey, "buffer").subarray(0, 20);
}
