/**
 * `npm run bench:finality` (issue 7): submission-to-final latency on a committee of 4 bookkeepers,
 * each a `leither start` process on loopback, as test/committee-devnet.test.ts starts them: ids from
 * `leither init --json`, the founder (`--no-found --auto-approve member`) names the four at genesis
 * with org_create, the three others replay it (`--no-found --bootstrap <founder> --keep <org>`).
 *
 * The load: real transfers that need no countersignature. Before the clock, K payers (BENCH_RATE x
 * 2 s of load, so a payer's next transfer comes 2 s after its last) apply, set their policy to
 * AcceptAll, are approved as members by the founder (a bookkeeper takes only about 10 outsiders'
 * transactions a second from gossip) and paid by the founder's account; then payer i pays payer
 * i + 1 one token, nonce after nonce. Everything is signed before the clock starts.
 *
 * BENCH_RATE (default 1000) transactions a second for BENCH_SECONDS (default 20), each payer's
 * always to the same bookkeeper (k mod 4), as JSON-RPC batches of tx_submit without wait every
 * 20 ms. A transaction's latency runs from just before its batch is posted to the tx.verdict event
 * of the node it was sent to (GET /events), which a bookkeeper emits when the pulse holding it is
 * final (committee certificate); in pulses: ms / the pulse period (BENCH_PULSE_MS, default 1000).
 * Counted: accepted, rejected, lost (no verdict within DRAIN after the last send), failed calls.
 * p50PulsesAfterWarmup, p99PulsesAfterWarmup: the same, of transactions sent after the first 5 s.
 * txPerSec: accepted transactions per second from the first send to the last final verdict.
 * BENCH_VERBOSE=1 logs each final pulse (bookkeeper 0's). BENCH_CPU_PROF=<dir> runs bookkeeper
 * BENCH_CPU_PROF_NODE (default 0, the chief) with --cpu-prof, its profile written to <dir> at exit.
 * The last line printed is one JSON object of the figures.
 */
import "../src/polyfill.js";
import { execFile, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  callErrorText,
  type DevnetNode,
  DevnetNodes,
  exitText,
  type NodeExit,
  pause,
} from "../src/cli/devnet-nodes.js";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { Policy } from "../src/ledger/account.js";
import { type TxBody, TxKind } from "../src/ledger/tx.js";
import { signTx } from "../src/ledger/tx-codec.js";
import type { LeitherClient } from "../src/rpc/client.js";
import { benchSeed, envInt } from "./common.js";

const BOOKKEEPERS = 4;
const PULSE_MS = envInt("BENCH_PULSE_MS", 1000);
const RATE = envInt("BENCH_RATE", 1000);
const SECONDS = envInt("BENCH_SECONDS", 20);
const LOAD = "transfers";
const PROF_DIR = process.env.BENCH_CPU_PROF;
const PROF_NODE = Number(process.env.BENCH_CPU_PROF_NODE ?? 0);
/** A payer's transfers are this many seconds apart (its nonces never race across a pulse boundary). */
const PAYER_GAP_S = 2;
/** Batches go out every TICK_MS, at most MAX_BATCH calls each (the server's limit is 100). */
const TICK_MS = 20;
const MAX_BATCH = 100;
/** How long after the last send verdicts are waited for. */
const DRAIN_MS = Math.max(30_000, 20 * PULSE_MS);
const EXPIRY = 1_000_000;
/** Transactions sent in the first WARMUP_MS are left out of the ...AfterWarmup quantiles. */
const WARMUP_MS = 5000;
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const started = performance.now();
const log = (s: string) =>
  process.stderr.write(`[finality ${((performance.now() - started) / 1000).toFixed(1)}s] ${s}\n`);
const run = promisify(execFile);

/** One transaction of the load. */
interface Item {
  readonly hex: string;
  readonly id: string;
  /** The bookkeeper it is sent to. */
  readonly node: number;
  at?: number;
  /** When the node it was sent to emitted its verdict. */
  doneAt?: number;
  state?: "accepted" | "rejected";
  reason?: string;
  failed?: string;
}

const signed = (body: TxBody, who: Signer) => {
  const s = signTx(body, [who]);
  return { hex: s.bytes.toString("hex"), id: s.tx.id.toString("hex") };
};

/** `leither init --json` on `dir`: the node's account id. */
async function init(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run(process.execPath, [CLI, "init", "--data-dir", dir, "--json"]);
  return (JSON.parse(stdout) as { account: string }).account;
}

/** Spawns `leither start` on `dir` with `args`, tracked by `net` (stopAll, killAll, ready). */
function spawnNode(net: DevnetNodes, index: number, dir: string, args: string[]): DevnetNode {
  const logPath = join(dir, "node.log");
  const nodeArgs =
    PROF_DIR !== undefined && index === PROF_NODE ? ["--cpu-prof", "--cpu-prof-dir", resolve(PROF_DIR)] : [];
  const all = [
    ...nodeArgs,
    CLI,
    "start",
    "--data-dir",
    dir,
    "--rpc-port",
    "0",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--pulse-ms",
    String(PULSE_MS),
    "--log-level",
    "warn",
    ...args,
  ];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEITHER_")));
  const fd = openSync(logPath, "a");
  const child = (() => {
    try {
      return spawn(process.execPath, all, { stdio: ["ignore", fd, fd], env });
    } finally {
      closeSync(fd);
    }
  })();
  const exited = new Promise<NodeExit>((res) => {
    child.once("error", () => res({ code: null, signal: null }));
    child.once("exit", (code, signal) => res({ code, signal }));
  });
  const n: DevnetNode = { index, dir, logPath, child, exited };
  void exited.then((e) => net.onExit?.(n, e));
  net.nodes.push(n);
  return n;
}

const head = async (c: LeitherClient) => (await c.request("pulse_current")).pulse ?? -1;

async function waitUntil(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  let last = "";
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (err) {
      last = `: ${callErrorText(err)}`;
    }
    await pause(100);
  }
  throw new Error(`timed out waiting for ${what}${last}`);
}

/** The four bookkeepers, the founder (the chief, first in the committee) first. */
async function committee(net: DevnetNodes): Promise<{ clients: LeitherClient[]; org: string }> {
  const dirs = Array.from({ length: BOOKKEEPERS }, (_, i) => join(net.root, `node-${i}`));
  const ids = await Promise.all(dirs.map(init));
  const founder = spawnNode(net, 0, dirs[0]!, ["--no-found", "--auto-approve", "member"]);
  const c0 = await net.ready(founder, { founded: false });
  await c0.request("org_create", {
    name: "finality bench",
    committee: ids,
    supply: 10n ** 15n,
    founderAmount: 10n ** 14n,
  });
  await waitUntil("the genesis", 20_000, async () => (await head(c0)) >= 0);
  const org = (await c0.request("node_info")).org;
  const addrs = (await c0.request("net_info")).addrs;
  const bootstrap = addrs.find((a) => a.startsWith("/ip4/127.0.0.1/") && a.includes("/p2p/"));
  if (org === null || bootstrap === undefined) throw new Error("the founder has no organization or address");
  const clients = [c0];
  for (let i = 1; i < BOOKKEEPERS; i++) {
    const n = spawnNode(net, i, dirs[i]!, ["--no-found", "--bootstrap", bootstrap, "--keep", org]);
    clients.push(await net.ready(n, { founded: false }));
  }
  for (const [i, c] of clients.entries())
    await waitUntil(`bookkeeper ${i} replays the genesis`, 60_000, async () => (await head(c)) >= 0);
  return { clients, org };
}

/** Waits (at most 2 minutes) until `c` reports every one of `ids` accepted (tx_status); fails on a rejection. */
async function waitAccepted(c: LeitherClient, ids: readonly string[], what: string): Promise<void> {
  const end = Date.now() + 120_000;
  let done = 0;
  while (done < ids.length) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${done} of ${ids.length})`);
    const chunk = ids.slice(done, done + MAX_BATCH);
    const r = await c.batch(chunk.map((txId) => ({ method: "tx_status", params: { txId } })));
    let k = 0;
    for (const x of r) {
      const st = (x as { state?: string }).state;
      if (x instanceof Error || st === "pending" || st === "unknown") break;
      if (st !== "accepted") throw new Error(`${what}: ${JSON.stringify(x)}`);
      k++;
    }
    done += k;
    if (k < chunk.length) await pause(200);
  }
}

/** Runs `calls` on `c` in batches of MAX_BATCH, `parallel` batches at a time; the results in order. */
async function batches(
  c: LeitherClient,
  calls: { method: string; params: unknown }[],
  parallel: number,
  what: string,
): Promise<unknown[]> {
  const out: unknown[] = new Array(calls.length);
  let next = 0;
  const worker = async () => {
    for (let k = next; k < calls.length; k = next) {
      next += MAX_BATCH;
      const chunk = calls.slice(k, k + MAX_BATCH);
      // A kept-alive connection the server closed while idle fails once: the set-up sends again.
      const r = await c.batch(chunk).catch(() => c.batch(chunk));
      for (const [j, x] of r.entries()) {
        if (x instanceof Error || (x as { state?: string }).state === "rejected")
          throw new Error(`${what}: ${x instanceof Error ? callErrorText(x) : JSON.stringify(x)}`);
        out[k + j] = x;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/**
 * The payers, set up on the founder's node (the chief): each applies and sets its policy to
 * AcceptAll, the founder approves it as a member (a bookkeeper takes only a few outsiders'
 * transactions a second from gossip: the load must be members') and pays it; then the load,
 * signed: payer i pays payer i + 1 one token, nonce after nonce, always through bookkeeper i mod 4.
 */
async function transfers(clients: LeitherClient[], org: Buffer, total: number): Promise<Item[]> {
  const c0 = clients[0]!;
  const k = Math.max(2, Math.min(total, RATE * PAYER_GAP_S));
  const per = Math.ceil(total / k);
  log(`making ${k} payer keys; signing their set-up and ${total} transfers (not timed)`);
  const payers = Array.from({ length: k }, (_, i) => new Signer(generateKeyPair(benchSeed(71, i))));
  const base = { org, expiry: EXPIRY } as const;
  const setup = payers.flatMap((p) => [
    signed({ ...base, kind: TxKind.Apply, actor: p.id, nonce: 1n, note: "bench payer" }, p),
    signed({ ...base, kind: TxKind.SetPolicy, actor: p.id, nonce: 2n, policy: Policy.AcceptAll }, p),
  ]);
  const items: Item[] = [];
  for (let j = 0; j < total; j++) {
    const i = j % k;
    const p = payers[i]!;
    const body = {
      ...base,
      kind: TxKind.Transfer,
      actor: p.id,
      nonce: BigInt(3 + Math.floor(j / k)),
      to: payers[(i + 1) % k]!.id,
      amount: 1n,
    } as const;
    items.push({ ...signed(body, p), node: i % BOOKKEEPERS });
  }
  const t = performance.now();
  const submit = (x: { hex: string }) => ({ method: "tx_submit", params: { tx: x.hex } });
  const applied = setup.filter((_, j) => j % 2 === 0);
  await batches(c0, applied.map(submit), 1, "applications");
  await waitAccepted(
    c0,
    applied.map((x) => x.id),
    "the payers' applications",
  );
  log(`${k} payers applied; they set their policy to AcceptAll, the founder approves them as members`);
  const member = (p: Signer) => ({
    method: "org_approve",
    params: { account: p.id.toString("hex"), role: "member" },
  });
  const policies = setup.filter((_, j) => j % 2 === 1);
  await batches(c0, policies.map(submit), 1, "policies");
  // Each approval waits for its pulse: many batches at once, so that a pulse holds many.
  await batches(c0, payers.map(member), 2, "approvals");
  await waitAccepted(
    c0,
    policies.map((x) => x.id),
    "the payers' policies",
  );
  log(`the founder pays each payer ${per + 10} tokens`);
  const pay = (p: Signer) => ({
    method: "tx_transfer",
    params: { to: p.id.toString("hex"), amount: String(per + 10) },
  });
  const funding = (await batches(c0, payers.map(pay), 1, "funding")) as { txId: string }[];
  await waitAccepted(
    c0,
    funding.map((x) => x.txId),
    "the payers' funding",
  );
  // Every bookkeeper must have the funded members before the clock starts.
  const h = await head(c0);
  for (const c of clients)
    await waitUntil("every bookkeeper at the funding pulse", 90_000, async () => (await head(c)) >= h);
  log(`set-up took ${Math.round((performance.now() - t) / 1000)} s`);
  return items;
}

/** Follows node `b`'s tx.verdict events into `byId` until `signal` aborts. */
async function follow(
  c: LeitherClient,
  b: number,
  byId: Map<string, Item>,
  anywhere: Map<string, { state: string; reason?: string }>,
  pulses: { at: number; pulse: number; accepted: number }[] | undefined,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const e of c.events(pulses === undefined ? ["tx"] : ["tx", "pulse"], signal)) {
      const now = performance.now();
      if (e.event === "pulse.final") {
        const d = e.data as { pulse: number; accepted: number };
        pulses!.push({ at: now, pulse: d.pulse, accepted: d.accepted });
        if (process.env.BENCH_VERBOSE) log(`pulse ${d.pulse} final: ${d.accepted} accepted`);
        continue;
      }
      const v = e.data as { txId: string; state: "accepted" | "rejected"; reason?: string };
      anywhere.set(v.txId, v);
      const it = byId.get(v.txId);
      if (it === undefined || it.node !== b || it.doneAt !== undefined) continue;
      it.doneAt = now;
      it.state = v.state;
      if (v.reason !== undefined) it.reason = v.reason;
    }
  } catch (err) {
    if (!signal.aborted) log(`bookkeeper ${b}'s event stream ended: ${callErrorText(err)}`);
  }
}

/** Sends `items` at RATE/s, each to its bookkeeper; resolves when every call is answered. */
async function load(clients: LeitherClient[], items: Item[]): Promise<{ t0: number; sendMs: number }> {
  const calls: Promise<void>[] = [];
  let sent = 0;
  const t0 = performance.now();
  while (sent < items.length) {
    const due = Math.min(items.length, Math.floor(((performance.now() - t0) * RATE) / 1000));
    const per: Item[][] = clients.map(() => []);
    for (; sent < due; sent++) per[items[sent]!.node]!.push(items[sent]!);
    for (const [b, list] of per.entries())
      for (let k = 0; k < list.length; k += MAX_BATCH) {
        const chunk = list.slice(k, k + MAX_BATCH);
        const at = performance.now();
        for (const it of chunk) it.at = at;
        calls.push(
          clients[b]!.batch(chunk.map((it) => ({ method: "tx_submit", params: { tx: it.hex } }))).then(
            (r) => {
              for (const [j, x] of r.entries()) {
                const it = chunk[j]!;
                if (x instanceof Error) it.failed = callErrorText(x);
                else if ((x as { state: string }).state === "rejected" && it.state === undefined) {
                  it.state = "rejected";
                  it.reason = (x as { reason?: string }).reason ?? "?";
                  it.doneAt = performance.now();
                }
              }
            },
            (err) => {
              for (const it of chunk) it.failed = callErrorText(err);
            },
          ),
        );
      }
    await pause(TICK_MS);
  }
  const sendMs = performance.now() - t0;
  await Promise.all(calls);
  return { t0, sendMs };
}

/** The value at quantile `q` (nearest rank) of sorted `xs`. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const root = mkdtempSync(join(tmpdir(), "leither-bench-finality-"));
const net = new DevnetNodes(root, PULSE_MS);
const follows = new AbortController();
let stopping = false;
net.onExit = (n, e) => {
  if (!stopping) log(`bookkeeper ${n.index} exited (${exitText(e)}); its log: ${n.logPath}`);
};
process.on("exit", () => net.killAll());
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    stopping = true;
    net.killAll();
    if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
    process.exit(130);
  });
let failed = false;
try {
  log(`${BOOKKEEPERS} bookkeepers in ${root}, pulse ${PULSE_MS} ms, load ${LOAD}`);
  const { clients, org } = await committee(net);
  log(`committee of ${BOOKKEEPERS} keeps ${org}`);
  const total = RATE * SECONDS;
  const orgId = Buffer.from(org, "hex");
  const items = await transfers(clients, orgId, total);
  const byId = new Map(items.map((it) => [it.id, it]));
  const anywhere = new Map<string, { state: string; reason?: string }>();
  const pulses: { at: number; pulse: number; accepted: number }[] = [];
  for (const [b, c] of clients.entries())
    void follow(c, b, byId, anywhere, b === 0 ? pulses : undefined, follows.signal);
  await pause(1000);
  // Fresh connections for the load (one the server closed while idle would fail a batch).
  await Promise.all(clients.map((c) => head(c)));
  const h0 = await head(clients[0]!);
  log(`sending ${RATE} ${LOAD}/s for ${SECONDS} s over ${BOOKKEEPERS} bookkeepers (from pulse ${h0})`);
  const { t0, sendMs } = await load(clients, items);
  log(`sent ${items.length} in ${Math.round(sendMs)} ms; waiting for verdicts`);
  const drainEnd = performance.now() + DRAIN_MS;
  const open = () => items.some((it) => it.failed === undefined && it.doneAt === undefined);
  while (open() && performance.now() < drainEnd) await pause(200);
  follows.abort();
  const ok = items.filter((it) => it.failed === undefined);
  const accepted = ok.filter((it) => it.state === "accepted");
  const rejected = ok.filter((it) => it.state === "rejected");
  // No verdict from its own bookkeeper: lost, unless another one gave it (counted apart).
  const silent = ok.filter((it) => it.state === undefined);
  const elsewhere = silent.filter((it) => anywhere.has(it.id));
  const lat = accepted.map((it) => it.doneAt! - it.at!).sort((a, b) => a - b);
  // Past the warm-up: the daemons' first loaded pulses are slow (compilation, caches).
  const late = accepted
    .filter((it) => it.at! >= t0 + WARMUP_MS)
    .map((it) => it.doneAt! - it.at!)
    .sort((a, b) => a - b);
  const lastFinal = Math.max(...accepted.map((it) => it.doneAt!));
  const windowMs = (accepted.length > 0 ? lastFinal : performance.now()) - t0;
  const count = (xs: Item[], key: (it: Item) => string | undefined) => {
    const m: Record<string, number> = {};
    for (const it of xs) m[key(it) ?? "?"] = (m[key(it) ?? "?"] ?? 0) + 1;
    return m;
  };
  if (rejected.length > 0) log(`rejected by reason: ${JSON.stringify(count(rejected, (it) => it.reason))}`);
  const failedCalls = items.filter((it) => it.failed !== undefined);
  if (failedCalls.length > 0)
    log(`failed calls: ${JSON.stringify(count(failedCalls, (it) => it.failed?.slice(0, 120)))}`);
  if (elsewhere.length > 0)
    log(
      `${elsewhere.length} had a verdict on another bookkeeper only: ${JSON.stringify(count(elsewhere, (it) => anywhere.get(it.id)?.state))}`,
    );
  const during = pulses.filter((p) => p.at >= t0 && p.at <= t0 + windowMs);
  const busy = during.filter((p) => p.accepted > 0);
  const figures = {
    bench: "finality",
    bookkeepers: BOOKKEEPERS,
    txPerSec: Math.round((accepted.length * 1000) / windowMs),
    p50Pulses: round2(quantile(lat, 0.5) / PULSE_MS),
    p99Pulses: round2(quantile(lat, 0.99) / PULSE_MS),
    load: LOAD,
    offeredPerSec: Math.round((items.length * 1000) / sendMs),
    sent: items.length,
    accepted: accepted.length,
    rejected: rejected.length,
    lost: silent.length,
    failedCalls: failedCalls.length,
    p50Ms: Math.round(quantile(lat, 0.5)),
    p99Ms: Math.round(quantile(lat, 0.99)),
    maxMs: Math.round(lat.at(-1) ?? Number.NaN),
    p50PulsesAfterWarmup: round2(quantile(late, 0.5) / PULSE_MS),
    p99PulsesAfterWarmup: round2(quantile(late, 0.99) / PULSE_MS),
    warmupS: WARMUP_MS / 1000,
    pulseMs: PULSE_MS,
    durationS: SECONDS,
    windowS: round2(windowMs / 1000),
    pulses: during.length,
    maxTxPerPulse: Math.max(0, ...busy.map((p) => p.accepted)),
    goalP99Pulses: 2,
  };
  console.log(`\n${"figure".padEnd(16)}value`);
  for (const [k, v] of Object.entries(figures)) if (k !== "bench") console.log(`${k.padEnd(16)}${v}`);
  console.log(
    `(latency: from posting a transaction's batch to its verdict on that bookkeeper, final with the committee's certificate; txPerSec: accepted per second from the first send to the last verdict; p99 <= 2 pulses: ${figures.p99Pulses <= 2 ? "reached" : "NOT reached"})`,
  );
  console.log(JSON.stringify(figures));
} catch (err) {
  failed = true;
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  for (const n of net.nodes) {
    try {
      const tail = readFileSync(n.logPath, "utf8").trim().split("\n").slice(-5).join("\n");
      if (tail !== "") log(`bookkeeper ${n.index}'s log ends:\n${tail}`);
    } catch {
      // no log
    }
  }
} finally {
  stopping = true;
  follows.abort();
  await net.stopAll();
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}
if (failed) process.exit(1);
