/**
 * A pulse's write computed in memory (VersionedTree.prepareCommit and commit): the new root, the
 * pages it changed and the whole atomic batch, from the head's tree and without touching any state,
 * so that a prepared pulse nobody finishes leaves no trace.
 */
import { prefix } from "../smt/bits.js";
import { hashOf, type InnerNode, Kind, type RefNode, type SpanNode, type TreeNode } from "../smt/node.js";
import { encodeRootNode, pageLevel } from "../smt/page.js";
import { applyOps, type LeafOp, normalizeOps, summaryOf, TreeError } from "../smt/tree.js";
import { DecodeError, Writer } from "../util/bytes.js";
import { metaKey, pageKey, rootKey, staleKey } from "./keys.js";
import type { KVOp } from "./kv.js";
import type { PageStore, PageWrite } from "./page-store.js";
import { type CommitExtras, type CommitResult, ROOT_RECORD_V1, STORE_FORMAT } from "./store-types.js";

/** A pulse's write, valid on the head it was computed from only. */
export interface Staged {
  /** The store's commit count when staged: finishing is refused once it has moved. */
  readonly commitsAt: number;
  readonly batch: readonly KVOp[];
  /** The new pages, which enter the page cache only once written. */
  readonly pages: readonly PageWrite[];
  /** The head root once written: a reference to its page, as the pages live in the KV. */
  readonly newRoot: TreeNode | null;
  readonly result: CommitResult;
}

/** The head a pulse is staged on. */
export interface StageBase {
  readonly root: TreeNode | null;
  readonly pages: PageStore;
  /** The store's first pulse (undefined: this pulse is the first, so the batch writes META). */
  readonly first: number | undefined;
  readonly commits: number;
}

/** Stages pulse `pulse` (checked to be the next by the caller) on `base`. */
export function stageCommit(
  base: StageBase,
  pulse: number,
  ops: readonly LeafOp[],
  extras: CommitExtras,
): Staged {
  const stale = new Map<string, Buffer>();
  const markStale = (level: number, key: Uint8Array, version: number) => {
    const k = pageKey(level, key, version);
    stale.set(k.toString("latin1"), k);
  };
  // applyOps builds new nodes and never changes the head's: reading the head stays safe meanwhile.
  const root = corruptGuard(() =>
    applyOps(base.root, normalizeOps(ops), base.pages.resolve, (ref) =>
      markStale(pageLevel(ref.depth), ref.key, ref.version),
    ),
  );
  const summary = summaryOf(root);
  if (extras.expectSum !== undefined && summary.sum !== extras.expectSum)
    throw new TreeError(
      "SUM_MISMATCH",
      `the root's sum would be ${summary.sum}, expected ${extras.expectSum}`,
    );
  const pages: PageWrite[] = [];
  let rootVersion = pulse;
  if (root !== null && root.kind === Kind.Ref) rootVersion = root.version;
  else if (root !== null && root.kind === Kind.Inner && root.stored !== undefined) rootVersion = root.stored;
  else if (root !== null && root.kind !== Kind.Leaf)
    corruptGuard(() => base.pages.writePage(root, pulse, pages, markStale));
  const batch: KVOp[] = pages.map((p) => ({ type: "put", key: p.key, value: p.value }));
  const pagesWritten = batch.length;
  for (const k of stale.values())
    batch.push({ type: "put", key: staleKey(pulse, k), value: Buffer.alloc(0) });
  for (const k of extras.stale ?? [])
    batch.push({ type: "put", key: staleKey(pulse, k), value: Buffer.alloc(0) });
  for (const p of extras.puts ?? []) batch.push({ type: "put", key: p.key, value: p.value });
  const rec = new Writer(128).u8(ROOT_RECORD_V1);
  encodeRootNode(rec, root, rootVersion);
  batch.push({ type: "put", key: rootKey(pulse), value: rec.finish() });
  if (base.first === undefined) {
    const f = Buffer.alloc(8);
    f.writeBigUInt64BE(BigInt(pulse));
    batch.push({ type: "put", key: metaKey("first"), value: f });
    batch.push({ type: "put", key: metaKey("format"), value: Buffer.from([STORE_FORMAT]) });
  }
  let bytesWritten = 0;
  for (const op of batch) bytesWritten += op.key.length + (op.type === "put" ? op.value.length : 0);
  const newRoot =
    root === null || root.kind === Kind.Leaf || root.kind === Kind.Ref ? root : asRef(root, rootVersion);
  return {
    commitsAt: base.commits,
    batch,
    pages,
    newRoot,
    result: { pulse, root: summary, pagesWritten, pagesReplaced: stale.size, bytesWritten },
  };
}

/** Runs `fn`, turning a decoding failure of stored bytes into TreeError CORRUPT. */
export function corruptGuard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DecodeError) throw new TreeError("CORRUPT", `stored tree data: ${err.message}`);
    throw err;
  }
}

function asRef(n: InnerNode | SpanNode, version: number): RefNode {
  return {
    kind: Kind.Ref,
    key: prefix(n.key, n.depth),
    depth: n.depth,
    sum: n.sum,
    count: n.count,
    hash: hashOf(n),
    version,
  };
}
