/** The deterministic ops of pulse p in the crash test (shared by the writer and the checker). */
import type { LeafOp } from "../../src/smt/tree.js";
import { dataOf, idOf } from "./model.js";

export function crashOps(p: number): LeafOp[] {
  const ops: LeafOp[] = [];
  for (let i = 0; i < 60; i++) {
    const n = (p * 37 + i * 13) % 800;
    ops.push({ id: idOf(n), leaf: { amount: BigInt(p * 1000 + i), dataHash: dataOf(p * 100 + i) } });
  }
  for (let i = 0; i < 15; i++) ops.push({ id: idOf((p * 11 + i * 53) % 800), leaf: null });
  return ops;
}
