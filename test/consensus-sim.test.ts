/**
 * The deterministic simulation of the committee protocol (test/helpers/consensus-sim.ts): 10,000
 * seeds here, a longer soak with `npm run sim:soak`. Every seed checks safety at each decision and
 * liveness after the network heals; a failing seed prints the command that replays it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type SimResult, simulate } from "./helpers/consensus-sim.js";

const SEEDS = 10_000;
const replay = (seed: number) => `node dist/test/helpers/consensus-sim-run.js --seed ${seed} --trace`;

function run(from: number, count: number): SimResult[] {
  const results: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = simulate(seed);
    assert.deepEqual(r.violations, [], `seed ${seed} failed; replay: ${replay(seed)}`);
    results.push({ ...r, trace: [] });
  }
  return results;
}

test(`${SEEDS} seeds: no fork, only honest roots final, every honest node finishes once messages flow`, () => {
  const results = [...run(0, SEEDS / 2), ...run(SEEDS / 2, SEEDS / 2)];
  // The seeds must exercise what they claim to, or passing says little.
  const kinds = new Set(results.flatMap((r) => r.byzantine.map((b) => b.split(":")[1])));
  assert.deepEqual([...kinds].sort(), ["equivocate", "silent", "wrong-root"]);
  const byzChief = results.filter((r) => r.byzantine.some((b) => b.startsWith("b0:"))).length;
  assert.ok(byzChief > SEEDS / 20, `a byzantine chief in ${byzChief} seeds`);
  assert.ok(results.filter((r) => r.crashes > 0).length > SEEDS / 4, "crashes and restarts happen");
  assert.ok(results.filter((r) => r.maxRound >= 2).length > SEEDS / 20, "later rounds are reached");
  assert.ok(
    results.some((r) => r.equivocations > 0),
    "equivocation is seen",
  );
  const sizes = new Set(results.map((r) => r.n));
  assert.deepEqual([...sizes].sort(), [1, 2, 3, 4, 5, 7]);
});

test("a seed replays exactly", () => {
  for (const seed of [7, 4242]) {
    const a = simulate(seed, { trace: true });
    const b = simulate(seed, { trace: true });
    assert.ok(a.trace.length > 50);
    assert.deepEqual(a.trace, b.trace);
  }
});

test("the checker sees forks when more than f equivocate", () => {
  // Not the protocol failing: its assumption broken on purpose, to show the checks can fail.
  let forks = 0;
  for (let seed = 0; seed < 300 && forks === 0; seed++) {
    const r = simulate(seed, { tooManyByzantine: true });
    if (r.violations.some((v) => v.includes("fork"))) forks++;
  }
  assert.ok(forks > 0, "no fork found with f + 1 equivocators in 300 seeds");
});
