/**
 * End to end: a daemon SIGKILLed under a load of transfers keeps every transfer it said was
 * accepted, at the pulse it said, with the roots it published; restarted on the same data dir it
 * goes on from its last final pulse.
 */
import { strict as assert } from "node:assert";
import { after, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { LeitherApi, RootJson } from "../src/rpc/api.js";
import { proofFromJson, summaryFromJson } from "../src/smt/proof.js";
import { verifyProof } from "../src/smt/verify.js";
import {
  cleanupDaemons,
  type Daemon,
  daemonDir,
  EventLog,
  spawnDaemon,
  stopDaemon,
  waitReady,
} from "./helpers/daemon.js";

/** Load loops paying from the node's account (they share its nonces) and from keys of their own. */
const NODE_LOOPS = 2;
const KEY_LOOPS = 3;
const LOAD_MS = 2_000;

const running: Daemon[] = [];

after(async () => {
  try {
    // The restarted daemon, if the test got that far, stops cleanly.
    const last = running.at(-1);
    if (running.length === 2 && last !== undefined && last.child.exitCode === null) {
      const exit = await stopDaemon(last, "SIGTERM", 10_000);
      assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM exit; stderr: ${last.out.stderr}`);
    }
  } finally {
    await cleanupDaemons();
  }
});

it("a daemon killed with SIGKILL under load keeps what it accepted and goes on after a restart", {
  timeout: 40_000,
}, async (t) => {
  const dir = daemonDir();
  const first = spawnDaemon(dir);
  running.push(first);
  const c1 = await waitReady(first, 0, 10_000);
  const payee = await c1.request("keys_new");
  const payers: (string | undefined)[] = Array(NODE_LOOPS).fill(undefined);
  for (let i = 0; i < KEY_LOOPS; i++) {
    const k = await c1.request("keys_new");
    const f = await c1.request("tx_transfer", { to: k.id, amount: "10000", wait: true });
    assert.equal(f.state, "accepted", JSON.stringify(f));
    payers.push(k.id);
  }

  /** Roots the node published (pulse.final) and receipts' roots, by pulse. */
  const roots = new Map<number, RootJson>();
  const finals = new EventLog(c1, ["pulse"]);
  /** Every transfer answered `accepted`, with its pulse. */
  const accepted = new Map<string, number>();
  /** Receipts fetched before the kill, by txId. */
  const receipts = new Map<string, LeitherApi["tx_receipt"]["result"]>();
  let killed = false;
  let failure: unknown;
  const loop = async (n: number, from: string | undefined) => {
    for (let i = 0; !killed && failure === undefined; i++) {
      try {
        const s = await c1.request("tx_transfer", {
          to: payee.id,
          amount: "1",
          wait: true,
          ...(from === undefined ? {} : { from }),
        });
        if (s.state !== "accepted") continue;
        accepted.set(s.txId, s.pulse!);
        if (i % 3 !== n % 3) continue;
        const r = await c1.request("tx_receipt", { txId: s.txId });
        assert.equal(r.pulse, s.pulse);
        receipts.set(s.txId, r);
        const seen = roots.get(r.pulse);
        if (seen !== undefined) assert.deepEqual(r.root, seen, `pulse ${r.pulse}: receipts agree`);
        roots.set(r.pulse, r.root);
      } catch (err) {
        // Once the daemon is killed, calls fail to reach it; before that, nothing may fail.
        if (!killed) failure = err;
      }
    }
  };
  const loops = payers.map((from, n) => loop(n, from));
  // Kill at a random moment of a pulse slot, with transfers in flight.
  await sleep(LOAD_MS + Math.random() * 200);
  const load = { accepted: accepted.size };
  killed = true;
  first.child.kill("SIGKILL");
  const exit = await first.exit;
  await Promise.all(loops);
  await finals.stop();
  assert.equal(exit.signal, "SIGKILL");
  assert.equal(failure, undefined, `the load failed before the kill: ${String(failure)}`);
  for (const e of finals.events) {
    const p = e.data as { pulse: number; root: RootJson };
    const seen = roots.get(p.pulse);
    if (seen !== undefined) assert.deepEqual(p.root, seen, `pulse ${p.pulse}: event and receipt agree`);
    roots.set(p.pulse, p.root);
  }
  assert.ok(load.accepted >= 3, `transfers were accepted before the kill (${load.accepted})`);
  t.diagnostic(`${load.accepted} transfers accepted in pulses up to ${Math.max(...accepted.values())}`);
  const maxPulse = Math.max(...accepted.values(), ...roots.keys());

  // Restart on the same data dir: no new organization, the same books.
  const second = spawnDaemon(dir);
  running.push(second);
  const c2 = await waitReady(second, 0, 10_000);
  const status = await c2.request("node_status");
  const head = status.pulse!;
  assert.ok(head >= maxPulse, `head ${head} after the restart is below pulse ${maxPulse} reported final`);

  for (const [txId, pulse] of accepted) {
    const r = await c2.request("tx_receipt", { txId });
    assert.equal(r.pulse, pulse, `tx ${txId} pulse`);
    const root = summaryFromJson(r.root);
    assert.equal(r.proofs.length, 2);
    for (const p of r.proofs)
      assert.equal(verifyProof(proofFromJson(p.proof), root).result, "inclusion", `tx ${txId} ${p.account}`);
    const before = receipts.get(txId);
    if (before !== undefined) assert.deepEqual(r, before, `tx ${txId}: the same receipt after the restart`);
    assert.deepEqual(await c2.request("tx_status", { txId }), { txId, state: "accepted", pulse });
  }
  for (const [pulse, root] of roots)
    assert.deepEqual(await c2.request("ledger_getRoot", { pulse }), root, `root of pulse ${pulse}`);

  // Every accepted transfer moved exactly 1 (accepted ones are distinct transactions).
  const balance = await c2.request("ledger_getAccount", { account: payee.id });
  assert.ok(BigInt(balance.amount) >= BigInt(accepted.size));

  // It goes on: the next pulse is head + 1, transfers are accepted and proven.
  const next = await c2.request("tx_transfer", { to: payee.id, amount: "1", wait: true });
  assert.equal(next.state, "accepted", JSON.stringify(next));
  assert.equal(next.pulse, head + 1);
  const r = await c2.request("tx_receipt", { txId: next.txId });
  for (const p of r.proofs)
    assert.equal(verifyProof(proofFromJson(p.proof), summaryFromJson(r.root)).result, "inclusion");
  assert.deepEqual(await c2.request("ledger_getRoot", { pulse: head }), status.root);
  assert.equal((await c2.request("node_status")).pulse, head + 1);
  assert.equal((await c2.request("org_info")).head, head + 1);
});
