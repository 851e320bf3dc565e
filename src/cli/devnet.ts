/**
 * `leither devnet --nodes N`: a local network on loopback for trying Leither out. Node 0 founds an
 * organization and keeps its books; the others find it through the DHT, join, and are funded by
 * node 0; then transfers flow between the members at --rate while a live view shows each node's
 * pulse, root and peers. Ctrl-C stops every node and removes the temporary data dirs.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { LeitherApi, TxStatusJson } from "../rpc/api.js";
import { LeitherClient } from "../rpc/client.js";
import {
  callErrorText,
  type DevnetNode,
  DevnetNodes,
  exitText,
  pause,
  unlessAborted,
} from "./devnet-nodes.js";
import { CliError } from "./errors.js";
import { intArg } from "./node-rpc.js";

interface DevnetOpts {
  nodes?: string;
  dir?: string;
  pulseMs?: string;
  rate?: string;
  keep?: boolean;
}

/** Tokens node 0 gives each member before transfers start. */
const FUNDING = 10_000n;
/**
 * Transfers one payer may have waiting for their tx_transfer answer; more are skipped (the view
 * counts them), so a slow machine shows its rate instead of a growing backlog.
 */
const MAX_IN_FLIGHT = 8;
/** The window of the accepted-per-second figure. */
const RATE_WINDOW_MS = 5_000;

/** Registers `devnet`. */
export function registerDevnetCommand(program: Command): void {
  program
    .command("devnet")
    .description("run a local network of N nodes on loopback with transfers between them (Ctrl-C stops it)")
    .option("--nodes <n>", "how many nodes, 2 to 16 (default 5)")
    .option("--dir <dir>", "an empty or new folder for the nodes' data dirs (default: a new temporary one)")
    .option("--pulse-ms <ms>", "pulse period in milliseconds (default 1000)")
    .option("--rate <tx/s>", "transfers per second between the members; 0: none (default 5)")
    .option("--keep", "keep the data dirs at exit (a temporary folder is removed unless a node failed)")
    .action(async (opts: DevnetOpts) => {
      const nodes = intArg(opts.nodes ?? "5", "--nodes", 2, 16);
      const pulseMs = intArg(opts.pulseMs ?? "1000", "--pulse-ms", 100, 3_600_000);
      const rate = Number(opts.rate ?? "5");
      if (!/^[0-9]+(\.[0-9]+)?$/.test(opts.rate ?? "5") || rate > 1000)
        throw new CliError(`--rate must be a number from 0 to 1000, not ${JSON.stringify(opts.rate)}`);
      await devnet({ nodes, pulseMs, rate, keep: opts.keep === true, dir: opts.dir });
    });
}

/** Where the data dirs go: a given folder must be new or empty (a node must start from scratch). */
function rootDir(dir: string | undefined): string {
  if (dir === undefined) return mkdtempSync(join(tmpdir(), "leither-devnet-"));
  const root = resolve(dir);
  try {
    mkdirSync(root, { recursive: true });
    if (readdirSync(root).length > 0) throw new CliError(`--dir ${root} is not empty`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot use --dir ${root}: ${(err as Error).message}`, 1);
  }
  return root;
}

async function devnet(o: { nodes: number; pulseMs: number; rate: number; keep: boolean; dir?: string }) {
  const root = rootDir(o.dir);
  const temp = o.dir === undefined;
  const net = new DevnetNodes(root, o.pulseMs);
  const stop = new AbortController();
  let failure: unknown;
  net.onExit = (n, e) => {
    // A terminal's Ctrl-C reaches the nodes too: give our own handler the moment to say we stop.
    setTimeout(() => {
      if (stop.signal.aborted) return;
      failure = new CliError(
        `node ${n.index} exited unexpectedly (${exitText(e)}); its log: ${n.logPath}`,
        1,
      );
      stop.abort();
    }, 300);
  };
  let signals = 0;
  const onSignal = () => {
    // A second signal does not wait for the nodes to shut down gracefully.
    if (++signals > 1) net.killAll();
    stop.abort();
  };
  // Whatever ends this process (even an uncaught error), no node outlives it.
  const onExit = () => net.killAll();
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal).on("exit", onExit);
  // Output piped into a reader that went away: stop rather than crash with the nodes running.
  process.stdout.on("error", () => stop.abort());
  console.log(`devnet: ${o.nodes} nodes in ${root}${temp && !o.keep ? " (removed at exit)" : ""}`);
  try {
    // Set-up waits on calls that no signal ends: stop as soon as asked, and let them fail on their own.
    const members = await unlessAborted(setUp(net, o.nodes, stop.signal), stop.signal);
    await live(net, members, o, stop.signal);
  } catch (err) {
    if (!stop.signal.aborted) failure = err;
  } finally {
    stop.abort();
    const running = net.nodes.filter(DevnetNodes.alive).length;
    console.log(`stopping ${running} node${running === 1 ? "" : "s"}`);
    await net.stopAll();
    // The stdout listener stays: the lines below may meet the same closed pipe.
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal).off("exit", onExit);
  }
  // After a failure the logs are what explains it: a temporary folder is kept then.
  if (temp && !o.keep && failure === undefined) {
    rmSync(root, { recursive: true, force: true });
    console.log(`stopped; removed ${root}`);
  } else console.log(`stopped; data dirs kept in ${root}`);
  if (failure !== undefined)
    throw failure instanceof CliError ? failure : new CliError(callErrorText(failure), 1);
}

/** Starts node 0, the joiners (a few at a time: two cores do not start sixteen at once), joins, funds. */
async function setUp(net: DevnetNodes, count: number, signal: AbortSignal): Promise<DevnetNode[]> {
  const founder = await net.startFounder(signal);
  console.log(`node 0 founded organization ${founder.org}; it listens at ${founder.addr}`);
  const joiners: DevnetNode[] = [];
  for (let first = 1; first < count; first += 4) {
    const batch = Array.from({ length: Math.min(4, count - first) }, (_, k) => first + k);
    const started = await Promise.all(batch.map((i) => net.startJoiner(i, founder.addr, signal)));
    await Promise.all(started.map((n) => net.join(n, founder.org, { signal })));
    for (const n of started) console.log(`node ${n.index} joined as a member (account ${n.account})`);
    joiners.push(...started);
  }
  for (const n of joiners) await net.fund(founder.node, n, FUNDING, signal);
  console.log(`node 0 gave each member ${FUNDING} tokens`);
  // Node 0 keeps the books; with one joiner only, it takes part in transfers too.
  return joiners.length >= 2 ? joiners : [founder.node, ...joiners];
}

type Status = LeitherApi["node_status"]["result"];

/** What the live view counts. */
interface Counts {
  sent: number;
  accepted: number;
  rejected: number;
  receipts: number;
  errors: number;
  skipped: number;
  lastError?: string;
  lastRejection?: string;
  /** When each recent acceptance was seen (for the per-second figure). */
  acceptedAt: number[];
}

/** Generates transfers, follows the verdicts and shows the view once a second until `signal` aborts. */
async function live(
  net: DevnetNodes,
  members: DevnetNode[],
  o: { rate: number },
  signal: AbortSignal,
): Promise<void> {
  const c: Counts = { sent: 0, accepted: 0, rejected: 0, receipts: 0, errors: 0, skipped: 0, acceptedAt: [] };
  const bookkeeper = net.nodes[0]!;
  // Node 0's verdicts are the organization's; a member's are receipts its node fetched and checked.
  for (const n of net.nodes)
    void follow(n, signal, (v) => {
      if (n === bookkeeper) {
        if (v.state === "accepted") {
          c.accepted++;
          c.acceptedAt.push(Date.now());
        } else if (v.state === "rejected") {
          c.rejected++;
          c.lastRejection = `${v.reason}${v.message === undefined ? "" : `: ${v.message}`}`;
        }
      } else if (v.state === "accepted") c.receipts++;
    });
  // Status calls get a short deadline: a node too busy to answer is shown as such.
  const status = await Promise.all(
    net.nodes.map((n) => LeitherClient.fromDataDir(n.dir, { timeoutMs: 2_000 })),
  );
  const view = new View(process.stdout.isTTY === true);
  const t0 = Date.now();
  const inFlight = new Map<DevnetNode, number>(members.map((m) => [m, 0]));
  let due = 0;
  const send = () => {
    const free = members.filter((m) => inFlight.get(m)! < MAX_IN_FLIGHT);
    const payer = free[Math.floor(Math.random() * free.length)];
    if (payer === undefined || members.length < 2) return void c.skipped++;
    const others = members.filter((m) => m !== payer);
    const payee = others[Math.floor(Math.random() * others.length)]!;
    inFlight.set(payer, inFlight.get(payer)! + 1);
    const amount = String(1 + Math.floor(Math.random() * 9));
    payer
      .client!.request("tx_transfer", { to: payee.account!, amount })
      .then(
        // Its verdict comes on node 0's event stream.
        () => c.sent++,
        (err) => {
          c.errors++;
          c.lastError = `node ${payer.index}: ${callErrorText(err)}`;
        },
      )
      .finally(() => inFlight.set(payer, inFlight.get(payer)! - 1));
  };
  const tick = setInterval(() => {
    // Transfers due since the start at --rate: a slow tick sends the ones it owes at once.
    const target = Math.floor((o.rate * (Date.now() - t0)) / 1000);
    for (; due < target; due++) send();
  }, 50);
  try {
    while (!signal.aborted) {
      const s = await Promise.all(status.map((cl) => cl.request("node_status").catch(() => undefined)));
      const now = Date.now();
      c.acceptedAt = c.acceptedAt.filter((t) => now - t < RATE_WINDOW_MS);
      const perSec = c.acceptedAt.length / (Math.min(RATE_WINDOW_MS, now - t0) / 1000 || 1);
      view.show(lines(net.nodes, s, c, perSec, Math.round((now - t0) / 1000)));
      await pause(1000, signal).catch(() => undefined);
    }
  } finally {
    clearInterval(tick);
  }
}

/** Calls `on` for each verdict on node `n`'s event stream until `signal` aborts or the node goes. */
async function follow(n: DevnetNode, signal: AbortSignal, on: (v: TxStatusJson) => void): Promise<void> {
  try {
    for await (const e of n.client!.events(["tx"], signal)) on(e.data as TxStatusJson);
  } catch {
    // The node stopped: the exit watcher reports it if that was not expected.
  }
}

/** The view's lines: a table of the nodes in a terminal, one summary line otherwise. */
function lines(
  nodes: readonly DevnetNode[],
  s: readonly (Status | undefined)[],
  c: Counts,
  perSec: number,
  secs: number,
): { table: string[]; line: string } {
  const root = (x: Status | undefined) => x?.root?.hash.slice(0, 12) ?? "-";
  const totals =
    `${perSec.toFixed(1)} tx/s accepted (last ${RATE_WINDOW_MS / 1000} s), sent ${c.sent}, ` +
    `accepted ${c.accepted}, rejected ${c.rejected}, receipts ${c.receipts}, errors ${c.errors}` +
    (c.skipped > 0 ? `, skipped ${c.skipped} (payers busy)` : "");
  const table = [
    `after ${secs} s (Ctrl-C stops)`,
    "node  pulse    root          sum                   peers",
    ...nodes.map((n, i) => {
      const x = s[i];
      if (x === undefined) return `${String(n.index).padEnd(6)}(no answer)`;
      return (
        `${String(n.index).padEnd(6)}${String(x.pulse ?? "-").padEnd(9)}${root(x).padEnd(14)}` +
        `${(x.root?.sum ?? "-").padEnd(22)}${x.peers}`
      );
    }),
    totals,
    ...(c.lastRejection === undefined ? [] : [`last rejection: ${c.lastRejection}`]),
    ...(c.lastError === undefined ? [] : [`last error: ${c.lastError}`]),
  ];
  const perNode = s.map((x, i) =>
    x === undefined ? `${i}:-` : `${i}:${x.pulse ?? "-"}/${root(x).slice(0, 8)}/${x.peers}p`,
  );
  const sum = s.find((x) => x?.root !== undefined && x.root !== null)?.root?.sum ?? "-";
  return { table, line: `${secs}s  pulse/root/peers ${perNode.join(" ")}  sum ${sum}  ${totals}` };
}

/** Shows the view: redrawn in place in a terminal, one line a second into a file or a pipe. */
class View {
  private drawn = 0;

  constructor(private readonly tty: boolean) {}

  show(v: { table: string[]; line: string }): void {
    if (!this.tty) {
      process.stdout.write(`${v.line}\n`);
      return;
    }
    // A line wider than the terminal wraps, and the cursor would no longer go back to the top.
    const width = Math.max(20, (process.stdout.columns ?? 80) - 1);
    const out = v.table.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    // Up to the first line of the last drawing, clear to the end of the screen, draw again.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : "";
    process.stdout.write(`${up}${out.join("\n")}\n`);
    this.drawn = out.length;
  }
}
