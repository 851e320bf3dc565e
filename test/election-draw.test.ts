/**
 * The committee draw: the vectors (test/vectors/election-draw.json) against an independent reference
 * written here from docs/PROTOCOL.md §12 (its own stream, a linear scan instead of a binary search),
 * the rejection of the biased tail, and properties of any draw.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { commitment, drawCommittee, drawSeed, streamWord, weightedDraw } from "../src/election/draw.js";
import { candidateWeights } from "../src/election/weights.js";
import { freshAccountData, Role } from "../src/ledger/account.js";

interface Vectors {
  stream: { seed: string; i: number; word: string }[];
  seed: { root: string; reveals: { id: string; secret: string; commitment: string }[]; seed: string };
  cases: {
    name: string;
    candidates: { id: string; weight: string }[];
    size: number;
    seed: string;
    committee: string[];
  }[];
}
const V = JSON.parse(
  readFileSync(new URL("../../test/vectors/election-draw.json", import.meta.url), "utf8"),
) as Vectors;

/** The reference: the spec's words, read literally. */
function reference(cands: { id: string; weight: bigint }[], size: number, seedHex: string): string[] {
  let counter = 0;
  const word = () => {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter++);
    const d = createHash("sha256")
      .update("LEITHER\0draw", "latin1")
      .update(Buffer.from(seedHex, "hex"))
      .update(c)
      .digest("hex");
    return BigInt(`0x${d}`);
  };
  let pool = cands.filter((c) => c.weight > 0n).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: string[] = [];
  while (out.length < size && pool.length > 0) {
    const total = pool.reduce((s, c) => s + c.weight, 0n);
    const space = 2n ** 256n;
    let r = word();
    while (r >= space - (space % total)) r = word();
    let x = r % total;
    let pick = 0;
    while (x >= pool[pick]!.weight) {
      x -= pool[pick]!.weight;
      pick++;
    }
    out.push(pool[pick]!.id);
    pool = pool.filter((_, i) => i !== pick);
  }
  return out;
}

describe("the committee draw", () => {
  it("matches the vectors, and the vectors match an independent reference", () => {
    for (const s of V.stream)
      assert.equal(streamWord(Buffer.from(s.seed, "hex"), s.i).toString(16).padStart(64, "0"), s.word);
    for (const c of V.cases) {
      const cands = c.candidates.map((x) => ({ id: Buffer.from(x.id, "hex"), weight: BigInt(x.weight) }));
      const got = drawCommittee(cands, c.size, Buffer.from(c.seed, "hex")).map((b) => b.toString("hex"));
      assert.deepEqual(got, c.committee, c.name);
      const ref = reference(
        c.candidates.map((x) => ({ id: x.id, weight: BigInt(x.weight) })),
        c.size,
        c.seed,
      );
      assert.deepEqual(ref, c.committee, `${c.name}: the reference`);
      // The order the candidates are listed in does not matter.
      assert.deepEqual(
        drawCommittee([...cands].reverse(), c.size, Buffer.from(c.seed, "hex")).map((b) => b.toString("hex")),
        got,
      );
    }
  });

  it("the seed mixes the root with the revealed secrets, each checked against its commitment", () => {
    const s = V.seed;
    const reveals = s.reveals.map((r) => ({
      id: Buffer.from(r.id, "hex"),
      secret: Buffer.from(r.secret, "hex"),
      commitment: Buffer.from(r.commitment, "hex"),
    }));
    for (const r of reveals) assert.deepEqual(commitment(r.secret), r.commitment);
    assert.equal(drawSeed(Buffer.from(s.root, "hex"), reveals).toString("hex"), s.seed);
    assert.equal(
      drawSeed(Buffer.from(s.root, "hex"), [...reveals].reverse()).toString("hex"),
      s.seed,
      "order-free",
    );
    assert.notEqual(
      drawSeed(Buffer.from(s.root, "hex"), reveals.slice(1)).toString("hex"),
      s.seed,
      "a withheld reveal changes it",
    );
    const bad = { ...reveals[0]!, secret: Buffer.alloc(32, 9) };
    assert.throws(() => drawSeed(Buffer.from(s.root, "hex"), [bad]), /commitment/);
    assert.throws(() => drawSeed(Buffer.from(s.root, "hex"), [reveals[0]!, reveals[0]!]), /twice/);
  });

  it("refuses a number in the biased tail and takes the next", () => {
    // Space 256, total 100: 200..255 would favour the first 56 units, so they are refused.
    const c = [
      { id: Buffer.alloc(20, 1), weight: 60n },
      { id: Buffer.alloc(20, 2), weight: 40n },
    ];
    const feed = (xs: bigint[]) => () => xs.shift()!;
    assert.deepEqual(
      weightedDraw(c, 1, feed([250n, 201n, 65n]), 256n),
      [c[1]!.id],
      "65 mod 100 = 65: the second",
    );
    assert.deepEqual(weightedDraw(c, 1, feed([199n]), 256n), [c[1]!.id], "199 is accepted: 99");
    assert.deepEqual(weightedDraw(c, 1, feed([159n]), 256n), [c[0]!.id], "159 mod 100 = 59: the first");
  });

  it("any draw: distinct standing candidates, at most the size, never a weight of 0, deterministic", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            fc.uint8Array({ minLength: 20, maxLength: 20 }),
            fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          ),
          {
            maxLength: 20,
            selector: ([id]) => Buffer.from(id).toString("hex"),
          },
        ),
        fc.integer({ min: 0, max: 25 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (raw, size, seed) => {
          const cands = raw.map(([id, weight]) => ({ id: Buffer.from(id), weight }));
          const got = drawCommittee(cands, size, seed);
          const standing = cands.filter((c) => c.weight > 0n);
          assert.equal(got.length, Math.min(size, standing.length));
          assert.equal(new Set(got.map((b) => b.toString("hex"))).size, got.length);
          for (const g of got) assert.ok(standing.some((c) => c.id.equals(g)));
          assert.deepEqual(drawCommittee(cands, size, seed), got);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the chief is drawn in proportion to weight (2,000 seeds)", () => {
    const c = [1n, 2n, 3n, 4n].map((w, i) => ({ id: Buffer.alloc(20, i + 1), weight: w * 10n }));
    const count = [0, 0, 0, 0];
    for (let s = 0; s < 2000; s++) {
      const seed = createHash("sha256").update(`seed ${s}`).digest();
      const chief = drawCommittee(c, 1, seed)[0]!;
      count[chief[0]! - 1]!++;
    }
    // Expected 200, 400, 600, 800; a deterministic run, with bounds far outside chance.
    for (const [i, e] of [200, 400, 600, 800].entries()) assert.ok(Math.abs(count[i]! - e) < 90, `${count}`);
  });

  it("refuses bad input", () => {
    const a = { id: Buffer.alloc(20, 1), weight: 1n };
    assert.throws(() => drawCommittee([a, a], 1, Buffer.alloc(32)), /twice/);
    assert.throws(
      () => drawCommittee([{ id: Buffer.alloc(19), weight: 1n }], 1, Buffer.alloc(32)),
      /20 bytes/,
    );
    assert.throws(
      () => drawCommittee([{ id: Buffer.alloc(20), weight: -1n }], 1, Buffer.alloc(32)),
      /non-negative/,
    );
    assert.throws(() => drawCommittee([a], 1, Buffer.alloc(31)), /32 bytes/);
    assert.throws(() => drawCommittee([a], -1, Buffer.alloc(32)), /size/);
  });
});

describe("candidate weights at the snapshot", () => {
  it("deposit plus votes, each vote capped at its voter's amount; only standing candidates", () => {
    const id = (n: number) => Buffer.alloc(20, n);
    const acc = (o: Partial<ReturnType<typeof freshAccountData>> & { amount: bigint }) => ({
      ...freshAccountData(1),
      ...o,
    });
    const weights = candidateWeights(
      [
        { id: id(1), account: acc({ amount: 5000n, deposit: 2000n, candidate: true, role: Role.Member }) },
        { id: id(2), account: acc({ amount: 5000n, deposit: 500n, candidate: true, role: Role.Member }) }, // below the minimum
        { id: id(3), account: acc({ amount: 5000n, deposit: 3000n, candidate: true, role: Role.Guest }) }, // a guest does not stand
        { id: id(4), account: acc({ amount: 300n, vote: { candidate: id(1), weight: 700n } }) }, // capped at 300
        { id: id(5), account: acc({ amount: 900n, vote: { candidate: id(1), weight: 100n } }) },
        { id: id(6), account: acc({ amount: 900n, vote: { candidate: id(2), weight: 100n } }) }, // for one not standing
      ],
      1000n,
    );
    assert.deepEqual(
      weights.map((w) => [w.id[0], w.weight]),
      [[1, 2400n]],
    );
  });
});
