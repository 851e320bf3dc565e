/**
 * The tree's in-memory nodes. Nodes are never mutated once their hash is set: an update builds new
 * nodes along the changed paths and shares the rest, so an old root stays valid (a failed batch
 * leaves the tree as it was) and a page decoded from storage can be shared by many versions.
 */
import { ID_BITS } from "./bits.js";
import { type HashStr, leafHashStr, nodeHashStr } from "./hash.js";

/** What kind of node. */
export enum Kind {
  Leaf = 0,
  Inner = 1,
  /** A subtree kept in storage and not loaded: its summary, its shape's top and where to find it. */
  Ref = 2,
  /** An unchanged subtree inside a loaded page, still in its encoded bytes (opened on demand). */
  Span = 3,
}

/** An account leaf. `key` is its id; `depth` is 160 so that leaves sort below every internal node. */
export interface LeafNode {
  readonly kind: Kind.Leaf;
  readonly key: Buffer;
  readonly depth: number;
  readonly sum: bigint;
  readonly count: number;
  readonly dataHash: Buffer;
  /** The hash as a latin1 string (see HashStr), once computed. */
  hash: HashStr | undefined;
}

/** An internal node at `depth`; `key` is any id below it (its prefix is `prefix(key, depth)`). */
export interface InnerNode {
  readonly kind: Kind.Inner;
  readonly key: Uint8Array;
  readonly depth: number;
  readonly left: TreeNode;
  readonly right: TreeNode;
  readonly sum: bigint;
  readonly count: number;
  /** The hash as a latin1 string (see HashStr), once computed. */
  hash: HashStr | undefined;
  /** Set when this node is the top of a storage page that holds it unchanged: that page's version. */
  stored: number | undefined;
}

/** A stored subtree not yet loaded: enough to hash its parent and to find it in storage. */
export interface RefNode {
  readonly kind: Kind.Ref;
  /** The subtree's prefix (bits at and after `depth` are zero). */
  readonly key: Uint8Array;
  readonly depth: number;
  readonly sum: bigint;
  readonly count: number;
  readonly hash: HashStr;
  /** The version (pulse) of the page whose top this subtree is. */
  readonly version: number;
}

/**
 * An internal node inside a loaded page, left in the page's bytes: its summary is read from its
 * header, its children are decoded only when a walk goes through it, and a page that is rewritten
 * copies it as it is. This keeps a batch's allocations to the paths it changes.
 */
export interface SpanNode {
  readonly kind: Kind.Span;
  /** Any id below (computed on first use). */
  readonly key: Uint8Array;
  readonly depth: number;
  readonly sum: bigint;
  readonly count: number;
  readonly hash: HashStr;
  /** The page's bytes and this subtree's extent in them. */
  readonly bytes: Buffer;
  readonly start: number;
  readonly end: number;
}

/** Any node of the tree. */
export type TreeNode = LeafNode | InnerNode | RefNode | SpanNode;

/** A new leaf; its hash is computed when first needed. */
export function makeLeaf(id: Buffer, amount: bigint, dataHash: Buffer): LeafNode {
  return { kind: Kind.Leaf, key: id, depth: ID_BITS, sum: amount, count: 1, dataHash, hash: undefined };
}

/** A new internal node over two non-empty children whose ids split at bit `depth`. */
export function makeInner(depth: number, left: TreeNode, right: TreeNode): InnerNode {
  return {
    kind: Kind.Inner,
    key: left.key,
    depth,
    left,
    right,
    sum: left.sum + right.sum,
    count: left.count + right.count,
    hash: undefined,
    stored: undefined,
  };
}

/**
 * Returns the node's hash, computing it (and any missing hash below it) once. Each changed node of a
 * batch is hashed exactly once, after the whole batch is applied.
 */
export function hashOf(n: TreeNode): HashStr {
  if (n.hash !== undefined) return n.hash;
  if (n.kind === Kind.Leaf) {
    n.hash = leafHashStr(n.key, n.sum, n.dataHash);
  } else {
    const inner = n as InnerNode;
    inner.hash = nodeHashStr(
      inner.depth,
      inner.key,
      hashOf(inner.left),
      inner.left,
      hashOf(inner.right),
      inner.right,
    );
  }
  return n.hash!;
}
