/**
 * The process side of a local devnet (`leither devnet`, bench/devnet.ts): `leither start` children
 * on loopback, one data dir each under a root folder, their logs in <dir>/node.log; waiting for each
 * to answer; the founder, joiners that find it through the DHT, funding; and stopping them all.
 * Every child spawned is tracked, so that stopAll() leaves none behind, even after a failed set-up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TxStatusJson } from "../rpc/api.js";
import { LeitherClient, RpcCallError } from "../rpc/client.js";
import { RpcErrorCode } from "../rpc/errors.js";
import { CliError } from "./errors.js";

/** The CLI entry file: the children run the very `leither` this module belongs to. */
const CLI = fileURLToPath(new URL("./main.js", import.meta.url));

/** How a child ended. */
export interface NodeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One `leither start` child. */
export interface DevnetNode {
  readonly index: number;
  readonly dir: string;
  /** Its standard output and error (the daemon's log lines). */
  readonly logPath: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<NodeExit>;
  /** Set once it answers (ready()). */
  client?: LeitherClient;
  /** Its node account, once it answers. */
  account?: string;
}

/** What a node is spawned with. */
export interface SpawnOptions {
  /** Found an organization at start (node 0); else `--no-found`. */
  readonly found: boolean;
  /** A multiaddr with /p2p/ to dial at start. */
  readonly bootstrap?: string;
}

/** A failure of one node during set-up, as one line (exit 1). */
export function nodeError(n: DevnetNode, what: string, err?: unknown): CliError {
  const why = err === undefined ? "" : `: ${(err as Error).message ?? String(err)}`;
  return new CliError(`node ${n.index}: ${what}${why} (log: ${n.logPath})`, 1);
}

/** A line describing how a child ended. */
export function exitText(e: NodeExit): string {
  return e.signal !== null ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** Sleeps `ms`, or rejects at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(t);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/** Resolves with `p`, or rejects with the abort reason as soon as `signal` aborts (`p` runs on, its failure ignored). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** The children of one devnet, under one root folder. */
export class DevnetNodes {
  readonly nodes: DevnetNode[] = [];
  /** Called when any child exits, expected or not. */
  onExit: ((n: DevnetNode, e: NodeExit) => void) | undefined;
  /** Set by stopAll(): a set-up still running in the background may not spawn any more. */
  private closed = false;

  constructor(
    readonly root: string,
    readonly pulseMs: number,
    /** The daemons' log level. */
    readonly logLevel = "warn",
  ) {}

  /** True while the child has not exited. */
  static alive(n: DevnetNode): boolean {
    return n.child.exitCode === null && n.child.signalCode === null;
  }

  /** Spawns node `index` on <root>/node-<index> (loopback only: RPC on 127.0.0.1, p2p on a free port). */
  spawn(index: number, o: SpawnOptions): DevnetNode {
    if (this.closed) throw new CliError("the devnet is stopping", 1);
    const dir = join(this.root, `node-${index}`);
    mkdirSync(dir, { recursive: true });
    const logPath = join(dir, "node.log");
    const args = [CLI, "start", "--data-dir", dir, "--rpc-port", "0", "--listen", "/ip4/127.0.0.1/tcp/0"];
    args.push("--pulse-ms", String(this.pulseMs), "--log-level", this.logLevel);
    args.push(...(o.found ? ["--auto-approve", "member"] : ["--no-found"]));
    if (o.bootstrap !== undefined) args.push("--bootstrap", o.bootstrap);
    // The caller's LEITHER_* variables (a port, a home) must not change a devnet node's configuration.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEITHER_")));
    const fd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { stdio: ["ignore", fd, fd], env });
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(fd);
    }
    const exited = new Promise<NodeExit>((resolve) => {
      child.once("error", () => resolve({ code: null, signal: null }));
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    const n: DevnetNode = { index, dir, logPath, child, exited };
    void exited.then((e) => this.onExit?.(n, e));
    this.nodes.push(n);
    return n;
  }

  /**
   * Waits until the node has written its rpc.json (with its own pid: a stale one names another)
   * and answers node_status; with `founded`, until it has its organization's first pulse too.
   * Fails with one line if the child exits, `signal` aborts or `timeoutMs` passes.
   */
  async ready(
    n: DevnetNode,
    o: { founded: boolean; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<LeitherClient> {
    const deadline = Date.now() + (o.timeoutMs ?? 30_000);
    let last = "no rpc.json yet";
    while (Date.now() < deadline) {
      if (!DevnetNodes.alive(n))
        throw nodeError(n, `exited before it was ready (${exitText(await n.exited)})`);
      try {
        const doc = JSON.parse(readFileSync(join(n.dir, "rpc.json"), "utf8")) as { pid?: number };
        if (doc.pid === n.child.pid) {
          const client = n.client ?? (await LeitherClient.fromDataDir(n.dir, { timeoutMs: 10_000 }));
          const s = await client.request("node_status");
          n.client = client;
          n.account = s.account;
          if (!o.founded || s.pulse !== null) return client;
          last = "no pulse yet";
        }
      } catch (err) {
        last = (err as Error).message;
      }
      await pause(100, o.signal);
    }
    throw nodeError(n, `not ready within ${o.timeoutMs ?? 30_000} ms (${last})`);
  }

  /** Starts node 0: it founds the organization and approves applicants as members. */
  async startFounder(signal?: AbortSignal): Promise<{ node: DevnetNode; org: string; addr: string }> {
    const node = this.spawn(0, { found: true });
    const client = await this.ready(node, { founded: true, ...(signal ? { signal } : {}) });
    const s = await client.request("node_status");
    const info = await client.request("net_info");
    // Joiners dial it on loopback; the address must name the peer (/p2p/) for --bootstrap.
    const addr = info.addrs.find((a) => a.startsWith("/ip4/127.0.0.1/") && a.includes("/p2p/"));
    if (s.org === null || addr === undefined)
      throw nodeError(node, `has no organization or no loopback address (${info.addrs.join(", ")})`);
    return { node, org: s.org, addr };
  }

  /** Starts node `index` with no organization of its own, knowing only `bootstrap`; waits until it answers. */
  async startJoiner(index: number, bootstrap: string, signal?: AbortSignal): Promise<DevnetNode> {
    const node = this.spawn(index, { found: false, bootstrap });
    await this.ready(node, { founded: false, ...(signal ? { signal } : {}) });
    return node;
  }

  /**
   * Applies to join `org` from node `n` and waits (at most `timeoutMs`) until its account has the
   * role member (node 0 approves by policy). A failed application is retried: right after start
   * the node may not have found the organization in the DHT yet.
   */
  async join(
    n: DevnetNode,
    org: string,
    o: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const client = n.client!;
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    let applied = false;
    let last = "";
    while (Date.now() < deadline) {
      if (!DevnetNodes.alive(n)) throw nodeError(n, `exited while joining (${exitText(await n.exited)})`);
      try {
        if (!applied) {
          const r = await client.request("org_join", { org });
          // Rejected (e.g. a retried application the first one made redundant): the role decides.
          if (r.application.state === "rejected") last = `application rejected: ${r.application.reason}`;
          applied = true;
        }
        const a = await client.request("ledger_getAccount", {});
        if (a.role === "member") return;
        last = `role ${a.role}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await pause(250, o.signal);
    }
    throw nodeError(n, `not a member within ${o.timeoutMs ?? 60_000} ms (${last})`);
  }

  /**
   * Pays `amount` from node `from`'s account to node `to`'s and waits for the verdict; resolves when
   * accepted and the payee's node sees the new amount, else fails with one line. Call it for one
   * payee at a time: the fallback below submits a transaction whose nonce the payer's node does not
   * reserve. Resolves with true if the payee's node had to countersign over RPC.
   */
  async fund(from: DevnetNode, to: DevnetNode, amount: bigint, signal?: AbortSignal): Promise<boolean> {
    let s: TxStatusJson;
    let viaRpc = false;
    try {
      s = await from.client!.request("tx_transfer", { to: to.account!, amount, wait: true });
    } catch (err) {
      // The payer's node could not reach the payee's over the DHT (a member just approved may not be
      // findable yet): have the payee's node countersign over RPC instead, as the error suggests.
      const tx = (err as RpcCallError).data as { tx?: unknown } | undefined;
      if (
        !(err instanceof RpcCallError && err.code === RpcErrorCode.PAYEE_SIGNATURE) ||
        typeof tx?.tx !== "string"
      )
        throw nodeError(from, `could not fund node ${to.index}`, err);
      try {
        viaRpc = true;
        const signed = await to.client!.request("tx_sign", { tx: tx.tx });
        s = await from.client!.request("tx_submit", { tx: signed.tx, wait: true });
      } catch (err2) {
        throw nodeError(from, `could not fund node ${to.index} (countersigned over RPC)`, err2);
      }
    }
    if (s.state !== "accepted")
      throw nodeError(from, `funding node ${to.index}: ${s.state}${s.reason ? ` (${s.reason})` : ""}`);
    // The payee's node learns the pulse from gossip; wait until its own view shows the tokens.
    for (let i = 0; i < 100; i++) {
      const a = await to.client!.request("ledger_getAccount", {}).catch(() => undefined);
      if (a !== undefined && BigInt(a.amount) >= amount) break;
      await pause(100, signal);
    }
    return viaRpc;
  }

  /**
   * Stops every child still running: SIGTERM to all at once, SIGKILL to any still running after
   * `graceMs`; resolves when all have exited. Safe to call twice.
   */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.closed = true;
    const running = this.nodes.filter(DevnetNodes.alive);
    for (const n of running) n.child.kill("SIGTERM");
    await Promise.all(
      running.map(async (n) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), graceMs);
        });
        if ((await Promise.race([n.exited, late])) === "late") {
          n.child.kill("SIGKILL");
          await n.exited;
        }
        clearTimeout(timer);
      }),
    );
  }

  /** SIGKILLs every child still running, without waiting (the last resort, e.g. a second Ctrl-C). */
  killAll(): void {
    for (const n of this.nodes.filter(DevnetNodes.alive)) n.child.kill("SIGKILL");
  }
}

/** A one-line reason of a failed RPC call, for counters and the live view. */
export function callErrorText(err: unknown): string {
  if (err instanceof RpcCallError) return err.code === 0 ? err.message : `${err.code}: ${err.message}`;
  return (err as Error).message ?? String(err);
}
