/** Shared fast-check arbitraries and checks for the tree property tests. */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { MAX_U64, type Summary } from "../../src/smt/hash.js";
import type { InnerNode } from "../../src/smt/node.js";
import { type Proof, proofFromJson, proofToJson } from "../../src/smt/proof.js";
import { buildTree, type LeafOp, summaryOf } from "../../src/smt/tree.js";
import type { VerifyResult } from "../../src/smt/verify.js";
import type { RefLeaf } from "./reference.js";
import { flipBit, type Rand, randomBytes } from "./tamper.js";

export const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b));

/** How a leaf's id is made: fully random, or from one of a few random bases (long shared prefixes). */
export type IdSpec =
  | { kind: "random"; id: Buffer }
  | { kind: "tail"; base: number; tail: Uint8Array } // the base with its last 1-3 bytes replaced
  | { kind: "flip"; base: number; bit: number }; // the base with one bit flipped: a split at that depth

export const idSpec: fc.Arbitrary<IdSpec> = fc.oneof(
  { arbitrary: bytes(20).map((id) => ({ kind: "random" as const, id })), weight: 2 },
  {
    arbitrary: fc
      .record({ base: fc.nat(), tail: fc.uint8Array({ minLength: 1, maxLength: 3 }) })
      .map((x) => ({ kind: "tail" as const, ...x })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ base: fc.nat(), bit: fc.integer({ min: 0, max: 159 }) })
      .map((x) => ({ kind: "flip" as const, ...x })),
    weight: 1,
  },
);

export function idFrom(spec: IdSpec, bases: readonly Buffer[]): Buffer {
  if (spec.kind === "random") return spec.id;
  const base = bases[spec.base % bases.length]!;
  if (spec.kind === "flip") return flipBit(base, spec.bit);
  const id = Buffer.from(base);
  id.set(spec.tail, 20 - spec.tail.length);
  return id;
}

/**
 * A set of leaves with distinct ids; amounts anywhere in u64 but capped so that the total stays in
 * u64, and with `fill` the last amount raised so that the total is exactly 2^64 - 1.
 */
export function leafSet(maxLeaves = 40): fc.Arbitrary<RefLeaf[]> {
  return fc
    .record({
      bases: fc.array(bytes(20), { minLength: 1, maxLength: 3 }),
      specs: fc.array(fc.record({ id: idSpec, amount: fc.bigInt(0n, MAX_U64), dataHash: bytes(32) }), {
        maxLength: maxLeaves,
      }),
      fill: fc.boolean(),
    })
    .map(({ bases, specs, fill }) => {
      const seen = new Set<string>();
      const leaves: RefLeaf[] = [];
      for (const s of specs) {
        const id = idFrom(s.id, bases);
        const k = id.toString("hex");
        if (seen.has(k)) continue;
        seen.add(k);
        leaves.push({ id, amount: s.amount, dataHash: s.dataHash });
      }
      if (leaves.length === 0) return leaves;
      const cap = MAX_U64 / BigInt(leaves.length);
      let total = 0n;
      for (const l of leaves) {
        if (l.amount > cap) l.amount %= cap + 1n;
        total += l.amount;
      }
      if (fill) leaves[leaves.length - 1]!.amount += MAX_U64 - total;
      return leaves;
    });
}

export const nonEmptyLeafSet = (maxLeaves = 40) => leafSet(maxLeaves).filter((l) => l.length > 0);
export const seed = fc.integer();

// ---------------------------------------------------------------------------------------------------
// Helpers

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const upsert = (l: RefLeaf): LeafOp => ({
  id: l.id,
  leaf: { amount: l.amount, dataHash: l.dataHash },
});
export const del = (id: Buffer): LeafOp => ({ id, leaf: null });
export const toOps = (leaves: readonly RefLeaf[]): LeafOp[] => leaves.map(upsert);

export function assertSameSummary(actual: Summary, expected: Summary, what: string): void {
  assert.equal(hex(actual.hash), hex(expected.hash), `${what}: hash`);
  assert.equal(actual.sum, expected.sum, `${what}: sum`);
  assert.equal(actual.count, expected.count, `${what}: count`);
}

export function byId(leaves: readonly RefLeaf[]): Map<string, RefLeaf> {
  return new Map(leaves.map((l) => [hex(l.id), l]));
}

/** Absent keys: random ones, and ones sharing a long prefix with a present key. */
export function absentKeys(
  leaves: readonly RefLeaf[],
  present: Map<string, RefLeaf>,
  r: Rand,
  n: number,
): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 2 * n && out.length < n; i++) {
    let k: Buffer;
    if (leaves.length === 0 || i % 3 === 0) k = randomBytes(20, r);
    else {
      const near = leaves[r(leaves.length)]!.id;
      // Flip a bit late in the id (deep in the tree) or anywhere.
      k = flipBit(near, i % 3 === 1 ? 120 + r(40) : r(160));
    }
    if (!present.has(hex(k))) out.push(k);
  }
  return out;
}

/** Checks what a verifier said about `key` against the truth of the set. */
export function assertTrue(
  res: VerifyResult,
  key: Uint8Array,
  present: Map<string, RefLeaf>,
  what: string,
): void {
  if (res.result === "inclusion") assert.ok(present.has(hex(key)), `${what}: inclusion of an absent key`);
  if (res.result === "exclusion") assert.ok(!present.has(hex(key)), `${what}: exclusion of a present key`);
}

export const roundTripJson = (p: Proof): Proof => proofFromJson(JSON.parse(JSON.stringify(proofToJson(p))));

/**
 * Three leaves a = 00.., b = 0f.., c = 0f..01: the root is at depth 4 with a on its left; on its right
 * an internal node at depth 159 over b and c.
 */
export function threeLeaves() {
  const id = (h: string) => Buffer.from(h.padEnd(40, "0"), "hex");
  const dh = Buffer.alloc(32, 7);
  const a = id("00");
  const b = id("0f");
  const c = id("0f00000000000000000000000000000000000001");
  const root = buildTree([a, b, c].map((k) => ({ id: k, leaf: { amount: 5n, dataHash: dh } }))) as InnerNode;
  const sum = summaryOf(root);
  const inner = root.right as InnerNode;
  assert.equal(root.depth, 4);
  assert.equal(inner.depth, 159);
  return { id, a, b, c, root, inner, sum };
}

// ---------------------------------------------------------------------------------------------------
