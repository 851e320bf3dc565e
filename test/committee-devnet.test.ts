/**
 * A committee of four bookkeepers as real processes on loopback (issue 7): the founder names the
 * committee at genesis, the three others replay the organization from it (`--keep`) and finalize
 * pulses with it over the consensus topic. Killing the chief, a backup's proposal is final within
 * three periods and nothing final is lost; a byzantine chief (test-only hook) gets no certificate;
 * an equivocating bookkeeper leaves evidence that a fifth node, outside the committee, verifies.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { checkEvidence } from "../src/pulse/votes.js";
import type { LeitherClient } from "../src/rpc/client.js";
import {
  cleanupDaemons,
  type Daemon,
  daemonDir,
  spawnDaemon,
  stopDaemon,
  waitReady,
} from "./helpers/daemon.js";
import { makeSigners, Txs } from "./helpers/ledger-signers.js";
import { until } from "./helpers/until.js";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "src", "cli", "main.js");
const PULSE_MS = 500;

after(cleanupDaemons);

interface Keeper {
  readonly dir: string;
  readonly id: string;
  d: Daemon;
  rpc: LeitherClient;
}

async function init(): Promise<{ dir: string; id: string }> {
  const dir = daemonDir();
  const { stdout } = await run(process.execPath, [cli, "init", "--data-dir", dir, "--json"]);
  return { dir, id: (JSON.parse(stdout) as { account: string }).account };
}

const waitFor = (cond: () => Promise<boolean>, ms: number, what: string) =>
  until(async () => ((await cond()) ? true : undefined), ms, what, 100);

async function head(k: Keeper): Promise<number> {
  return ((await k.rpc.call("pulse_current", {})) as { pulse: number | null }).pulse ?? -1;
}

async function rootAt(k: Keeper, pulse: number): Promise<string> {
  return ((await k.rpc.call("ledger_getRoot", { pulse })) as { hash: string }).hash;
}

/** Starts the founder and three replicas; `env` per index adds test hooks. */
async function committeeOf4(
  env: Record<number, Record<string, string>> = {},
  observer = false,
): Promise<{ keepers: Keeper[]; org: string; bootstrap: string; watcher?: Keeper }> {
  const dirs = await Promise.all([0, 1, 2, 3, 4].map(() => init()));
  const ids = dirs.slice(0, 4).map((x) => x.id);
  const args = (i: number) => ({ pulseMs: PULSE_MS, logLevel: "warn", env: env[i] ?? {} });
  const a = spawnDaemon(dirs[0]!.dir, { ...args(0), args: ["--no-found", "--auto-approve", "member"] });
  const rpcA = await waitReady(a, -1);
  await rpcA.call("org_create", { name: "committee of four", committee: ids });
  await waitFor(async () => (await head({ rpc: rpcA } as Keeper)) >= 0, 10_000, "genesis");
  const org = ((await rpcA.call("node_info", {})) as { org: string }).org;
  const net = (await rpcA.call("net_info", {})) as { addrs: string[] };
  const bootstrap = net.addrs.find((x) => x.startsWith("/ip4/127.0.0.1/") && x.includes("/p2p/"))!;
  const keepers: Keeper[] = [{ ...dirs[0]!, d: a, rpc: rpcA }];
  for (const i of [1, 2, 3]) {
    const d = spawnDaemon(dirs[i]!.dir, {
      ...args(i),
      args: ["--no-found", "--bootstrap", bootstrap, "--keep", org],
    });
    keepers.push({ ...dirs[i]!, d, rpc: await waitReady(d, -1) });
  }
  if (observer) {
    // Final pulses are shown to members and bookkeepers only: the fifth node joins first (approved
    // by the founder's policy), then keeps the books as an observer.
    const w = dirs[4]!;
    let d = spawnDaemon(w.dir, { ...args(4), args: ["--no-found", "--bootstrap", bootstrap] });
    const rpc = await waitReady(d, -1);
    await until(async () => rpc.call("org_join", { org }), 30_000, "the fifth node applies", 500);
    await waitFor(
      async () =>
        ((await rpcA.call("ledger_getAccount", { account: w.id })) as { role: string }).role === "member",
      30_000,
      "the fifth node is a member",
    );
    // Keeping no books, it follows the committee's pulses by their certificates (3 of 4 signers,
    // checked against the genesis committee): its latest pulse and root are the bookkeepers'.
    const founder = { rpc: rpcA } as Keeper;
    const member = { rpc } as Keeper;
    await waitFor(
      async () => {
        const h = await head(founder);
        return (
          h >= 1 && (await head(member)) === h && (await rootAt(member, h)) === (await rootAt(founder, h))
        );
      },
      30_000,
      "the member follows the certified pulses",
    );
    await stopDaemon(d);
    d = spawnDaemon(w.dir, { ...args(4), args: ["--no-found", "--bootstrap", bootstrap, "--keep", org] });
    keepers.push({ ...w, d, rpc: await waitReady(d, -1) });
  }
  for (const k of keepers)
    await waitFor(async () => (await head(k)) >= 0, 30_000, `${k.id.slice(0, 8)} replays the genesis`);
  const watcher = observer ? keepers.pop() : undefined;
  return { keepers, org, bootstrap, ...(watcher === undefined ? {} : { watcher }) };
}

/** Applications of fresh keys: each changes the state (a new leaf), and needs no countersignature. */
function applications(org: string, tag: string, n: number): string[] {
  const txs = new Txs(Buffer.from(org, "hex"));
  return makeSigners(n, tag).map((s) => txs.apply(s, 1).toString("hex"));
}

async function submit(k: Keeper, txs: readonly string[]): Promise<void> {
  for (const tx of txs) await k.rpc.call("tx_submit", { tx });
}

async function sameRoots(keepers: readonly Keeper[], upTo: number): Promise<void> {
  for (let p = 0; p <= upTo; p++) {
    const roots = new Set(await Promise.all(keepers.map((k) => rootAt(k, p))));
    assert.equal(roots.size, 1, `one root at pulse ${p}`);
  }
}

async function certificate(
  k: Keeper,
  pulse: number,
): Promise<{ round: number; signers: string[]; proposer: string }> {
  const c = (await k.rpc.call("pulse_certificate", { pulse })) as {
    round: number;
    signers: string[];
    proposer: string;
  } | null;
  assert.ok(c !== null, `pulse ${pulse} has a certificate`);
  return c;
}

test("four bookkeepers: pulses final with certificates; the chief killed, a backup finalizes within 3 periods", async () => {
  const { keepers, org } = await committeeOf4();
  const [chief, b1, b2, b3] = keepers as [Keeper, Keeper, Keeper, Keeper];
  // Submitted to a backup: relayed, proposed by the chief, final everywhere.
  await submit(b1, applications(org, "first", 5));
  await waitFor(
    async () => (await Promise.all(keepers.map(head))).every((h) => h >= 1),
    20_000,
    "pulse 1 everywhere",
  );
  const c1 = await certificate(b2, 1);
  assert.ok(c1.signers.length >= 3);
  assert.equal(c1.proposer, chief.id, "round 0 is the chief's");
  const before = await head(b1);
  await sameRoots(keepers, before);

  await stopDaemon(chief.d, "SIGKILL");
  const t0 = Date.now();
  await submit(b2, applications(org, "after-chief", 3));
  const rest = [b1, b2, b3];
  await waitFor(
    async () => (await Promise.all(rest.map(head))).every((h) => h > before),
    15_000,
    "a pulse without the chief",
  );
  const ms = Date.now() - t0;
  assert.ok(
    ms <= 3 * PULSE_MS + 2 * PULSE_MS,
    `final ${ms} ms after submission (3 periods + the slot it waited for)`,
  );
  const c = await certificate(b3, before + 1);
  assert.ok(c.round >= 1);
  assert.notEqual(c.proposer, chief.id);
  await sameRoots(rest, before + 1);

  // Back, the chief replays what it missed, and what it had is unchanged.
  const via = ((await b1.rpc.call("net_info", {})) as { addrs: string[] }).addrs.find(
    (x) => x.startsWith("/ip4/127.0.0.1/") && x.includes("/p2p/"),
  )!;
  chief.d = spawnDaemon(chief.dir, { pulseMs: PULSE_MS, args: ["--no-found", "--bootstrap", via] });
  chief.rpc = await waitReady(chief.d, -1);
  await submit(b1, applications(org, "chief-back", 2));
  const target = (await head(b1)) + 0;
  await waitFor(async () => (await head(chief)) >= target, 30_000, "the chief catches up");
  await sameRoots(keepers, target);
});

test("a byzantine chief's proposals get no certificate; the pulse is a backup's", async () => {
  const { keepers, org } = await committeeOf4({ 0: { LEITHER_TEST_BYZANTINE: "wrong-root" } });
  const [chief, b1] = keepers as [Keeper, Keeper];
  await submit(b1, applications(org, "byz", 3));
  const honest = keepers.slice(1);
  await waitFor(async () => (await Promise.all(honest.map(head))).every((h) => h >= 1), 20_000, "pulse 1");
  const c = await certificate(b1, 1);
  assert.ok(c.round >= 1, "round 0 (the byzantine chief's) is not final");
  assert.notEqual(c.proposer, chief.id);
  await sameRoots(honest, 1);
});

test("an equivocating bookkeeper leaves evidence that a fifth node verifies", async () => {
  const { keepers, org, watcher } = await committeeOf4({ 1: { LEITHER_TEST_BYZANTINE: "equivocate" } }, true);
  await submit(keepers[2]!, applications(org, "eq", 3));
  const w = watcher!;
  const got = await until(
    async () => {
      const r = (await w.rpc.call("committee_evidence", {})) as {
        evidence: { bytes: string; signer: string }[];
      };
      if (r.evidence.length > 0) return r.evidence;
      // More pulses: evidence is gossiped again with each, for a node that joined the mesh late.
      await submit(keepers[3]!, applications(org, `eq-more-${Date.now()}`, 1));
      return undefined;
    },
    30_000,
    "evidence at the fifth node",
    500,
  );
  // Checked here too, from the bytes alone: two votes of one signer for one slot.
  const e = checkEvidence(Buffer.from(got[0]!.bytes, "hex"));
  assert.equal(e.signer.toString("hex"), keepers[1]!.id);
  assert.equal(got[0]!.signer, keepers[1]!.id);
});
