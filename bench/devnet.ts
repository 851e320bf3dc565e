/**
 * `npm run bench:devnet`: five `leither start` processes on loopback (src/cli/devnet-nodes.ts), as
 * a small organization meets the network.
 * - discoveryMs: how long a freshly started node that knows one bootstrap peer (node 0) takes to find
 *   the organization through the DHT: from just before its first org_info {id} to the answer
 *   (retried while it is not found yet), for each of the 4 joiners before it joins; the median.
 * - p50ReceiptMs, p99ReceiptMs: member-to-member transfers at BENCH_RATE per second (default 500)
 *   for BENCH_SECONDS (default 20), spread over the 4 members as payers, each a tx_transfer with
 *   wait:false on the payer's node (which has the payee's node countersign over the network); the
 *   latency runs from sending tx_transfer to the moment the PAYEE's node has the checked receipt
 *   (its tx.verdict event on GET /events, which the node emits once it fetched the receipt). A payer
 *   has at most BENCH_IN_FLIGHT (default 8) calls waiting: past that the generator falls behind
 *   and the achieved rate says so (the node submits a payer's transfers in nonce order).
 * Counted: accepted and rejected (the bookkeeper's verdicts, node 0's event stream), lost (sent but
 * no verdict by the end), failed calls, and accepted transfers whose receipt never reached the
 * payee's node. The last line printed is one JSON object of the figures.
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callErrorText, type DevnetNode, DevnetNodes, pause } from "../src/cli/devnet-nodes.js";
import { envInt } from "./common.js";

const NODES = 5;
const PULSE_MS = 1000;
const SECONDS = envInt("BENCH_SECONDS", 20);
const RATE = envInt("BENCH_RATE", 500);
const IN_FLIGHT = envInt("BENCH_IN_FLIGHT", 8);
/** How long after the last send verdicts and receipts are waited for. */
const DRAIN_MS = 30_000;
const log = (s: string) => process.stderr.write(`[devnet] ${s}\n`);

/** One transfer sent. */
interface Sent {
  readonly at: number;
  /** When tx_transfer answered. */
  answered?: number;
  readonly payee: DevnetNode;
  txId?: string;
  /** The bookkeeper's verdict. */
  verdict?: string;
  reason?: string;
  failed?: string;
}

/** Accepted-verdict times by txId, per node; and the bookkeeper's verdicts. */
const receiptAt = new Map<DevnetNode, Map<string, number>>();
const verdicts = new Map<string, { state: string; reason?: string }>();

/** Follows node `n`'s tx.verdict events until `signal` aborts. */
async function follow(n: DevnetNode, bookkeeper: boolean, signal: AbortSignal): Promise<void> {
  const seen = new Map<string, number>();
  receiptAt.set(n, seen);
  try {
    for await (const e of n.client!.events(["tx"], signal)) {
      const v = e.data as { txId: string; state: string; reason?: string };
      if (bookkeeper) verdicts.set(v.txId, v);
      else if (v.state === "accepted" && !seen.has(v.txId)) seen.set(v.txId, performance.now());
    }
  } catch (err) {
    if (!signal.aborted) log(`node ${n.index}'s event stream ended: ${callErrorText(err)}`);
  }
}

/** The joiners: each started knowing node 0 only, measures discovery, then joins. */
async function joiners(
  net: DevnetNodes,
  org: string,
  addr: string,
): Promise<{ nodes: DevnetNode[]; ms: number[] }> {
  const nodes: DevnetNode[] = [];
  const ms: number[] = [];
  for (let i = 1; i < NODES; i++) {
    const n = await net.startJoiner(i, addr);
    const t0 = performance.now();
    let tries = 0;
    for (;;) {
      tries++;
      try {
        const o = await n.client!.request("org_info", { id: org });
        if (o.id !== org) throw new Error(`org_info answered organization ${o.id}`);
        break;
      } catch (err) {
        // Just started: its routing table may be empty yet. That wait is part of finding the organization.
        if (performance.now() - t0 > 60_000)
          throw new Error(`node ${i} did not find the organization: ${callErrorText(err)}`);
        await pause(100);
      }
    }
    ms.push(performance.now() - t0);
    log(`node ${i}: found the organization in ${Math.round(ms.at(-1)!)} ms (${tries} org_info calls)`);
    await net.join(n, org);
    log(`node ${i}: a member`);
    nodes.push(n);
  }
  return { nodes, ms };
}

/** Sends transfers at RATE/s for SECONDS between `members`; resolves when the last call is answered. */
async function load(members: DevnetNode[]): Promise<{ sent: Sent[]; ms: number }> {
  const sent: Sent[] = [];
  const inFlight = new Map<DevnetNode, number>(members.map((m) => [m, 0]));
  const calls: Promise<void>[] = [];
  let next = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  const send = (payer: DevnetNode) => {
    const others = members.filter((m) => m !== payer);
    const payee = others[sent.length % others.length]!;
    const s: Sent = { at: performance.now(), payee };
    sent.push(s);
    inFlight.set(payer, inFlight.get(payer)! + 1);
    calls.push(
      payer
        .client!.request("tx_transfer", { to: payee.account!, amount: "1" })
        .then(
          (r) => {
            s.txId = r.txId;
            if (r.state === "rejected") {
              s.verdict = "rejected";
              if (r.reason !== undefined) s.reason = r.reason;
            }
          },
          (err) => {
            s.failed = callErrorText(err);
          },
        )
        .finally(() => {
          s.answered = performance.now();
          inFlight.set(payer, inFlight.get(payer)! - 1);
        }),
    );
  };
  while (performance.now() < end) {
    // Transfers due by now at RATE/s; each goes to the next payer with room, in turn.
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - t0) * RATE) / 1000));
    while (sent.length < due) {
      const free = members
        .map((_, k) => members[(next + k) % members.length]!)
        .find((m) => inFlight.get(m)! < IN_FLIGHT);
      if (free === undefined) break;
      next = (members.indexOf(free) + 1) % members.length;
      send(free);
    }
    await pause(5);
  }
  const ms = performance.now() - t0;
  await Promise.all(calls);
  return { sent, ms };
}

/** The value at quantile `q` (nearest rank) of sorted `xs`. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
}

const root = mkdtempSync(join(tmpdir(), "leither-bench-devnet-"));
const net = new DevnetNodes(root, PULSE_MS);
const follows = new AbortController();
process.on("exit", () => net.killAll());
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    net.killAll();
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  });
try {
  log(`${NODES} nodes in ${root}, pulse ${PULSE_MS} ms`);
  const founder = await net.startFounder();
  log(`node 0 founded ${founder.org} at ${founder.addr}`);
  const j = await joiners(net, founder.org, founder.addr);
  const members = j.nodes;
  // Enough for every transfer of the run (1 token each), whoever pays.
  const funds = BigInt(RATE * SECONDS + 1000);
  let viaRpc = 0;
  for (const m of members) if (await net.fund(founder.node, m, funds)) viaRpc++;
  log(
    `funded ${members.length} members with ${funds} tokens each` +
      (viaRpc > 0 ? ` (${viaRpc} countersigned over RPC: node 0 could not reach them through the DHT)` : ""),
  );
  void follow(founder.node, true, follows.signal);
  for (const m of members) void follow(m, false, follows.signal);
  await pause(500);
  log(`sending ${RATE} transfers/s for ${SECONDS} s (at most ${IN_FLIGHT} calls in flight per payer)`);
  const { sent, ms } = await load(members);
  const ok = sent.filter((s) => s.txId !== undefined && s.failed === undefined);
  log(
    `sent ${sent.length} in ${Math.round(ms)} ms; ${sent.length - ok.length} calls failed; waiting for verdicts`,
  );
  const settled = () =>
    ok.every((s) => {
      const v = s.verdict ?? verdicts.get(s.txId!)?.state;
      return v === "rejected" || (v === "accepted" && receiptAt.get(s.payee)!.has(s.txId!));
    });
  const drainEnd = performance.now() + DRAIN_MS;
  while (!settled() && performance.now() < drainEnd) await pause(200);
  follows.abort();
  for (const s of ok) {
    const v = verdicts.get(s.txId!);
    s.verdict ??= v?.state;
    if (v?.reason !== undefined) s.reason = v.reason;
  }
  const accepted = ok.filter((s) => s.verdict === "accepted");
  const rejected = ok.filter((s) => s.verdict === "rejected");
  const lost = ok.length - accepted.length - rejected.length;
  const lat = accepted
    .map((s) => (receiptAt.get(s.payee)!.get(s.txId!) ?? Number.NaN) - s.at)
    .filter((x) => !Number.isNaN(x))
    .sort((a, b) => a - b);
  const count = (xs: Sent[], key: (s: Sent) => string | undefined) => {
    const m: Record<string, number> = {};
    for (const s of xs) m[key(s) ?? "?"] = (m[key(s) ?? "?"] ?? 0) + 1;
    return m;
  };
  const failed = sent.filter((s) => s.failed !== undefined);
  if (rejected.length > 0) log(`rejected by reason: ${JSON.stringify(count(rejected, (s) => s.reason))}`);
  if (failed.length > 0)
    log(`failed calls: ${JSON.stringify(count(failed, (s) => s.failed?.slice(0, 120)))}`);
  const dMs = [...j.ms].sort((a, b) => a - b);
  const callMs = sent.map((s) => s.answered! - s.at).sort((a, b) => a - b);
  const figures = {
    bench: "devnet",
    nodes: NODES,
    discoveryMs: Math.round(quantile(dMs, 0.5)),
    p50ReceiptMs: Math.round(quantile(lat, 0.5)),
    p99ReceiptMs: Math.round(quantile(lat, 0.99)),
    txPerSec: Math.round((ok.length * 1000) / ms),
    acceptedPerSec: Math.round((accepted.length * 1000) / ms),
    targetPerSec: RATE,
    seconds: SECONDS,
    sent: sent.length,
    failedCalls: failed.length,
    accepted: accepted.length,
    rejected: rejected.length,
    lost,
    noReceipt: accepted.length - lat.length,
    maxReceiptMs: Math.round(lat.at(-1) ?? Number.NaN),
    p50CallMs: Math.round(quantile(callMs, 0.5)),
    discoveryMaxMs: Math.round(dMs.at(-1)!),
    inFlightPerPayer: IN_FLIGHT,
    pulseMs: PULSE_MS,
  };
  console.log(`\n${"figure".padEnd(24)}value`);
  for (const [k, v] of Object.entries(figures)) if (k !== "bench") console.log(`${k.padEnd(24)}${v}`);
  console.log(
    "(txPerSec: transfers the payers' nodes took per second; a receipt's latency runs from the call to the payee's node holding it; p50CallMs: tx_transfer's own answer time)",
  );
  console.log(JSON.stringify(figures));
} finally {
  follows.abort();
  await net.stopAll();
  rmSync(root, { recursive: true, force: true });
}
