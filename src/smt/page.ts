/**
 * Storage pages (docs/PROTOCOL.md, "Tree page v1"). A page holds the part of the tree whose internal
 * nodes have depths in [8L, 8L + 8) under one L-byte prefix (the seed's 8 binary levels per unit),
 * with the leaves that hang from them; a deeper subtree is a reference to its own page. Internal
 * nodes keep their hash so a page is never rehashed on load; sums and counts are added up on decode.
 */
import { DecodeError, Reader, type Writer } from "../util/bytes.js";
import { bit, comparePrefix, ID_BITS, ID_BYTES, isPrefixCanonical, prefix } from "./bits.js";
import {
  hashOf,
  type InnerNode,
  Kind,
  type LeafNode,
  makeLeaf,
  type RefNode,
  type TreeNode,
} from "./node.js";

/** Format byte that starts every page. */
export const PAGE_FORMAT_V1 = 1;
/** Binary levels stored together in one page. */
export const PAGE_BITS = 8;

const T_LEAF = 0;
const T_INNER = 1;
const T_REF = 2;

/** The page level of an internal node: which 8-bit slice of the id its depth falls in. */
export function pageLevel(depth: number): number {
  return depth >> 3;
}

/** Writes a leaf: tag 0, id, u64 amount, dataHash. */
export function writeLeaf(w: Writer, n: LeafNode): void {
  w.u8(T_LEAF).bytes(n.key).u64(n.sum).bytes(n.dataHash);
}

/** Writes a reference to a stored page: tag 0x02, depth, prefix bytes, version, hash, sum, count. */
export function writeRef(w: Writer, n: InnerNode | RefNode, version: number): void {
  // Only the prefix bits are meaningful; the key of a loaded node may be any id below it.
  w.u8(T_REF)
    .u8(n.depth)
    .bytes(prefix(n.key, n.depth).subarray(0, Math.ceil(n.depth / 8)));
  w.uvarint(version).bytes(hashOf(n)).uvarint(n.sum).uvarint(n.count);
}

/** Writes an internal node's header (tag 0x01, depth, hash); its left then right subtree follow. */
export function writeInnerHeader(w: Writer, depth: number, hash: Uint8Array): void {
  w.u8(T_INNER).u8(depth).bytes(hash);
}

/** Reads one node (recursively for in-page internal nodes). `minDepth`: the depth a child must exceed. */
function readNode(r: Reader, level: number, minDepth: number, tag = r.u8("node tag")): TreeNode {
  if (tag === T_LEAF) {
    // Views into the page's bytes, not copies: a page is decoded once and cached whole.
    const id = r.bytes(ID_BYTES, "leaf id");
    const amount = r.u64("leaf amount");
    const dataHash = r.bytes(32, "leaf dataHash");
    return makeLeaf(id, amount, dataHash);
  }
  const depth = r.u8("depth");
  if (depth <= minDepth || depth >= ID_BITS) throw new DecodeError(`node depth ${depth} out of order`);
  if (tag === T_REF) {
    if (depth >> 3 <= level) throw new DecodeError("a page reference must point to a deeper page");
    const key = Buffer.alloc(ID_BYTES);
    key.set(r.bytes(Math.ceil(depth / 8), "ref prefix"));
    if (!isPrefixCanonical(key, depth)) throw new DecodeError("ref prefix is not canonical");
    const version = r.uvarintNumber("ref version");
    const hash = r.bytes(32, "ref hash");
    const sum = r.uvarint("ref sum");
    const count = r.uvarintNumber("ref count");
    const ref: RefNode = { kind: Kind.Ref, key, depth, sum, count, hash, version };
    return ref;
  }
  if (tag !== T_INNER) throw new DecodeError(`unknown node tag ${tag}`);
  if (depth >> 3 !== level)
    throw new DecodeError(`internal node at depth ${depth} outside page level ${level}`);
  const hash = r.bytes(32, "node hash");
  const left = readNode(r, level, depth);
  const right = readNode(r, level, depth);
  // Both children must lie under this node, on their own side of bit `depth`.
  if (
    comparePrefix(left.key, right.key, depth) !== 0 ||
    bit(left.key, depth) !== 0 ||
    bit(right.key, depth) !== 1
  )
    throw new DecodeError(`children of the node at depth ${depth} are not on their sides`);
  const n: InnerNode = {
    kind: Kind.Inner,
    key: left.key,
    depth,
    left,
    right,
    sum: left.sum + right.sum,
    count: left.count + right.count,
    hash,
    stored: undefined,
  };
  return n;
}

/**
 * Decodes a page stored at `version` for page `level`; returns its top node, marked as stored at
 * that version. Throws DecodeError on bytes that are not a well-formed page.
 */
export function decodePage(bytes: Uint8Array, level: number, version: number): InnerNode {
  const r = new Reader(bytes);
  const f = r.u8("page format");
  if (f !== PAGE_FORMAT_V1) throw new DecodeError(`unknown page format ${f}`);
  const top = readNode(r, level, level * 8 - 1);
  r.end("page");
  if (top.kind !== Kind.Inner) throw new DecodeError("a page must start with an internal node");
  top.stored = version;
  return top;
}

/** Writes a root record's node: nothing (empty tree), a leaf, or a reference to the top page. */
export function encodeRootNode(w: Writer, root: TreeNode | null, version: number): void {
  if (root === null) w.u8(0xff);
  else if (root.kind === Kind.Leaf) writeLeaf(w, root);
  else writeRef(w, root, version);
}

/** Reads a root record's node: null for the empty tree, a leaf, or a RefNode to the top page. */
export function decodeRootNode(r: Reader): LeafNode | RefNode | null {
  const first = r.u8("root tag");
  if (first === 0xff) return null;
  if (first !== T_LEAF && first !== T_REF) throw new DecodeError(`unknown root tag ${first}`);
  return readNode(r, -1, -1, first) as LeafNode | RefNode;
}
