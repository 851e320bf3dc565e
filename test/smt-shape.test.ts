/** Property tests of the tree: canonical shape, and proofs for present and absent keys. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { EMPTY_SUMMARY } from "../src/smt/hash.js";
import type { TreeNode } from "../src/smt/node.js";
import { decodeProof, encodeProof, proofToJson } from "../src/smt/proof.js";
import { applyOps, buildTree, type LeafOp, lookup, normalizeOps, prove, summaryOf } from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { applyToModel } from "./helpers/model.js";
import { type RefLeaf, referenceRoot } from "./helpers/reference.js";
import {
  absentKeys,
  assertSameSummary,
  byId,
  del,
  hex,
  leafSet,
  roundTripJson,
  seed,
  toOps,
  upsert,
} from "./helpers/smt-arbitraries.js";
import { flipRandomBit, rng, shuffle } from "./helpers/tamper.js";

// Show the failing assertion's message in fast-check's report (node's reporter omits error causes).
fc.configureGlobal({ includeErrorInReport: true });

describe("SMT properties: canonical shape", () => {
  it("buildTree gives the reference root for any insertion order, with stale duplicates before", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const expected = referenceRoot(leaves);
        assertSameSummary(summaryOf(buildTree(shuffle(toOps(leaves), r))), expected, "shuffled");
        // Earlier ops for the same ids (a batch's later op wins) change nothing.
        const stale: LeafOp[] = leaves
          .filter(() => r(3) === 0)
          .map((l) =>
            r(2) === 0 ? del(l.id) : { id: l.id, leaf: { amount: 0n, dataHash: Buffer.alloc(32) } },
          );
        assertSameSummary(summaryOf(buildTree([...stale, ...shuffle(toOps(leaves), r)])), expected, "dups");
      }),
      { numRuns: 150 },
    );
  });

  it("applyOps in random batches with interleaved upserts and deletes reaches the from-scratch root", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        // Per-leaf histories; a quarter of the leaves are transient (upserted, later deleted).
        const histories: LeafOp[][] = [];
        const final: RefLeaf[] = [];
        for (const l of leaves) {
          const h: LeafOp[] = [];
          for (let i = r(3); i > 0; i--)
            h.push(
              r(2) === 0
                ? del(l.id)
                : {
                    id: l.id,
                    leaf: { amount: l.amount / BigInt(2 + r(5)), dataHash: flipRandomBit(l.dataHash, r) },
                  },
            );
          h.push(upsert(l));
          if (r(4) === 0) h.push(del(l.id));
          else final.push(l);
          histories.push(h);
        }
        // Deletes of ids never present, some right next to present ones.
        for (const k of absentKeys(leaves, present, r, r(4))) histories.push([del(k)]);
        // Interleave the histories, keeping each one's order, then cut into batches.
        const seq: LeafOp[] = [];
        const queues = histories.map((h) => [...h]);
        while (queues.length > 0) {
          const i = r(queues.length);
          seq.push(queues[i]!.shift()!);
          if (queues[i]!.length === 0) queues.splice(i, 1);
        }
        const model = new Map<string, RefLeaf>();
        let root: TreeNode | null = null;
        let batch: LeafOp[] = [];
        const flush = () => {
          root = applyOps(root, normalizeOps(batch));
          applyToModel(model, batch);
          assertSameSummary(summaryOf(root), referenceRoot(model.values()), "after a batch");
          batch = [];
        };
        for (const op of seq) {
          batch.push(op);
          if (r(4) === 0) flush();
        }
        flush();
        assertSameSummary(summaryOf(root), summaryOf(buildTree(toOps(final))), "carried vs from scratch");
        assert.equal(model.size, final.length);
        for (const l of final) {
          const got = lookup(root, l.id);
          assert.ok(got !== undefined, "lookup finds every final leaf");
          assert.equal(got.sum, l.amount);
          assert.equal(hex(got.dataHash), hex(l.dataHash));
        }
        // Delete everything, in random batches: the empty tree and the empty summary.
        const ids = shuffle(
          [...model.values()].map((l) => l.id),
          r,
        );
        for (const id of ids) {
          batch.push(del(id));
          if (r(3) === 0) flush();
        }
        flush();
        assert.equal(root, null);
        const empty = summaryOf(root);
        assert.equal(hex(empty.hash), "00".repeat(32));
        assert.equal(empty.sum, 0n);
        assert.equal(empty.count, 0);
        assertSameSummary(empty, EMPTY_SUMMARY, "empty");
      }),
      { numRuns: 100 },
    );
  });
});

describe("SMT properties: proofs", () => {
  it("inclusion for present keys, exclusion for absent ones, through both encodings", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const check = (k: Buffer, expected: "inclusion" | "exclusion") => {
          const p = prove(root, k);
          assert.deepEqual(verifyProof(p, sum), { result: expected }, `${expected} of ${hex(k)}`);
          if (expected === "inclusion") {
            const t = p.terminal;
            assert.ok(t !== null && t.kind === "leaf");
            assert.equal(t.amount, present.get(hex(k))!.amount);
            assert.equal(hex(t.dataHash), hex(present.get(hex(k))!.dataHash));
          }
          const bin = encodeProof(p);
          const back = decodeProof(bin);
          assert.deepEqual(verifyProof(back, sum), { result: expected }, "after the binary round trip");
          assert.equal(hex(encodeProof(back)), hex(bin), "binary re-encoding is byte-identical");
          assert.deepEqual(proofToJson(back), proofToJson(p));
          const j = roundTripJson(p);
          assert.deepEqual(verifyProof(j, sum), { result: expected }, "after the JSON round trip");
          assert.deepEqual(proofToJson(j), proofToJson(p));
          // A proof never verifies against another tree's synopsis (here: with one leaf less or more).
          const other =
            leaves.length > 0 ? leaves.slice(1) : [{ id: k, amount: 0n, dataHash: Buffer.alloc(32) }];
          assert.equal(verifyProof(p, referenceRoot(other)).result, "invalid", "against another synopsis");
        };
        for (const l of leaves) check(l.id, "inclusion");
        for (const k of absentKeys(leaves, present, r, 8)) check(k, "exclusion");
      }),
      { numRuns: 120 },
    );
  });
});
