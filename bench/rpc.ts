/**
 * `npm run bench:rpc`: the daemon as an operator meets it, measured from outside the process.
 * - firstPulseMs: from spawning `leither start` on a fresh data dir to its first final pulse (the
 *   founding genesis), read off the daemon's own JSON log; `--runs R` starts (default 5), median.
 * - idleRssMb: the daemon's resident memory after `--idle S` seconds idle (default 5), from /proc.
 * - rpcTransfersPerSec: transfers accepted per second over loopback JSON-RPC. `--accounts K`
 *   (default 4000) accounts get tokens at genesis; `--transfers N` (default 60000) transfers, each
 *   signed by payer and payee, are made before the clock starts, then sent by autocannon as JSON-RPC
 *   batches of `--batch B` tx_submit calls (default 100) over `--connections C` (default 8). The
 *   clock runs from the first request to the final pulse holding the last accepted transfer; the
 *   count is the daemon's own accepted counter (GET /metrics).
 * In the same run, the machine's verification limit (bench/common.ts verifyLimit: one core's ed25519
 * verifications/s x cores / 2 signatures a transfer), and the share of it the daemon reached.
 * The last line printed is one JSON object of the figures.
 */
import "../src/polyfill.js";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { TxKind } from "../src/ledger/tx.js";
import { countersign, signTx } from "../src/ledger/tx-codec.js";
import { LeitherClient } from "../src/rpc/client.js";
import { benchSeed, intFlag, parseFlags, verifyLimit } from "./common.js";

const flags = parseFlags(process.argv.slice(2));
const runs = Math.max(1, intFlag(flags, "runs", 5));
const idleS = intFlag(flags, "idle", 5);
const accounts = Math.max(2, intFlag(flags, "accounts", 4000));
const transfers = Math.max(1, intFlag(flags, "transfers", 60_000));
const batch = Math.min(100, Math.max(1, intFlag(flags, "batch", 100)));
const connections = Math.max(1, intFlag(flags, "connections", 8));
const log = (s: string) => process.stderr.write(`[rpc] ${s}\n`);
// An account's next nonce must not overtake its last across a pulse boundary: a round of accounts
// must span many more batches than are in flight at once, or transfers are refused with NONCE.
if (accounts < 4 * batch * connections)
  log(
    `warning: --accounts ${accounts} < 4 x batch x connections: expect NONCE refusals (out-of-order nonces)`,
  );
const MAIN = new URL("../src/cli/main.js", import.meta.url).pathname;
const dirs: string[] = [];

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leither-bench-rpc-"));
  dirs.push(d);
  return d;
}

/** Starts `leither start` with JSON logs on stdout; calls onLine for each parsed line. */
function startDaemon(
  dir: string,
  extra: string[],
  onLine: (l: Record<string, unknown>) => void,
): ChildProcess {
  // BENCH_NODE_ARGS (e.g. "--cpu-prof") go to the daemon's node, for profiling it under load.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const child = spawn(
    process.execPath,
    [...nodeArgs, MAIN, "start", "--data-dir", dir, "--rpc-port", "0", "--no-net", ...extra],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  return child;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await done;
}

/** User + system CPU seconds of a process, all its threads (Linux /proc, 100 ticks a second). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** firstPulseMs of each run, and the idle RSS of the last. */
async function startup(): Promise<{ firstPulse: number[]; idleRssMb: number }> {
  const firstPulse: number[] = [];
  let idleRssMb = Number.NaN;
  for (let r = 0; r < runs; r++) {
    const dir = freshDir();
    let first: number | undefined;
    const t0 = Date.now();
    const child = startDaemon(dir, ["--log-level", "info"], (l) => {
      if (first === undefined && l.msg === "pulse final") first = Number(l.time);
    });
    try {
      const at = await waitFor("the first pulse", () => first);
      firstPulse.push(at - t0);
      log(`run ${r + 1}/${runs}: first pulse ${at - t0} ms after spawn`);
      if (r === runs - 1) {
        await new Promise((res) => setTimeout(res, idleS * 1000));
        idleRssMb = rssMb(child.pid!);
        log(`idle RSS after ${idleS} s: ${idleRssMb.toFixed(1)} MB`);
      }
    } finally {
      await stopDaemon(child);
    }
  }
  return { firstPulse, idleRssMb };
}

/** Signed transfers, round by round (nonce r + 1 in round r), so an account's nonces arrive in order. */
function makeLoad(orgKey: Signer, users: Signer[]): string[] {
  const bodies: string[] = [];
  let calls: string[] = [];
  let id = 1;
  for (let k = 0; k < transfers; k++) {
    const round = Math.floor(k / users.length);
    const i = k % users.length;
    const payer = users[i]!;
    const payee = users[(i + 1 + (round % (users.length - 1))) % users.length]!;
    const body = {
      kind: TxKind.Transfer,
      org: orgKey.id,
      actor: payer.id,
      nonce: BigInt(round + 1),
      expiry: 1_000_000,
      to: payee.id,
      amount: 1n,
    } as const;
    const tx = countersign(signTx(body, [payer]).bytes, payee).toString("hex");
    calls.push(`{"jsonrpc":"2.0","id":${id++},"method":"tx_submit","params":{"tx":"${tx}"}}`);
    if (calls.length === batch) {
      bodies.push(`[${calls.join(",")}]`);
      calls = [];
    }
  }
  if (calls.length > 0) bodies.push(`[${calls.join(",")}]`);
  return bodies;
}

async function accepted(
  client: LeitherClient,
): Promise<{ accepted: number; rejected: Record<string, number> }> {
  const get = () =>
    fetch(new URL("metrics", client.url), { headers: { authorization: `Bearer ${tokenOf(client)}` } });
  // A kept-alive connection the server closed while idle fails once; a GET is safe to repeat.
  const res = await get().catch(get);
  const text = await res.text();
  let ok = 0;
  const rejected: Record<string, number> = {};
  for (const m of text.matchAll(/^leither_transactions_total\{result="(\w+)",reason="(\w*)"\} (\d+)/gm)) {
    if (m[1] === "accepted") ok += Number(m[3]);
    else rejected[m[2]!] = Number(m[3]);
  }
  return { accepted: ok, rejected };
}

let cookie = "";
const tokenOf = (_c: LeitherClient) => cookie;

async function load(): Promise<{
  perSec: number;
  accepted: number;
  sent: number;
  ms: number;
  daemonCores: number;
}> {
  const dir = freshDir();
  const child = startDaemon(dir, ["--log-level", "warn", "--no-found"], () => undefined);
  try {
    const client = await waitFor("the RPC server", () => LeitherClient.fromDataDir(dir));
    cookie = readFileSync(join(dir, "rpc.cookie"), "utf8").trim();
    const status = await waitFor("node_status", () => client.request("node_status"));
    const orgKey = new Signer(generateKeyPair(benchSeed(7, 0)));
    log(`signing ${transfers} transfers of ${accounts} accounts (payer and payee; not timed)`);
    const users = Array.from({ length: accounts }, (_, i) => new Signer(generateKeyPair(benchSeed(8, i))));
    const params = {
      name: "bench",
      supervisor: users[0]!.id,
      pulsePeriodMs: 1000,
      electionCycle: 1800,
      publicityPeriod: 86_400,
      committeeSize: 1,
      minDeposit: 1000n,
      supply: 1_000_000n * BigInt(accounts),
      distribution: users.map((u) => ({ to: u.id, amount: 1_000_000n, reason: "bench" })),
      // This node is the organization's committee of one: it finalizes every pulse alone.
      committee: [Buffer.from(status.account, "hex")],
    };
    const genesis = signTx({ kind: TxKind.Genesis, org: orgKey.id, params }, [orgKey]).bytes;
    const g = await client.request("tx_submit", { tx: genesis.toString("hex"), wait: true });
    if (g.state !== "accepted") throw new Error(`genesis: ${JSON.stringify(g)}`);
    const bodies = makeLoad(orgKey, users);
    const base = (await accepted(client)).accepted;
    // Pulse ends, timed from here on.
    const finals: { at: number; accepted: number }[] = [];
    const ac = new AbortController();
    const following = (async () => {
      for await (const e of client.events(["pulse"], ac.signal)) {
        const d = e.data as { accepted: number };
        finals.push({ at: performance.now(), accepted: d.accepted });
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    let next = 0;
    log(`sending ${bodies.length} batches of ${batch} over ${connections} connections`);
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    const result = await autocannon({
      url: client.url,
      connections,
      amount: bodies.length,
      headers: { "content-type": "application/json", authorization: `Bearer ${cookie}` },
      requests: [
        {
          method: "POST",
          setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length]! }),
        },
      ],
    });
    const sentMs = performance.now() - t0;
    log(`sent in ${Math.round(sentMs)} ms: ${result.non2xx} non-2xx, ${result.errors} errors`);
    await waitFor(
      "the queue to drain",
      async () => ((await client.request("node_health")).pending === 0 ? true : undefined),
      120_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    await following;
    const a = await accepted(client);
    const got = a.accepted - base;
    if (Object.keys(a.rejected).length > 0) log(`rejected: ${JSON.stringify(a.rejected)}`);
    const last = finals.filter((f) => f.accepted > 0).at(-1);
    const ms = (last?.at ?? performance.now()) - t0;
    // CPU the daemon used (every thread) over the load and the drain after it, in cores.
    const cores = (cpuSeconds(child.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    return {
      perSec: Math.round((got * 1000) / ms),
      accepted: got,
      sent: transfers,
      ms: Math.round(ms),
      daemonCores: Math.round(cores * 100) / 100,
    };
  } finally {
    await stopDaemon(child);
  }
}

try {
  const s = await startup();
  const sorted = [...s.firstPulse].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const limit = verifyLimit(2000);
  log(
    `limit: ${limit.perCore} verifications/s on one core x ${limit.cores} / 2 = ${limit.transfersPerSec} transfers/s`,
  );
  const l = await load();
  log(`accepted ${l.accepted} of ${l.sent} transfers in ${l.ms} ms: ${l.perSec}/s`);
  const fig = {
    bench: "rpc",
    idleRssMb: Math.round(s.idleRssMb * 10) / 10,
    firstPulseMs: median,
    firstPulseMaxMs: sorted.at(-1),
    rpcTransfersPerSec: l.perSec,
    accepted: l.accepted,
    sent: l.sent,
    loadMs: l.ms,
    daemonCpuCores: l.daemonCores,
    verifyLimitTransfersPerSec: limit.transfersPerSec,
    limitShare: Math.round((l.perSec / limit.transfersPerSec) * 1000) / 1000,
    goals: { idleRssMb: 80, firstPulseMs: 1500, rpcTransfersPerSec: 5000 },
    runs,
    accounts,
    batch,
    connections,
  };
  console.log(JSON.stringify(fig));
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
