/**
 * Runs the consensus simulation from the command line: one seed with its trace, or a soak over a
 * range of seeds (npm run sim:soak). Exits 1 when any seed violates safety or liveness.
 *
 *   node dist/test/helpers/consensus-sim-run.js --seed 123 --trace
 *   node dist/test/helpers/consensus-sim-run.js --from 0 --count 200000
 */
import { simulate } from "./consensus-sim.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};

const seed = arg("seed");
if (seed !== undefined) {
  const r = simulate(Number(seed), { trace: process.argv.includes("--trace") });
  for (const line of r.trace) console.log(line);
  const { trace: _t, ...rest } = r;
  console.log(JSON.stringify(rest));
  process.exit(r.violations.length === 0 ? 0 : 1);
}
const from = Number(arg("from") ?? 0);
const count = Number(arg("count") ?? 100_000);
const t0 = performance.now();
let failed = 0;
let maxRound = 0;
let equivocations = 0;
for (let s = from; s < from + count; s++) {
  const r = simulate(s);
  maxRound = Math.max(maxRound, r.maxRound);
  equivocations += r.equivocations;
  if (r.violations.length > 0) {
    failed++;
    for (const v of r.violations) console.log(v);
  }
  if ((s - from + 1) % 10_000 === 0) console.log(`${s - from + 1} seeds, ${failed} failed`);
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    bench: "consensus-soak",
    from,
    seeds: count,
    failed,
    maxRound,
    equivocations,
    seconds: Math.round(seconds),
  }),
);
process.exit(failed === 0 ? 0 : 1);
