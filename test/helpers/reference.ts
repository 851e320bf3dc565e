/**
 * A plain reference model of SPEC-smt.md, written straight from the spec and sharing no code with
 * src/smt: a Map of leaves and a from-scratch recursive root.
 */
import { createHash } from "node:crypto";

export interface RefLeaf {
  id: Buffer;
  amount: bigint;
  dataHash: Buffer;
}

export interface RefSummary {
  hash: Buffer;
  sum: bigint;
  count: number;
}

const H = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const u64 = (v: bigint | number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};
const bitOf = (k: Buffer, i: number) => (k[Math.floor(i / 8)]! >> (7 - (i % 8))) & 1;
function prefixOf(k: Buffer, d: number): Buffer {
  const out = Buffer.from(k);
  for (let i = d; i < 160; i++) out[Math.floor(i / 8)]! &= ~(1 << (7 - (i % 8)));
  return out;
}

/** The root synopsis of a set of leaves, from the spec's recursive definition. */
export function referenceRoot(leaves: Iterable<RefLeaf>): RefSummary {
  const all = [...leaves];
  if (all.length === 0) return { hash: Buffer.alloc(32), sum: 0n, count: 0 };
  return summarize(all);
}

function summarize(set: RefLeaf[]): RefSummary {
  if (set.length === 1) {
    const l = set[0]!;
    return { hash: H(Buffer.from([0]), l.id, u64(l.amount), l.dataHash), sum: l.amount, count: 1 };
  }
  let d = 0;
  while (set.every((l) => bitOf(l.id, d) === bitOf(set[0]!.id, d))) d++;
  const L = summarize(set.filter((l) => bitOf(l.id, d) === 0));
  const R = summarize(set.filter((l) => bitOf(l.id, d) === 1));
  const hash = H(
    Buffer.from([1, d]),
    prefixOf(set[0]!.id, d),
    L.hash,
    u64(L.sum),
    u64(L.count),
    R.hash,
    u64(R.sum),
    u64(R.count),
  );
  return { hash, sum: L.sum + R.sum, count: L.count + R.count };
}
