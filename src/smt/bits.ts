/**
 * Bit arithmetic on 160-bit account ids, as SPEC-smt.md defines it: bit 0 is the most significant
 * bit of byte 0.
 */

/** Length of an account id in bytes. */
export const ID_BYTES = 20;
/** Length of an account id in bits. */
export const ID_BITS = 160;

/** Bit `i` of a 20-byte key (0 or 1). */
export function bit(k: Uint8Array, i: number): number {
  return (k[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** `prefix(k, d)`: a fresh 20-byte copy of `k` with every bit at position >= d cleared. */
export function prefix(k: Uint8Array, d: number): Buffer {
  const out = Buffer.alloc(ID_BYTES);
  const full = d >> 3;
  for (let i = 0; i < full; i++) out[i] = k[i]!;
  const rem = d & 7;
  if (rem !== 0) out[full] = k[full]! & (0xff << (8 - rem));
  return out;
}

/** Writes `prefix(k, d)` into `out` at `offset` without allocating. */
export function writePrefix(out: Uint8Array, offset: number, k: Uint8Array, d: number): void {
  // One copy and a fill beat a byte loop: this runs once per node hash.
  out.set(k.length === ID_BYTES ? k : k.subarray(0, ID_BYTES), offset);
  const full = d >> 3;
  const rem = d & 7;
  if (rem !== 0) out[offset + full] = k[full]! & (0xff << (8 - rem));
  const from = offset + full + (rem !== 0 ? 1 : 0);
  if (from < offset + ID_BYTES) out.fill(0, from, offset + ID_BYTES);
}

/**
 * Compares the first `d` bits of `a` and `b`: negative, zero or positive, like `Buffer.compare`.
 * Equal means `prefix(a, d) == prefix(b, d)`.
 */
export function comparePrefix(a: Uint8Array, b: Uint8Array, d: number): number {
  const full = d >> 3;
  for (let i = 0; i < full; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x - y;
  }
  const rem = d & 7;
  if (rem === 0) return 0;
  const mask = 0xff << (8 - rem);
  return (a[full]! & mask) - (b[full]! & mask);
}

/** Length in bits of the longest common prefix of `a` and `b`, at most `limit`. */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array, limit = ID_BITS): number {
  const bytes = Math.min(ID_BYTES, Math.ceil(limit / 8));
  for (let i = 0; i < bytes; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return Math.min(limit, i * 8 + Math.clz32(x) - 24);
  }
  return limit;
}

/** True if every bit of `k` at position >= d is zero (a canonical prefix). */
export function isPrefixCanonical(k: Uint8Array, d: number): boolean {
  const full = d >> 3;
  const rem = d & 7;
  if (rem !== 0 && (k[full]! & (0xff >> rem)) !== 0) return false;
  for (let i = rem === 0 ? full : full + 1; i < ID_BYTES; i++) if (k[i] !== 0) return false;
  return true;
}
