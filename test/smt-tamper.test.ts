/** Property tests of the verifier: any tampered proof is invalid or tells the truth. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { prefix } from "../src/smt/bits.js";
import { EMPTY_SUMMARY, hashBytes } from "../src/smt/hash.js";
import { hashOf, type InnerNode, Kind, type TreeNode } from "../src/smt/node.js";
import { decodeProof, encodeProof, type Proof, proofFromJson, proofToJson } from "../src/smt/proof.js";
import { buildTree, prove, summaryOf } from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { DecodeError } from "../src/util/bytes.js";
import type { RefLeaf } from "./helpers/reference.js";
import {
  absentKeys,
  assertTrue,
  byId,
  hex,
  leafSet,
  nonEmptyLeafSet,
  seed,
  threeLeaves,
  toOps,
} from "./helpers/smt-arbitraries.js";
import {
  flipBit,
  flipRandomBit,
  randomBytes,
  rng,
  shuffle,
  tamperProof,
  tamperProofJson,
  tamperSummary,
} from "./helpers/tamper.js";

// Show the failing assertion's message in fast-check's report (node's reporter omits error causes).
fc.configureGlobal({ includeErrorInReport: true });

describe("SMT properties: tampered proofs", () => {
  /** A tree and a few proofs for present and absent keys. */
  const cases = fc.tuple(leafSet(30), seed);
  function setup(leaves: RefLeaf[], s: number) {
    const r = rng(s);
    const present = byId(leaves);
    const root = buildTree(toOps(leaves));
    const sum = summaryOf(root);
    const keys = [
      ...shuffle(leaves, r)
        .slice(0, 2)
        .map((l) => l.id),
      ...absentKeys(leaves, present, r, 3),
    ];
    return { r, present, root, sum, proofs: keys.map((k) => prove(root, k)) };
  }

  it("any single-field change (hash-covered fields, path, root synopsis) gives invalid", () => {
    fc.assert(
      fc.property(cases, ([leaves, s]) => {
        const { r, sum, proofs } = setup(leaves, s);
        for (const p of proofs) {
          assert.notEqual(verifyProof(p, sum).result, "invalid", "the untampered proof is valid");
          for (const t of tamperProof(p, r)) {
            if (t.unboundNode) continue; // see the next test
            assert.equal(verifyProof(t.value, sum).result, "invalid", t.what);
          }
          for (const t of tamperProofJson(proofToJson(p), r))
            assert.equal(verifyProof(proofFromJson(t.value), sum).result, "invalid", t.what);
          for (const t of tamperSummary(sum, r))
            assert.equal(verifyProof(p, t.value).result, "invalid", t.what);
        }
      }),
      { numRuns: 150 },
    );
  });

  // A gap in SPEC-smt.md's proof format: a bare terminal summary leaves its depth, prefix and kind
  // unbound. Our proofs carry the node's children, and the verifier recomputes its hash from them.
  it("a change of a terminal internal node's depth, prefix or kind gives invalid", () => {
    fc.assert(
      fc.property(nonEmptyLeafSet(30), seed, (leaves, s) => {
        const { r, sum, proofs } = setup(leaves, s);
        const accepted: string[] = [];
        for (const p of proofs)
          for (const t of tamperProof(p, r)) {
            if (!t.unboundNode) continue;
            const res = verifyProof(t.value, sum).result;
            if (res !== "invalid") accepted.push(`${t.what} (key ${hex(p.key)}): accepted as ${res}`);
          }
        assert.deepEqual(accepted, [], "tampered proofs accepted");
      }),
      { numRuns: 100 },
    );
  });

  it("a changed key never gives inclusion of an absent key nor exclusion of a present one", () => {
    fc.assert(
      fc.property(cases, ([leaves, s]) => {
        const { r, present, sum, proofs } = setup(leaves, s);
        for (const p of proofs) {
          const keys = [
            flipRandomBit(p.key, r),
            flipBit(p.key, 152 + r(8)),
            randomBytes(20, r),
            ...absentKeys(leaves, present, r, 2),
            ...leaves.slice(0, 3).map((l) => l.id),
          ];
          for (const key of keys) {
            if (hex(key) === hex(p.key)) continue;
            const res = verifyProof({ ...p, key }, sum);
            assertTrue(res, key, present, `key ${hex(p.key)} -> ${hex(key)}`);
            const j = proofToJson(p);
            assertTrue(
              verifyProof(proofFromJson({ ...j, key: hex(key) }), sum),
              key,
              present,
              `JSON key ${hex(p.key)} -> ${hex(key)}`,
            );
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  // The same gap: against the empty root, a bare "node" terminal with the all-zero summary.
  it("empty tree: a node terminal carrying the empty summary gives invalid", () => {
    const key = Buffer.alloc(20, 0xab);
    const p = prove(null, key);
    assert.deepEqual(verifyProof(p, EMPTY_SUMMARY), { result: "exclusion" });
    const forged: Proof = {
      key,
      path: [],
      terminal: {
        kind: "node",
        depth: 8,
        prefix: prefix(Buffer.alloc(20), 8),
        hash: Buffer.alloc(32),
        sum: 0n,
        count: 0,
      },
    };
    assert.equal(verifyProof(forged, EMPTY_SUMMARY).result, "invalid");
  });

  // The consequence of the gap: for a key that IS in the tree, cut its inclusion proof above an internal
  // node N on its path and present N's true summary as a bare terminal with a prefix off the key's path.
  // SPEC-smt.md's verifier says "exclusion"; ours refuses it unless asked to accept unbound terminals.
  it("no forged exclusion proof for a present key (terminal node with a false prefix)", () => {
    fc.assert(
      fc.property(nonEmptyLeafSet(30), seed, (leaves, s) => {
        const r = rng(s);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const k = leaves[r(leaves.length)]!.id;
        const genuine = prove(root, k);
        // Internal nodes on k's path whose depth leaves a gap after their parent's (path compression).
        let n: TreeNode | null = root;
        let parentDepth = -1;
        const targets: { node: InnerNode; parentDepth: number }[] = [];
        while (n !== null && n.kind === Kind.Inner) {
          if (n.depth > parentDepth + 1) targets.push({ node: n, parentDepth });
          parentDepth = n.depth;
          n = (k[n.depth >> 3]! >> (7 - (n.depth & 7))) & 1 ? n.right : n.left;
        }
        fc.pre(targets.length > 0);
        const { node, parentDepth: pd } = targets[r(targets.length)]!;
        const forged: Proof = {
          key: k,
          path: genuine.path.filter((st) => st.depth < node.depth),
          terminal: {
            kind: "node",
            depth: node.depth,
            prefix: flipBit(prefix(k, node.depth), pd + 1 + r(node.depth - pd - 1)),
            hash: hashBytes(hashOf(node)),
            sum: node.sum,
            count: node.count,
          },
        };
        assert.equal(verifyProof(genuine, sum).result, "inclusion");
        const res = verifyProof(forged, sum);
        assert.notEqual(res.result, "exclusion", `forged exclusion of present key ${hex(k)} accepted`);
        // The binary format cannot even carry a terminal node without its children.
        assert.throws(() => encodeProof(forged), TypeError);
        // SPEC-smt.md's bare form is accepted only on request, and then flagged as unbound.
        assert.deepEqual(verifyProof(forged, sum, { allowUnboundTerminal: true }), {
          result: "exclusion",
          unbound: true,
        });
      }),
      { numRuns: 100 },
    );
  });

  // The minimal case of the above, with three leaves.
  it("no forged exclusion proof: minimal example", () => {
    const { b, root, inner, sum } = threeLeaves();
    const forged: Proof = {
      key: b,
      path: [{ depth: 4, sibling: summaryOf(root.left) }],
      terminal: {
        kind: "node",
        depth: 159,
        prefix: flipBit(prefix(b, 159), 40), // any bit in 5..158: off b's path
        hash: hashBytes(hashOf(inner)),
        sum: inner.sum,
        count: inner.count,
      },
    };
    assert.equal(verifyProof(prove(root, b), sum).result, "inclusion");
    assert.equal(verifyProof(forged, sum).result, "invalid", "b is in the tree: no exclusion proof for it");
  });
});

describe("SMT properties: binary tampering", () => {
  it("every bit flip of an encoded proof: DecodeError, invalid, or a true statement", () => {
    fc.assert(
      fc.property(leafSet(30), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const keys = [...absentKeys(leaves, present, r, 1)];
        if (leaves.length > 0) keys.push(leaves[r(leaves.length)]!.id);
        for (const k of keys) {
          const bin = encodeProof(prove(root, k));
          const nbits = bin.length * 8;
          // All bits of short proofs; a sample of 1200 for long ones.
          const bits =
            nbits <= 1200 ? [...Array(nbits).keys()] : Array.from({ length: 1200 }, () => r(nbits));
          let decoded = 0;
          for (const i of bits) {
            const bad = flipBit(bin, i);
            let p: Proof;
            try {
              p = decodeProof(bad);
            } catch (e) {
              assert.ok(e instanceof DecodeError, `bit ${i}: ${String(e)}`);
              continue;
            }
            decoded++;
            const res = verifyProof(p, sum);
            assertTrue(res, p.key, present, `bit ${i}`);
            if (res.result === "inclusion") {
              const t = p.terminal;
              const l = present.get(hex(p.key))!;
              assert.ok(t !== null && t.kind === "leaf");
              assert.equal(t.amount, l.amount, `bit ${i}: included amount`);
              assert.equal(hex(t.dataHash), hex(l.dataHash), `bit ${i}: included dataHash`);
            }
          }
          assert.ok(decoded > 0, "some flips decode (hash bytes), so the verifier was exercised");
        }
      }),
      { numRuns: 40 },
    );
  });
});
