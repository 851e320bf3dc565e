/**
 * Determinism across processes, stores and verifiers: the same pulses replayed by two child
 * processes, each on a fresh LevelDB store, one verifying signatures on a pool of worker threads and
 * the other on its own thread, give byte-identical roots, verdicts and receipts (proofs included),
 * and the same as this process on a MemoryKV.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { promisify } from "node:util";
import type { Signer } from "../src/crypto/ed25519.js";
import { Policy } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import {
  badSignature,
  hex,
  type OutcomeJson,
  outcomeJson,
  type ReplayInput,
  randomSociety,
  Txs,
} from "./helpers/ledger-fixtures.js";
import { tmpDir } from "./helpers/tmp.js";

const exec = promisify(execFile);
const replay = new URL("./helpers/ledger-replay.js", import.meta.url).pathname;

/** Setup pulses, then random mixed batches (fixed seed), then a pulse of known rejections. */
async function buildPulses(): Promise<ReplayInput> {
  const { cast, chain } = await randomSociety({ seed: 20240607, runs: 8, minOps: 15, maxOps: 40 });
  const [a, b] = cast.users as [Signer, Signer];
  const t = chain.txs;
  await chain.pulse([
    chain.log[1]!.txs[0]!, // a's application, accepted at pulse 1
    new Txs(cast.otherOrgKey.id).setPolicy(a, Policy.AcceptAll, chain.nonce(a)),
    t.setPolicy(a, Policy.AcceptAll, chain.nonce(a), { expiry: chain.next - 1 }),
    badSignature(t.setPolicy(b, Policy.AcceptAll, chain.nonce(b))),
    t.setPolicy(b, Policy.AcceptAll, chain.nonce(b)),
    Buffer.from("junk"),
  ]);
  await chain.close();
  return { pulses: chain.log.map((p) => ({ pulse: p.pulse, txs: p.txs.map(hex) })) };
}

/** The same replay in this process, on a MemoryKV with the inline verifier. */
async function replayHere(input: ReplayInput): Promise<string> {
  const ledger = await Ledger.open(new MemoryKV());
  const out: OutcomeJson[] = [];
  for (const p of input.pulses)
    out.push(
      outcomeJson(
        await ledger.applyPulse(
          p.pulse,
          p.txs.map((h) => Buffer.from(h, "hex")),
        ),
      ),
    );
  await ledger.close();
  return `${JSON.stringify({ pulses: out })}\n`;
}

it("same batch, two fresh stores, two processes: identical roots and receipts", async (t) => {
  const input = await buildPulses();
  const dir = tmpDir("leither-determinism-");
  const file = join(dir, "pulses.json");
  writeFileSync(file, JSON.stringify(input));
  const opts = { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 };
  const [inline, pool] = await Promise.all([
    exec(process.execPath, [replay, file, join(dir, "inline"), "inline"], opts),
    exec(process.execPath, [replay, file, join(dir, "pool"), "pool"], opts),
  ]);
  assert.match(pool.stderr, /pool of 2 threads/);
  assert.match(inline.stderr, /inline/);
  assert.ok(inline.stdout === pool.stdout, "the two processes' outputs are byte-identical");

  assert.ok(inline.stdout === (await replayHere(input)), "and identical to this process on a MemoryKV");

  const got = (JSON.parse(inline.stdout) as { pulses: OutcomeJson[] }).pulses;
  assert.equal(got.length, input.pulses.length);

  // Non-trivial: accepted and rejected transactions of many kinds, receipts with proofs.
  const results = got.flatMap((p) => p.results);
  const reasons = new Set(results.flatMap((r) => (r.ok ? [] : [r.reason])));
  const accepted = results.filter((r) => r.ok).length;
  assert.ok(accepted >= 40, `accepted ${accepted}`);
  assert.ok(results.length - accepted >= 40, `rejected ${results.length - accepted}`);
  for (const r of ["NONCE", "WRONG_ORG", "EXPIRED", "BAD_SIGNATURE", "DECODE", "KEY_MISMATCH", "DUPLICATE"])
    assert.ok(reasons.has(r), `a ${r} rejection among ${[...reasons]}`);
  t.diagnostic(
    `${got.length} pulses, ${results.length} txs: ${accepted} accepted, rejected for ${[...reasons].sort()}; ${inline.stdout.length} bytes`,
  );
  const last = got.at(-1)!;
  assert.deepEqual(
    last.results.map((r) => (r.ok ? "OK" : r.reason)),
    ["NONCE", "WRONG_ORG", "EXPIRED", "BAD_SIGNATURE", "OK", "DECODE"],
  );
  assert.ok(got.every((p) => p.receipts.every((r) => r.proofs.length > 0)));
  assert.ok(new Set(got.map((p) => p.root.hash)).size > 5, "the root moved");
});
