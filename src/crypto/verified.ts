/**
 * The signatures this process has seen verify, so that one is not verified twice: a transaction a
 * bookkeeper checks when it arrives (to relay it) is not checked again in the pulse that applies it,
 * nor when it is relayed again. Keyed by SHA-256 of (public key ‖ signature ‖ message): a hit is the
 * very same triple, so the answer is the one verification would give. Only successes are kept (a
 * failure is cheap to refuse again and must not be pinned by a passing fault).
 */
import { createHash } from "node:crypto";
import { ClockCache } from "../util/clock-cache.js";

/** A bounded set of verified (public key, signature, message) triples. */
export class VerifiedSignatures {
  private readonly cache: ClockCache<true>;

  /** @param max triples kept (the least used dropped first) */
  constructor(max = 1 << 16) {
    this.cache = new ClockCache(max);
  }

  /** Whether this exact triple verified here before. */
  has(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
    return this.cache.get(keyOf(publicKey, signature, message)) === true;
  }

  /** Records a triple that verified. */
  add(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
    this.cache.set(keyOf(publicKey, signature, message), true, 1);
  }
}

function keyOf(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): string {
  return createHash("sha256").update(publicKey).update(signature).update(message).digest("base64");
}

/** The process's verified signatures (main thread; worker threads report to it through their caller). */
export const verifiedSignatures = new VerifiedSignatures();
