/**
 * The canonical tree of SPEC-smt.md: batch updates, lookups and proofs over immutable nodes.
 * Storage stays outside: a subtree that is not loaded is a RefNode, and the caller hands in a
 * resolver that loads it (synchronously: classic-level's getSync, or a Map).
 */
import { CodedError } from "../util/errors.js";
import { bit, commonPrefixBits, comparePrefix, prefix } from "./bits.js";
import { EMPTY_SUMMARY, hashBytes, MAX_U64, type Summary } from "./hash.js";
import {
  hashOf,
  type InnerNode,
  Kind,
  type LeafNode,
  makeInner,
  makeLeaf,
  type RefNode,
  type SpanNode,
  type TreeNode,
} from "./node.js";
import { openSpan } from "./page.js";
import type { Proof, ProofStep, ProofTerminal } from "./proof.js";

/** Loads a stored subtree. Must return a node with the same depth and summary as the ref. */
export type Resolver = (ref: RefNode) => TreeNode;

/** One change of a batch: set an account's leaf, or delete it (`leaf: null`). */
export interface LeafOp {
  readonly id: Buffer;
  readonly leaf: { readonly amount: bigint; readonly dataHash: Buffer } | null;
}

/** An error that makes a batch invalid as a whole; the tree is left as it was. */
export class TreeError extends CodedError<
  "SUM_OVERFLOW" | "BAD_ID" | "BAD_AMOUNT" | "BAD_DATA_HASH" | "CORRUPT" | "SUM_MISMATCH"
> {}

const noRefs: Resolver = () => {
  throw new TreeError("CORRUPT", "the tree holds a stored subtree but no resolver was given");
};

/** Sorts ops by id and keeps the last op per id (a batch's later op wins). Validates each op. */
export function normalizeOps(ops: readonly LeafOp[]): LeafOp[] {
  for (const op of ops) {
    if (op.id.length !== 20)
      throw new TreeError("BAD_ID", `account id must be 20 bytes, got ${op.id.length}`);
    if (op.leaf !== null) {
      const a = op.leaf.amount;
      if (typeof a !== "bigint" || a < 0n || a > MAX_U64)
        throw new TreeError("BAD_AMOUNT", `amount outside u64: ${String(a)}`);
      if (op.leaf.dataHash.length !== 32)
        throw new TreeError("BAD_DATA_HASH", `dataHash must be 32 bytes, got ${op.leaf.dataHash.length}`);
    }
  }
  // Array.prototype.sort is stable: among equal ids batch order stays, so the last one is kept.
  const sorted = [...ops].sort((a, b) => Buffer.compare(a.id, b.id));
  const out: LeafOp[] = [];
  for (const op of sorted) {
    if (out.length > 0 && out[out.length - 1]!.id.equals(op.id)) out[out.length - 1] = op;
    else out.push(op);
  }
  return out;
}

/**
 * Applies sorted, deduplicated ops (see normalizeOps) to a tree and returns the new root; nodes off the
 * changed paths are shared with the old tree. Throws TreeError SUM_OVERFLOW if the total exceeds u64.
 */
export function applyOps(
  root: TreeNode | null,
  ops: readonly LeafOp[],
  resolve: Resolver = noRefs,
  replaced?: (ref: RefNode) => void,
): TreeNode | null {
  const out = update(root, ops, 0, ops.length, { resolve, replaced });
  if (out !== null && out.sum > MAX_U64)
    throw new TreeError("SUM_OVERFLOW", `total ${out.sum} exceeds the u64 supply cap`);
  return out;
}

/** Builds the canonical tree of a set of leaves (any order; a repeated id keeps the last). */
export function buildTree(ops: readonly LeafOp[]): TreeNode | null {
  return applyOps(null, normalizeOps(ops));
}

function leafOf(op: LeafOp): LeafNode {
  return makeLeaf(op.id, op.leaf!.amount, op.leaf!.dataHash);
}

/** First index in [lo, hi) whose op id has bit d set; ids in the range share bits before d. */
function splitAt(ops: readonly LeafOp[], lo: number, hi: number, d: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bit(ops[mid]!.id, d) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [lo, hi) whose id's first d bits are >= (or > with `after`) those of key. */
function prefixBound(
  ops: readonly LeafOp[],
  lo: number,
  hi: number,
  key: Uint8Array,
  d: number,
  after: boolean,
) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = comparePrefix(ops[mid]!.id, key, d);
    if (c < 0 || (after && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function asInner(n: TreeNode): InnerNode {
  if (n.kind !== Kind.Inner)
    throw new TreeError("CORRUPT", "a stored subtree did not load as an internal node");
  return n;
}

/** The internal node behind an internal, stored or in-page node (loading or decoding it as needed). */
function open(n: InnerNode | RefNode | SpanNode, resolve: Resolver): InnerNode {
  if (n.kind === Kind.Inner) return n;
  if (n.kind === Kind.Span) return openSpan(n);
  return asInner(resolve(n));
}

interface UpdateContext {
  readonly resolve: Resolver;
  /** Told of each stored subtree that the batch changed: its stored page is no longer the current one. */
  readonly replaced: ((ref: RefNode) => void) | undefined;
}

function update(
  node: TreeNode | null,
  ops: readonly LeafOp[],
  lo: number,
  hi: number,
  ctx: UpdateContext,
): TreeNode | null {
  if (lo === hi) return node;
  if (node === null) {
    const items: TreeNode[] = [];
    for (let i = lo; i < hi; i++) if (ops[i]!.leaf !== null) items.push(leafOf(ops[i]!));
    return build(items, 0, items.length);
  }
  if (node.kind === Kind.Leaf) {
    const items: TreeNode[] = [];
    let kept = false;
    for (let i = lo; i < hi; i++) {
      const op = ops[i]!;
      const c = Buffer.compare(op.id, node.key);
      if (c > 0 && !kept) {
        items.push(node);
        kept = true;
      }
      if (c === 0) kept = true; // replaced or deleted
      if (op.leaf !== null) items.push(leafOf(op));
    }
    if (!kept) items.push(node);
    return build(items, 0, items.length);
  }
  // An internal node, loaded or not. Ops under it share its prefix: a range [a, b) of the sorted ops.
  const d = node.depth;
  const a = prefixBound(ops, lo, hi, node.key, d, false);
  const b = prefixBound(ops, a, hi, node.key, d, true);
  let result: TreeNode | null = node;
  if (a < b) {
    const inner = open(node, ctx.resolve);
    const m = splitAt(ops, a, b, d);
    const l = update(inner.left, ops, a, m, ctx);
    const r = update(inner.right, ops, m, b, ctx);
    if (l !== inner.left || r !== inner.right) {
      result = l === null ? r : r === null ? l : makeInner(d, l, r);
      if (node.kind === Kind.Ref) ctx.replaced?.(node);
    }
  }
  if (a === lo && b === hi) return result;
  // Upserts that branch off above this node: rebuild the canonical top from them and the subtree.
  const items: TreeNode[] = [];
  for (let i = lo; i < a; i++) if (ops[i]!.leaf !== null) items.push(leafOf(ops[i]!));
  if (result !== null) items.push(result);
  for (let i = b; i < hi; i++) if (ops[i]!.leaf !== null) items.push(leafOf(ops[i]!));
  return build(items, 0, items.length);
}

/** Canonical tree over sorted, disjoint items (leaves or whole subtrees). */
function build(items: readonly TreeNode[], lo: number, hi: number): TreeNode | null {
  if (lo === hi) return null;
  if (hi - lo === 1) return items[lo]!;
  const first = items[lo]!;
  const last = items[hi - 1]!;
  const d = commonPrefixBits(first.key, last.key, Math.min(first.depth, last.depth));
  let l = lo;
  let h = hi;
  while (l < h) {
    const mid = (l + h) >>> 1;
    if (bit(items[mid]!.key, d) === 0) l = mid + 1;
    else h = mid;
  }
  return makeInner(d, build(items, lo, l)!, build(items, l, hi)!);
}

/** The root synopsis of a tree (hashing what is not hashed yet). */
export function summaryOf(root: TreeNode | null): Summary {
  if (root === null) return EMPTY_SUMMARY;
  return { hash: hashBytes(hashOf(root)), sum: root.sum, count: root.count };
}

/** The leaf of `id`, or undefined. */
export function lookup(
  root: TreeNode | null,
  id: Uint8Array,
  resolve: Resolver = noRefs,
): LeafNode | undefined {
  let n = root;
  while (n !== null) {
    if (n.kind === Kind.Leaf) return Buffer.compare(n.key, id) === 0 ? n : undefined;
    if (comparePrefix(id, n.key, n.depth) !== 0) return undefined;
    const inner = open(n, resolve);
    n = bit(id, inner.depth) === 0 ? inner.left : inner.right;
  }
  return undefined;
}

/** An inclusion or exclusion proof for `key` (SPEC-smt.md "Proofs"). */
export function prove(root: TreeNode | null, key: Buffer, resolve: Resolver = noRefs): Proof {
  const path: ProofStep[] = [];
  let terminal: ProofTerminal = null;
  let n = root;
  while (n !== null) {
    if (n.kind === Kind.Leaf) {
      terminal = { kind: "leaf", id: n.key, amount: n.sum, dataHash: n.dataHash };
      break;
    }
    const inner = open(n, resolve);
    const d = inner.depth;
    if (comparePrefix(key, inner.key, d) !== 0) {
      const summary = (c: TreeNode): Summary => ({ hash: hashBytes(hashOf(c)), sum: c.sum, count: c.count });
      terminal = {
        kind: "node",
        depth: d,
        prefix: prefix(inner.key, d),
        hash: hashBytes(hashOf(inner)),
        sum: inner.sum,
        count: inner.count,
        children: [summary(inner.left), summary(inner.right)],
      };
      break;
    }
    const right = bit(key, d) === 1;
    const sib = right ? inner.left : inner.right;
    path.push({ depth: d, sibling: { hash: hashBytes(hashOf(sib)), sum: sib.sum, count: sib.count } });
    n = right ? inner.right : inner.left;
  }
  return { key, path, terminal };
}
