/**
 * Writes test/vectors/election-draw.json (docs/PROTOCOL.md §12) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-election-vectors.js > test/vectors/election-draw.json
 *   npx biome format --write test/vectors/election-draw.json
 *
 * Deterministic: ids, weights, roots and secrets come from fixed seeds. test/election-draw.test.ts
 * checks every case (the draw, the cycle schedules, whole draws from accounts and reveals) against an
 * independent reference implementation (helpers/election-reference.ts), not only against this code.
 */
import { hash } from "node:crypto";
import { drawFrom } from "../../src/election/committee.js";
import { schedule } from "../../src/election/cycle.js";
import { commitment, drawCommittee, drawSeed, streamWord } from "../../src/election/draw.js";
import { type Account, freshAccountData, Role } from "../../src/ledger/account.js";

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

/** Cycle lengths from the smallest allowed to the founder's default, and a few cycles of each. */
const schedules = [4, 5, 6, 7, 8, 10, 16, 100, 1800].flatMap((length) =>
  [0, 1, 7].map((cycle) => ({ length, ...schedule(cycle, length) })),
);

/** One draw from the state at the snapshot and the reveals at the seed pulse (PROTOCOL §12). */
interface DrawCase {
  name: string;
  cycle: number;
  size: number;
  minDeposit: bigint;
  accounts: { n: number; account: Partial<Account> & { amount: bigint } }[];
  reveals: { n: number; cycle: number; secret: Buffer }[];
}
const sec = (n: number, c: number) => h(`secret ${n}/${c}`);
const cand = (n: number, deposit: bigint, role: number = Role.Member): DrawCase["accounts"][number] => ({
  n,
  account: {
    amount: deposit + 500n,
    deposit,
    role: role as Account["role"],
    candidate: true,
    commitment: commitment(sec(n, 3)),
  },
});
const voter = (n: number, amount: bigint, forN: number, weight: bigint): DrawCase["accounts"][number] => ({
  n,
  account: { amount, role: Role.Guest, vote: { candidate: id(forN), weight } },
});
const drawCases: DrawCase[] = [
  {
    name: "five stand; one revealed only in an earlier cycle (it withheld this one), one revealed a secret its snapshot commitment does not open",
    cycle: 3,
    size: 3,
    minDeposit: 100n,
    accounts: [
      cand(0, 100n),
      cand(1, 300n),
      cand(2, 200n),
      cand(3, 150n),
      cand(4, 120n),
      cand(5, 50n), // below the minimum deposit: does not stand
      cand(6, 500n, Role.Guest), // a guest does not stand
      voter(10, 400n, 0, 1000n), // capped at its amount, 400
      voter(11, 9000n, 2, 700n),
      voter(12, 9000n, 5, 700n), // for one who does not stand
    ],
    reveals: [
      { n: 0, cycle: 3, secret: sec(0, 3) },
      { n: 1, cycle: 3, secret: sec(1, 3) },
      { n: 2, cycle: 3, secret: sec(2, 3) },
      { n: 3, cycle: 3, secret: sec(3, 4) }, // not the snapshot commitment's secret
      { n: 4, cycle: 2, secret: sec(4, 2) }, // the last reveal is of an earlier cycle
      { n: 6, cycle: 3, secret: sec(6, 3) }, // revealed, but did not stand
    ],
  },
  {
    name: "no one revealed: no members (the previous committee continues)",
    cycle: 3,
    size: 3,
    minDeposit: 100n,
    accounts: [cand(0, 100n), cand(1, 300n)],
    reveals: [],
  },
  {
    name: "more took part than seats: a committee of 2 from 5",
    cycle: 3,
    size: 2,
    minDeposit: 1n,
    accounts: [0, 1, 2, 3, 4].map((n) => cand(n, BigInt(10 + n))),
    reveals: [0, 1, 2, 3, 4].map((n) => ({ n, cycle: 3, secret: sec(n, 3) })),
  },
];

const json = (a: Account) => ({
  amount: a.amount.toString(),
  deposit: a.deposit.toString(),
  role: a.role,
  candidate: a.candidate,
  commitment: a.commitment === null ? null : hex(a.commitment),
  vote: a.vote === null ? null : { candidate: hex(a.vote.candidate), weight: a.vote.weight.toString() },
});

const draws = drawCases.map((c) => {
  const snapshot = c.accounts.map((x) => ({
    id: id(x.n),
    account: { ...freshAccountData(1), ...x.account },
  }));
  const root = h(`root of ${c.name}`);
  const drawn = drawFrom({
    cycle: c.cycle,
    committeeSize: c.size,
    minDeposit: c.minDeposit,
    snapshot,
    revealAt: (who) => {
      const r = c.reveals.find((x) => id(x.n).equals(who));
      return r === undefined ? null : { cycle: r.cycle, secret: r.secret };
    },
    root,
  });
  return {
    name: c.name,
    cycle: c.cycle,
    size: c.size,
    minDeposit: c.minDeposit.toString(),
    snapshot: snapshot.map((x) => ({ id: hex(x.id), ...json(x.account) })),
    reveals: c.reveals.map((r) => ({ id: hex(id(r.n)), cycle: r.cycle, secret: hex(r.secret) })),
    root: hex(root),
    weights: drawn.weights.map((w) => ({ id: hex(w.id), weight: w.weight.toString() })),
    seed: hex(drawn.seed),
    members: drawn.members.map(hex),
    withheld: drawn.withheld.map(hex),
  };
});

const doc = {
  description:
    "The committee draw of docs/PROTOCOL.md §12. cases: candidates (id, weight) in any order, a committee size and a 32-byte seed; the committee in drawn order (the first is round 0's proposer). schedules: each cycle's pulses for a cycle length. draws: the accounts at the snapshot and the last reveals at the seed pulse, the root after it; who took part, the seed and the members, and who withheld (stood with a commitment and did not open it: what the cycle's forfeit names).",
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
  schedules,
  draws,
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
