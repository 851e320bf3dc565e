/**
 * ed25519 key pairs and signatures (RFC 8032). Keys are made with @noble/ed25519; the hot path signs
 * and verifies with node:crypto (OpenSSL), about 14x faster here, with each public key's KeyObject
 * cached. Both produce identical signatures (ed25519 is deterministic); test/crypto-keys.test.ts checks
 * that each verifies the other's.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { ClockCache } from "../util/clock-cache.js";
import { accountId } from "./account-id.js";
import { verifiedSignatures } from "./verified.js";

// noble's synchronous API needs a SHA-512; hand it the audited one from the same family.
ed.hashes.sha512 = sha512;

/** Bytes of a secret key (the RFC 8032 seed), a public key and a signature. */
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** An ed25519 key pair and its account id. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** SPEC-smt account id: the first 20 bytes of SHA-256 of the public key. */
  readonly id: Buffer;
}

// DER headers that wrap raw ed25519 keys for node:crypto (RFC 8410).
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** A new random key pair (or the one of a 32-byte seed). */
export function generateKeyPair(seed?: Uint8Array): KeyPair {
  const secretKey = seed === undefined ? ed.utils.randomSecretKey() : Uint8Array.from(seed);
  if (secretKey.length !== SECRET_KEY_BYTES)
    throw new RangeError(`an ed25519 secret key is ${SECRET_KEY_BYTES} bytes, got ${secretKey.length}`);
  const publicKey = ed.getPublicKey(secretKey);
  return { secretKey, publicKey, id: accountId(publicKey) };
}

/** A signer bound to one secret key: node:crypto with the private KeyObject made once. */
export class Signer {
  private readonly key: KeyObject;
  /** The signer's public key. */
  readonly publicKey: Uint8Array;
  /** The signer's account id. */
  readonly id: Buffer;

  constructor(kp: KeyPair) {
    this.key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, kp.secretKey]),
      format: "der",
      type: "pkcs8",
    });
    this.publicKey = kp.publicKey;
    this.id = kp.id;
  }

  /** The 64-byte signature of `message`. */
  sign(message: Uint8Array): Buffer {
    return sign(null, message, this.key);
  }
}

/** Signs with @noble/ed25519 (pure JavaScript; for cross-checks and tools). */
export function signNoble(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/**
 * Verifies with @noble/ed25519 (zip215 off: canonical encodings only). For cross-checks: noble checks
 * the cofactored equation and OpenSSL the cofactorless one, which agree on every honest signature;
 * the ledger's answer is always node:crypto's (Verifier), so every node gives the same one.
 */
export function verifyNoble(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Verifies with node:crypto, caching each public key's KeyObject (making one costs about as much as
 * a verification). Never throws: a malformed key or signature is simply invalid. Refuses public keys
 * that OpenSSL would take but that no honest key pair has (weakKey): a non-canonical encoding
 * (y >= p), and a point of small order, for which `R = identity, S = 0` verifies on any message.
 */
export class Verifier {
  private readonly cache: ClockCache<KeyObject | null>;

  /**
   * @param maxKeys KeyObjects kept (the least used dropped first). @default 65536
   * @param remember share results with the process's verified signatures (verified.ts); off only
   *   to measure verification itself. @default true
   */
  constructor(
    maxKeys = 65_536,
    private readonly remember = true,
  ) {
    this.cache = new ClockCache(maxKeys);
  }

  /** True when `signature` is `publicKey`'s signature of `message`. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (signature.length !== SIGNATURE_BYTES || publicKey.length !== 32) return false;
    if (this.remember && verifiedSignatures.has(publicKey, signature, message)) return true;
    const key = this.keyObject(publicKey);
    if (key === null) return false;
    try {
      const ok = verify(null, message, key, signature);
      if (ok && this.remember) verifiedSignatures.add(publicKey, signature, message);
      return ok;
    } catch {
      return false;
    }
  }

  private keyObject(publicKey: Uint8Array): KeyObject | null {
    const k = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString("latin1");
    let obj = this.cache.get(k);
    if (obj !== undefined) return obj;
    if (weakKey(publicKey)) obj = null;
    else {
      try {
        obj = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
      } catch {
        // OpenSSL takes any 32 bytes here (a non-point fails at verify). Whatever this was, do not
        // cache it: a passing failure must not stay a "bad signature" for this key on this node.
        return null;
      }
    }
    this.cache.set(k, obj, 1);
    return obj;
  }
}

/**
 * The y coordinates (little-endian, sign bit cleared) of the 8 points of small order: 0, 1, p - 1 and
 * the two of order 8 (each y holds two points, x and -x). libsodium blocks the same list.
 */
const SMALL_ORDER_Y = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
].map((h) => Buffer.from(h, "hex"));

/** True for a public key no honest key pair has: y >= p (non-canonical) or a point of small order. */
export function weakKey(pk: Uint8Array): boolean {
  const top = pk[31]! & 0x7f;
  // y >= p = 2^255 - 19: top byte 0x7f, bytes 30..1 all 0xff, byte 0 >= 0xed.
  if (top === 0x7f && pk[0]! >= 0xed) {
    let ones = true;
    for (let i = 1; i < 31; i++) if (pk[i] !== 0xff) ones = false;
    if (ones) return true;
  }
  return SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 31; i++) if (pk[i] !== y[i]) return false;
    return top === y[31];
  });
}
