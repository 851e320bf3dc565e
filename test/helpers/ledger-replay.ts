/**
 * Child process of test/ledger-determinism.test.ts: applies the pulses of a JSON file (transactions
 * in hex, see ReplayInput) to a fresh LevelDB ledger and prints every pulse's outcome as one line of
 * JSON on stdout. The verifier is named on the command line so that two processes can show the
 * worker pool gives the same results as the calling thread.
 *
 *   node dist/test/helpers/ledger-replay.js <input.json> <dataDir> [inline|pool]
 */
import "../../src/polyfill.js";
import { readFileSync } from "node:fs";
import { type BatchVerifier, InlineVerifier } from "../../src/crypto/verify-batch.js";
import { VerifyPool } from "../../src/crypto/verify-pool.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { LevelKV } from "../../src/ledger/level-kv.js";
import { type OutcomeJson, outcomeJson, type ReplayInput } from "./ledger-fixtures.js";

const [input, dir, mode = "inline"] = process.argv.slice(2);
if (input === undefined || dir === undefined || (mode !== "inline" && mode !== "pool")) {
  process.stderr.write("usage: ledger-replay.js <input.json> <dataDir> [inline|pool]\n");
  process.exit(2);
}

const { pulses } = JSON.parse(readFileSync(input, "utf8")) as ReplayInput;
// minBatch 1: every batch goes to the workers, however small.
const verifier: BatchVerifier =
  mode === "pool" ? new VerifyPool({ threads: 2, minBatch: 1 }) : new InlineVerifier();
process.stderr.write(
  mode === "pool" ? `verifier: pool of ${(verifier as VerifyPool).threads} threads\n` : "verifier: inline\n",
);
const ledger = await Ledger.open(await LevelKV.open(dir), { verifier });
const out: OutcomeJson[] = [];
try {
  for (const p of pulses)
    out.push(
      outcomeJson(
        await ledger.applyPulse(
          p.pulse,
          p.txs.map((h) => Buffer.from(h, "hex")),
        ),
      ),
    );
} finally {
  // Both hold the process open (LevelDB handle, worker threads) until closed.
  await ledger.close();
  await verifier.close();
}
process.stdout.write(`${JSON.stringify({ pulses: out })}\n`);
