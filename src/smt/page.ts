/**
 * Storage pages (docs/PROTOCOL.md, "Tree page v1"). A page holds the part of the tree whose internal
 * nodes have depths in [8L, 8L + 8) under one L-byte prefix (the seed's 8 binary levels per unit),
 * with the leaves that hang from them; a deeper subtree is a reference to its own page.
 *
 * Every internal node's header carries its summary and the length of its left subtree, so a loaded
 * page is not decoded whole: a subtree stays a SpanNode over the page's bytes until a walk opens
 * it, and a rewritten page copies unchanged subtrees byte for byte.
 */
import { DecodeError, type Reader, type Writer } from "../util/bytes.js";
import { ID_BITS, ID_BYTES } from "./bits.js";
import type { HashStr } from "./hash.js";
import {
  hashOf,
  type InnerNode,
  Kind,
  type LeafNode,
  makeLeaf,
  type RefNode,
  type SpanNode,
  type TreeNode,
} from "./node.js";

/** Format byte that starts every page. */
export const PAGE_FORMAT_V1 = 1;
/** Binary levels stored together in one page. */
export const PAGE_BITS = 8;

const T_LEAF = 0;
const T_INNER = 1;
const T_REF = 2;
/** tag, id, u64 amount, dataHash. */
const LEAF_LEN = 1 + ID_BYTES + 8 + 32;
/** tag, depth, u16 left length, hash, u64 sum, u64 count. */
const INNER_LEN = 1 + 1 + 2 + 32 + 8 + 8;
/** tag, depth, u64 version, hash, u64 sum, u64 count; then the prefix bytes. */
const REF_LEN = 1 + 1 + 8 + 32 + 8 + 8;

/** The page level of an internal node: which 8-bit slice of the id its depth falls in. */
export function pageLevel(depth: number): number {
  return depth >> 3; // depth / PAGE_BITS
}

/** Writes a leaf: tag 0, id, u64 amount, dataHash. */
export function writeLeaf(w: Writer, n: LeafNode): void {
  w.u8(T_LEAF).bytes(n.key).u64(n.sum).bytes(n.dataHash);
}

/** Writes a reference to a stored page: tag 2, depth, version, hash, sum, count, prefix bytes. */
export function writeRef(w: Writer, n: InnerNode | RefNode | SpanNode, version: number): void {
  if (n instanceof PageRef && n.version === version) {
    w.copyFrom(n.bytes, n.start, n.end);
    return;
  }
  w.u8(T_REF).u8(n.depth).u64n(version).latin1(hashOf(n)).u64(n.sum).u64n(n.count);
  // Only the prefix bits are meaningful; the key of a loaded node may be any id below it.
  w.prefixBytes(n.key, n.depth);
}

/**
 * Writes an internal node's header (tag 1, depth, left length, hash, sum, count); its left then right
 * subtree follow. Returns where the left length goes: patch it once the left subtree is written.
 */
export function writeInnerHeader(
  w: Writer,
  n: { depth: number; sum: bigint; count: number },
  hash: HashStr,
): number {
  w.u8(T_INNER).u8(n.depth);
  const at = w.length;
  w.u16(0).latin1(hash).u64(n.sum).u64n(n.count);
  return at;
}

function u64At(b: Buffer, o: number): bigint {
  const hi = b.readUInt32BE(o);
  const lo = b.readUInt32BE(o + 4);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function countAt(b: Buffer, o: number, what: string): number {
  const hi = b.readUInt32BE(o);
  if (hi > 0x1fffff) throw new DecodeError(`${what}: count above 2^53`);
  return hi * 0x100000000 + b.readUInt32BE(o + 4);
}

/** The leftmost id (or ref prefix) below the node encoded at `off`: the key of a span. */
function leftmostKey(b: Buffer, off: number): Uint8Array {
  for (;;) {
    const tag = b[off];
    if (tag === T_INNER) off += INNER_LEN;
    else if (tag === T_LEAF) return b.subarray(off + 1, off + 1 + ID_BYTES);
    else {
      const key = Buffer.alloc(ID_BYTES);
      b.copy(key, 0, off + REF_LEN, off + REF_LEN + Math.ceil(b[off + 1]! / 8));
      return key;
    }
  }
}

/**
 * A node read from a page that keeps its encoding: the hash and sum at fixed offsets are read when
 * first asked for, since most nodes of a loaded page are never looked at.
 */
abstract class EncodedNode {
  private h: HashStr | undefined;
  private s: bigint | undefined;
  constructor(
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
    readonly depth: number,
    readonly count: number,
    private readonly hashAt: number,
  ) {}
  get hash(): HashStr {
    if (this.h === undefined)
      this.h = this.bytes.toString("latin1", this.start + this.hashAt, this.start + this.hashAt + 32);
    return this.h;
  }
  get sum(): bigint {
    // The sum follows the hash in both layouts.
    if (this.s === undefined) this.s = u64At(this.bytes, this.start + this.hashAt + 32);
    return this.s;
  }
}

/** An in-page internal node left in its bytes (header: tag, depth, u16 left length, hash, sum, count). */
class PageSpan extends EncodedNode implements SpanNode {
  readonly kind = Kind.Span as const;
  private k: Uint8Array | undefined;
  constructor(bytes: Buffer, start: number, end: number, depth: number, count: number) {
    super(bytes, start, end, depth, count, 4);
  }
  get key(): Uint8Array {
    if (this.k === undefined) this.k = leftmostKey(this.bytes, this.start);
    return this.k;
  }
}

/** A reference read from a page (tag, depth, version, hash, sum, count, prefix), copied as it is. */
class PageRef extends EncodedNode implements RefNode {
  readonly kind = Kind.Ref as const;
  private k: Buffer | undefined;
  constructor(
    bytes: Buffer,
    start: number,
    end: number,
    depth: number,
    readonly version: number,
    count: number,
  ) {
    super(bytes, start, end, depth, count, 10);
  }
  get key(): Buffer {
    if (this.k === undefined) {
      this.k = Buffer.alloc(ID_BYTES);
      this.bytes.copy(this.k, 0, this.start + REF_LEN, this.end);
    }
    return this.k;
  }
}

/**
 * Reads the node encoded in bytes [start, end): a leaf, a ref, or a span for an internal node.
 * `level` is the page's level; the node's depth must exceed `parentDepth`.
 */
function readNode(b: Buffer, start: number, end: number, level: number, parentDepth: number): TreeNode {
  const len = end - start;
  if (len < 1) throw new DecodeError("truncated: empty node");
  const tag = b[start];
  if (tag === T_LEAF) {
    if (len !== LEAF_LEN) throw new DecodeError(`leaf of ${len} bytes`);
    // Views into the page's bytes, not copies.
    return makeLeaf(
      b.subarray(start + 1, start + 21),
      u64At(b, start + 21),
      b.subarray(start + 29, start + 61),
    );
  }
  if (len < 2) throw new DecodeError("truncated: node depth");
  const depth = b[start + 1]!;
  if (depth <= parentDepth || depth >= ID_BITS) throw new DecodeError(`node depth ${depth} out of order`);
  if (tag === T_REF) {
    const plen = Math.ceil(depth / 8);
    if (len !== REF_LEN + plen) throw new DecodeError(`ref of ${len} bytes at depth ${depth}`);
    if (pageLevel(depth) <= level) throw new DecodeError("a page reference must point to a deeper page");
    // The prefix must be canonical: no bit set at or after `depth` in its last byte.
    const rem = depth & 7;
    if (rem !== 0 && (b[end - 1]! & (0xff >> rem)) !== 0)
      throw new DecodeError("ref prefix is not canonical");
    return new PageRef(
      b,
      start,
      end,
      depth,
      countAt(b, start + 2, "ref version"),
      countAt(b, start + 50, "ref"),
    );
  }
  if (tag !== T_INNER) throw new DecodeError(`unknown node tag ${tag}`);
  if (pageLevel(depth) !== level)
    throw new DecodeError(`internal node at depth ${depth} outside page level ${level}`);
  if (len < INNER_LEN + 2 * LEAF_LEN - 2 * (LEAF_LEN - REF_LEN))
    throw new DecodeError("truncated internal node");
  const leftLen = b.readUInt16BE(start + 2);
  if (INNER_LEN + leftLen >= len) throw new DecodeError("internal node's left subtree runs past its end");
  return new PageSpan(b, start, end, depth, countAt(b, start + 44, "node"));
}

/** Decodes a span's two children (allocating only them) into an internal node. */
export function openSpan(s: SpanNode): InnerNode {
  const b = s.bytes;
  const mid = s.start + INNER_LEN + b.readUInt16BE(s.start + 2);
  const level = pageLevel(s.depth);
  const left = readNode(b, s.start + INNER_LEN, mid, level, s.depth);
  const right = readNode(b, mid, s.end, level, s.depth);
  if (left.sum + right.sum !== s.sum || left.count + right.count !== s.count)
    throw new DecodeError(`node at depth ${s.depth}: sum or count differs from its children's`);
  return {
    kind: Kind.Inner,
    key: left.key,
    depth: s.depth,
    left,
    right,
    sum: s.sum,
    count: s.count,
    hash: s.hash,
    stored: undefined,
  };
}

/**
 * Decodes a page stored at `version` for page `level`; returns its top node, marked as stored at
 * that version. Throws DecodeError on bytes that are not a well-formed page (subtrees below the top
 * are checked when they are opened).
 */
export function decodePage(bytes: Buffer, level: number, version: number): InnerNode {
  if (bytes.length < 1 || bytes[0] !== PAGE_FORMAT_V1)
    throw new DecodeError(`unknown page format ${bytes[0]}`);
  const top = readNode(bytes, 1, bytes.length, level, level * 8 - 1);
  if (top.kind !== Kind.Span) throw new DecodeError("a page must start with an internal node");
  const n = openSpan(top);
  n.stored = version;
  return n;
}

/** Writes a root record's node: nothing (empty tree), a leaf, or a reference to the top page. */
export function encodeRootNode(w: Writer, root: TreeNode | null, version: number): void {
  if (root === null) w.u8(0xff);
  else if (root.kind === Kind.Leaf) writeLeaf(w, root);
  else writeRef(w, root, version);
}

/** Reads a root record's node (the rest of `r`): null for the empty tree, a leaf, or a RefNode. */
export function decodeRootNode(r: Reader): LeafNode | RefNode | null {
  const rest = Buffer.from(r.bytes(r.remaining, "root node"));
  if (rest.length === 1 && rest[0] === 0xff) return null;
  const n = readNode(rest, 0, rest.length, -1, -1);
  if (n.kind === Kind.Span) throw new DecodeError("a root record holds a leaf or a reference");
  return n as LeafNode | RefNode;
}
