/**
 * Every leaf of a stored tree, in id order: what enumerating a pulse's accounts reads (the tree
 * otherwise answers only lookups by id). Moved here from src/election/accounts.ts.
 */
import { Kind, type LeafNode, type RefNode, type TreeNode } from "../smt/node.js";
import { openSpan } from "../smt/page.js";
import type { PageStore } from "./page-store.js";
import { corruptGuard } from "./prepared-commit.js";
import type { LeafValue } from "./store-types.js";

/**
 * The leaves under `root`, ascending by id. `resolve` loads a referenced page; the walk is lazy and
 * synchronous, so a caller that reads it to the end without awaiting sees one consistent tree.
 */
export function* walkLeaves(root: TreeNode | null, resolve: (ref: RefNode) => TreeNode): Generator<LeafNode> {
  const stack: TreeNode[] = root === null ? [] : [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === Kind.Leaf) yield n;
    else if (n.kind === Kind.Ref) stack.push(resolve(n));
    else {
      const inner = n.kind === Kind.Span ? corruptGuard(() => openSpan(n)) : n;
      // Right first, so the left subtree (smaller ids) comes off the stack first.
      stack.push(inner.right, inner.left);
    }
  }
}

/** The leaves under `root` as the store's (id, leaf) pairs, pages loaded through `pages`. */
export function* leavesOf(
  root: TreeNode | null,
  pages: PageStore,
): Generator<{ id: Buffer; leaf: LeafValue }> {
  for (const n of walkLeaves(root, pages.resolve))
    yield { id: Buffer.from(n.key), leaf: { amount: n.sum, dataHash: n.dataHash } };
}
