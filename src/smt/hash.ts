/**
 * The hashing of SPEC-smt.md v1: leaf and internal-node hashes and the root synopsis.
 * SHA-256 through node:crypto's one-shot `hash`, the fastest here (README: bench figures).
 */
import { hash } from "node:crypto";
import { writeU64, writeU64n } from "../util/bytes.js";
import { ID_BYTES, writePrefix } from "./bits.js";

/** Largest value a u64 holds; sums above it make a tree invalid. */
export const MAX_U64 = (1n << 64n) - 1n;

/** A subtree's summary: its hash, the sum of its amounts and its number of leaves. */
export interface Summary {
  readonly hash: Uint8Array;
  readonly sum: bigint;
  readonly count: number;
}

/** The sum and count parts of a summary. */
export interface SumCount {
  readonly sum: bigint;
  readonly count: number;
}

/** The empty tree's root synopsis: 32 zero bytes, sum 0, count 0. */
export const EMPTY_SUMMARY: Summary = Object.freeze({ hash: new Uint8Array(32), sum: 0n, count: 0 });

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Buffer {
  return hash("sha256", data, "buffer");
}

// Scratch buffers: one hash at a time in one thread, so reuse avoids an allocation per hash.
const LEAF_LEN = 1 + ID_BYTES + 8 + 32;
const leafBuf = Buffer.alloc(LEAF_LEN);
const NODE_LEN = 1 + 1 + ID_BYTES + 2 * (32 + 8 + 8);
const nodeBuf = Buffer.alloc(NODE_LEN);

let hashCalls = 0;
/** Number of tree hashes computed by this process so far (the benchmarks report hashes per update). */
export function hashCount(): number {
  return hashCalls;
}

/**
 * A hash held as a 32-character latin1 string, one character a byte. The tree keeps its hashes so:
 * node:crypto's `hash(..., "latin1")` runs about 3x faster here than with a Buffer result, whose
 * backing store is a separate allocation per call.
 */
export type HashStr = string;

/** A hash's bytes as a latin1 string. */
export function hashStr(h: Uint8Array): HashStr {
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString("latin1");
}

/** A latin1 hash string's bytes. */
export function hashBytes(h: HashStr): Buffer {
  return Buffer.from(h, "latin1");
}

function putHash(buf: Buffer, offset: number, h: Uint8Array | HashStr): void {
  if (typeof h === "string") buf.write(h, offset, 32, "latin1");
  else buf.set(h, offset);
}

/** `H(0x00 || id || u64(amount) || dataHash)` as a latin1 string. Throws RangeError if amount is outside u64. */
export function leafHashStr(id: Uint8Array, amount: bigint, dataHash: Uint8Array): HashStr {
  leafBuf[0] = 0;
  leafBuf.set(id, 1);
  writeU64(leafBuf, 1 + ID_BYTES, amount);
  leafBuf.set(dataHash, 1 + ID_BYTES + 8);
  hashCalls++;
  return hash("sha256", leafBuf, "binary"); // "binary" is latin1
}

/**
 * `H(0x01 || u8(d) || prefix(anyIdBelow, d) || L.hash || u64(L.sum) || u64(L.count) || R...)` as a
 * latin1 string; child hashes as bytes or latin1 strings. Throws RangeError if a sum or count is
 * outside u64.
 */
export function nodeHashStr(
  depth: number,
  anyIdBelow: Uint8Array,
  lHash: Uint8Array | HashStr,
  l: SumCount,
  rHash: Uint8Array | HashStr,
  r: SumCount,
): HashStr {
  nodeBuf[0] = 1;
  nodeBuf[1] = depth;
  writePrefix(nodeBuf, 2, anyIdBelow, depth);
  let o = 2 + ID_BYTES;
  putHash(nodeBuf, o, lHash);
  writeU64(nodeBuf, o + 32, l.sum);
  writeU64n(nodeBuf, o + 40, l.count);
  o += 48;
  putHash(nodeBuf, o, rHash);
  writeU64(nodeBuf, o + 32, r.sum);
  writeU64n(nodeBuf, o + 40, r.count);
  hashCalls++;
  return hash("sha256", nodeBuf, "binary");
}

/** leafHashStr as bytes. */
export function leafHash(id: Uint8Array, amount: bigint, dataHash: Uint8Array): Buffer {
  return hashBytes(leafHashStr(id, amount, dataHash));
}

/** nodeHashStr as bytes. */
export function nodeHash(...args: Parameters<typeof nodeHashStr>): Buffer {
  return hashBytes(nodeHashStr(...args));
}
