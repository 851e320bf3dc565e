/**
 * Writes test/vectors/election-draw.json (docs/PROTOCOL.md §12) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-election-vectors.js > test/vectors/election-draw.json
 *   npx biome format --write test/vectors/election-draw.json
 *
 * Deterministic: ids, weights, roots and secrets come from fixed seeds. test/election-draw.test.ts
 * checks every case against an independent reference implementation, not only against this code.
 */
import { hash } from "node:crypto";
import { commitment, drawCommittee, drawSeed, streamWord } from "../../src/election/draw.js";

const h = (s: string) => hash("sha256", s, "buffer");
const id = (n: number) => h(`candidate ${n}`).subarray(0, 20);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const cases: { name: string; weights: bigint[]; size: number; seed: Buffer }[] = [
  { name: "four equal candidates, committee of 4", weights: [1n, 1n, 1n, 1n], size: 4, seed: h("seed a") },
  {
    name: "skewed weights, committee of 4 from 7",
    weights: [1n, 1000n, 5n, 5n, 300n, 0n, 42n],
    size: 4,
    seed: h("seed b"),
  },
  { name: "fewer candidates with weight than seats", weights: [0n, 7n, 0n], size: 4, seed: h("seed c") },
  { name: "a committee of 1", weights: [10n, 20n, 30n], size: 1, seed: h("seed d") },
  {
    name: "u64-sized weights",
    weights: [(1n << 64n) - 1n, (1n << 63n) + 12345n, 1n << 40n, 999n],
    size: 3,
    seed: h("seed e"),
  },
  {
    name: "ten candidates, committee of 7 (3f+1, f = 2)",
    weights: [3n, 1n, 4n, 1n, 5n, 9n, 2n, 6n, 5n, 3n],
    size: 7,
    seed: h("seed f"),
  },
];

const secrets = [0, 1, 2].map((n) => h(`secret ${n}`));
const reveals = secrets.map((s, n) => ({ id: id(n), secret: s, commitment: commitment(s) }));
const root = h("a finalized root");

const doc = {
  description:
    "The committee draw of docs/PROTOCOL.md §12: candidates (id, weight) in any order, a committee size and a 32-byte seed; the committee in drawn order (the first is round 0's proposer).",
  stream: [0, 1, 2].map((i) => ({
    seed: hex(h("seed a")),
    i,
    word: streamWord(h("seed a"), i).toString(16).padStart(64, "0"),
  })),
  seed: {
    root: hex(root),
    reveals: reveals.map((r) => ({ id: hex(r.id), secret: hex(r.secret), commitment: hex(r.commitment) })),
    seed: hex(drawSeed(root, reveals)),
  },
  cases: cases.map((c) => {
    const candidates = c.weights.map((w, n) => ({ id: id(n), weight: w }));
    return {
      name: c.name,
      candidates: candidates.map((x) => ({ id: hex(x.id), weight: x.weight.toString() })),
      size: c.size,
      seed: hex(c.seed),
      committee: drawCommittee(candidates, c.size, c.seed).map(hex),
    };
  }),
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
