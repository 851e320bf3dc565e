/**
 * The committee draw: the vectors (test/vectors/election-draw.json) against an independent reference
 * written from docs/PROTOCOL.md §12 (helpers/election-reference.ts: its own stream, a linear scan),
 * the rejection of the biased tail, and properties of any draw.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { drawFrom } from "../src/election/committee.js";
import { cycleOf, inRevealWindow, MIN_ELECTION_CYCLE, schedule } from "../src/election/cycle.js";
import { commitment, drawCommittee, drawSeed, streamWord, weightedDraw } from "../src/election/draw.js";
import { candidateWeights } from "../src/election/weights.js";
import { freshAccountData, Role } from "../src/ledger/account.js";
import { refCommittee, refDraw, refSchedule } from "./helpers/election-reference.js";

interface VAccount {
  id: string;
  amount: string;
  deposit: string;
  role: number;
  candidate: boolean;
  commitment: string | null;
  vote: { candidate: string; weight: string } | null;
}
interface Vectors {
  schedules: {
    length: number;
    cycle: number;
    first: number;
    last: number;
    snapshot: number;
    revealFirst: number;
    revealLast: number;
  }[];
  draws: {
    name: string;
    cycle: number;
    size: number;
    minDeposit: string;
    snapshot: VAccount[];
    reveals: { id: string; cycle: number; secret: string }[];
    root: string;
    weights: { id: string; weight: string }[];
    seed: string;
    members: string[];
    withheld: string[];
  }[];
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

describe("the committee draw", () => {
  it("matches the vectors, and the vectors match an independent reference", () => {
    for (const s of V.stream)
      assert.equal(streamWord(Buffer.from(s.seed, "hex"), s.i).toString(16).padStart(64, "0"), s.word);
    for (const c of V.cases) {
      const cands = c.candidates.map((x) => ({ id: Buffer.from(x.id, "hex"), weight: BigInt(x.weight) }));
      const got = drawCommittee(cands, c.size, Buffer.from(c.seed, "hex")).map((b) => b.toString("hex"));
      assert.deepEqual(got, c.committee, c.name);
      const ref = refDraw(
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

describe("the cycle schedule and whole draws (vectors)", () => {
  it("each schedule is the code's and the reference's; the window lies after the snapshot and before the next cycle", () => {
    for (const v of V.schedules) {
      const { length, ...want } = v;
      assert.deepEqual(schedule(v.cycle, length), want);
      const ref = refSchedule(v.cycle, length);
      assert.deepEqual(
        [ref.snapshot, ref.revealFirst, ref.revealLast],
        [v.snapshot, v.revealFirst, v.revealLast],
      );
      assert.deepEqual([v.first, v.last], [v.cycle * length, (v.cycle + 1) * length - 1]);
      assert.ok(v.first < v.snapshot && v.snapshot < v.revealFirst && v.revealFirst <= v.revealLast);
      assert.ok(v.revealLast <= v.last, "the seed's root is committed before the next cycle");
      assert.equal(v.revealLast === v.last, length === 4, "and with a pulse to spare unless L = 4");
      assert.equal(cycleOf(v.revealLast, length), v.cycle);
      assert.ok(
        inRevealWindow(v.revealFirst, v.cycle, length) && inRevealWindow(v.revealLast, v.cycle, length),
      );
      assert.ok(
        !inRevealWindow(v.snapshot, v.cycle, length) && !inRevealWindow(v.revealLast + 1, v.cycle, length),
      );
      assert.ok(!inRevealWindow(v.revealFirst, v.cycle + 1, length), "another cycle's number");
    }
    assert.ok(V.schedules.some((v) => v.length === MIN_ELECTION_CYCLE));
    for (const bad of [0, 1, 3, 2.5]) assert.throws(() => schedule(0, bad), /at least 4 pulses/);
    assert.throws(() => schedule(2 ** 52, 4), /no such cycle/);
    assert.equal(inRevealWindow(3, 0xffffffff, 4), false, "a far-off cycle number is simply outside");
  });

  it("each draw from accounts and reveals is the code's and the reference's", () => {
    for (const d of V.draws) {
      const accounts = d.snapshot.map((a) => ({
        id: Buffer.from(a.id, "hex"),
        account: {
          ...freshAccountData(1),
          amount: BigInt(a.amount),
          deposit: BigInt(a.deposit),
          role: a.role as Role,
          candidate: a.candidate,
          commitment: a.commitment === null ? null : Buffer.from(a.commitment, "hex"),
          vote:
            a.vote === null
              ? null
              : { candidate: Buffer.from(a.vote.candidate, "hex"), weight: BigInt(a.vote.weight) },
        },
      }));
      const revealAt = (who: string) => {
        const r = d.reveals.find((x) => x.id === who);
        return r === undefined ? null : { cycle: r.cycle, secret: Buffer.from(r.secret, "hex") };
      };
      const got = drawFrom({
        cycle: d.cycle,
        committeeSize: d.size,
        minDeposit: BigInt(d.minDeposit),
        snapshot: accounts,
        revealAt: (id) => revealAt(id.toString("hex")),
        root: Buffer.from(d.root, "hex"),
      });
      const asJson = (ws: readonly { id: Buffer | string; weight: bigint }[]) =>
        ws.map((w) => ({
          id: typeof w.id === "string" ? w.id : w.id.toString("hex"),
          weight: w.weight.toString(),
        }));
      assert.deepEqual(asJson(got.weights), d.weights, d.name);
      assert.equal(got.seed.toString("hex"), d.seed, d.name);
      assert.deepEqual(
        got.members.map((m) => m.toString("hex")),
        d.members,
        d.name,
      );
      assert.deepEqual(
        got.withheld.map((m) => m.toString("hex")),
        d.withheld,
        `${d.name}: who withheld`,
      );
      const ref = refCommittee({
        cycle: d.cycle,
        size: d.size,
        minDeposit: BigInt(d.minDeposit),
        atSnapshot: new Map(accounts.map((a) => [a.id.toString("hex"), { ...a.account, reveal: null }])),
        revealAt,
        rootHex: d.root,
      });
      assert.deepEqual(
        [asJson(ref.weights), ref.seed, ref.members, ref.withheld],
        [d.weights, d.seed, d.members, d.withheld],
        `${d.name}: the reference`,
      );
    }
    assert.deepEqual(
      V.draws.map((d) => [d.members.length, d.withheld.length]),
      [
        [3, 2],
        [0, 2],
        [2, 0],
      ],
    );
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
