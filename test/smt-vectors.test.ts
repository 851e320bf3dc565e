import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  buildTree,
  decodeProof,
  encodeProof,
  type LeafOp,
  proofFromJson,
  proofToJson,
  prove,
  summaryOf,
  verifyProof,
} from "../src/smt/index.js";
import { referenceRoot } from "./helpers/reference.js";

interface VLeaf {
  id: string;
  amount: string;
  dataHash: string;
}
interface VCase {
  name: string;
  leaves: VLeaf[];
  root: { hash: string; sum: string; count: number };
  proofs: ({ key: string; result: string } & Record<string, unknown>)[];
}
const vectors: { cases: VCase[] } = JSON.parse(
  readFileSync(new URL("../../test/vectors/smt-vectors.json", import.meta.url), "utf8"),
);

const toOps = (leaves: VLeaf[]): LeafOp[] =>
  leaves.map((l) => ({
    id: Buffer.from(l.id, "hex"),
    leaf: { amount: BigInt(l.amount), dataHash: Buffer.from(l.dataHash, "hex") },
  }));

const rootOf = (c: VCase) => ({
  hash: Buffer.from(c.root.hash, "hex"),
  sum: BigInt(c.root.sum),
  count: c.root.count,
});

describe("SPEC-smt.md vectors", () => {
  for (const c of vectors.cases) {
    it(`${c.name}: root in any insertion order`, () => {
      const ops = toOps(c.leaves);
      for (const order of [ops, [...ops].reverse(), [...ops].sort(() => 0.5 - Math.random())]) {
        const s = summaryOf(buildTree(order));
        assert.equal(Buffer.from(s.hash).toString("hex"), c.root.hash);
        assert.equal(s.sum.toString(), c.root.sum);
        assert.equal(s.count, c.root.count);
      }
      const ref = referenceRoot(ops.map((o) => ({ id: o.id, ...o.leaf! })));
      assert.equal(ref.hash.toString("hex"), c.root.hash, "the test's reference model agrees");
    });

    it(`${c.name}: proofs verify, match byte for byte, and round-trip the binary encoding`, () => {
      const tree = buildTree(toOps(c.leaves));
      for (const vp of c.proofs) {
        // The spec's form: a node terminal is a bare summary, accepted only as "unbound".
        const parsed = proofFromJson(vp);
        const spec = verifyProof(parsed, rootOf(c), { allowUnboundTerminal: true });
        assert.equal(spec.result, vp.result);
        if (parsed.terminal?.kind === "node") {
          assert.deepEqual(spec, { result: "exclusion", unbound: true });
          assert.equal(
            verifyProof(parsed, rootOf(c)).result,
            "invalid",
            "unbound terminals are refused by default",
          );
        }
        // Ours match the vectors byte for byte in the spec's shape, and carry the node's children.
        const mine = prove(tree, Buffer.from(vp.key, "hex"));
        const { result: _r, ...expected } = vp;
        assert.deepEqual(proofToJson(mine, { spec: true }), expected);
        assert.deepEqual(verifyProof(mine, rootOf(c)), { result: vp.result });
        assert.deepEqual(verifyProof(proofFromJson(proofToJson(mine)), rootOf(c)), { result: vp.result });
        const bin = encodeProof(mine);
        assert.deepEqual(proofToJson(decodeProof(bin), { spec: true }), expected);
        assert.deepEqual(verifyProof(decodeProof(bin), rootOf(c)), { result: vp.result });
      }
    });
  }
});
