/** Test helpers: random leaves and a Map model of a ledger's leaves. */
import { createHash } from "node:crypto";
import type { LeafOp } from "../../src/smt/tree.js";
import type { RefLeaf } from "./reference.js";

/** A deterministic 20-byte id for `n`. */
export function idOf(n: number): Buffer {
  return createHash("sha256").update(`id:${n}`).digest().subarray(0, 20);
}

/** A deterministic 32-byte data hash. */
export function dataOf(n: number): Buffer {
  return createHash("sha256").update(`data:${n}`).digest();
}

/** Applies ops to a Map model (last op per id wins, as in a batch). */
export function applyToModel(model: Map<string, RefLeaf>, ops: readonly LeafOp[]): void {
  for (const op of ops) {
    const k = op.id.toString("hex");
    if (op.leaf === null) model.delete(k);
    else model.set(k, { id: op.id, amount: op.leaf.amount, dataHash: op.leaf.dataHash });
  }
}
