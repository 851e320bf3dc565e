/**
 * The ledger's account cache never changes an answer: the same pulses on ledgers with the cache on,
 * off, and too small to hold more than a few accounts (constant eviction) give identical outcomes and
 * account reads, also after a pulse the store refused; reads of past pulses bypass it.
 */
import { strict as assert } from "node:assert";
import { it } from "node:test";
import { Ledger, type LedgerOptions } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { PulseError } from "../src/ledger/store.js";
import { outcomeJson, randomSociety } from "./helpers/ledger-fixtures.js";

it("cache on, off and tiny: identical outcomes and reads, also after a refused pulse", async () => {
  const { cast, chain } = await randomSociety({ seed: 777, runs: 8, minOps: 10, maxOps: 30 });
  const log = chain.log;
  await chain.close();

  const configs: [string, LedgerOptions][] = [
    ["default", {}],
    ["off", { accountCacheBytes: 0 }],
    ["tiny", { accountCacheBytes: 1200 }],
  ];
  const ledgers = await Promise.all(configs.map(([, o]) => Ledger.open(new MemoryKV(), o)));
  const ids = [...cast.all.map((s) => s.id), cast.orgKey.id];
  const reads = (l: Ledger, pulse?: number) =>
    JSON.stringify(
      ids.map((id) => l.account(id, pulse)),
      (_k, v) => (typeof v === "bigint" ? `${v}` : v),
    );
  let accepted = 0;
  const history: string[] = [];
  for (const [i, p] of log.entries()) {
    if (i === 5) {
      // A pulse the store refuses (not the next number): nothing of it may stick in a cache.
      const wrong = ledgers[0]!.applyPulse(p.pulse + 1, p.txs);
      await assert.rejects(wrong, (e) => e instanceof PulseError && e.code === "NOT_NEXT");
    }
    const outs = [];
    for (const l of ledgers) outs.push(JSON.stringify(outcomeJson(await l.applyPulse(p.pulse, p.txs))));
    assert.equal(outs[1], outs[0], `pulse ${p.pulse}: cache off`);
    assert.equal(outs[2], outs[0], `pulse ${p.pulse}: tiny cache`);
    accepted += (JSON.parse(outs[0]!) as { results: { ok: boolean }[] }).results.filter((r) => r.ok).length;
    const r = ledgers.map((l) => reads(l));
    assert.equal(r[1], r[0]);
    assert.equal(r[2], r[0]);
    history.push(r[0]!);
  }
  assert.ok(accepted > 30, `accepted ${accepted}`);
  assert.ok(new Set(history).size > 5, "the accounts changed");
  // Past pulses are read from the tree, not from the head's cache.
  const first = log[0]!.pulse;
  for (const l of ledgers) assert.equal(reads(l, first + 3), history[3]);
  for (const l of ledgers) await l.close();
});
