/**
 * Daemon child processes for the end-to-end tests: `leither start` spawned on a temporary data dir,
 * waited for until it answers, stopped with a signal, and SIGKILLed by `cleanupDaemons()` (call it
 * in an `after` hook) if a test left one running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeEvent } from "../../src/rpc/client.js";
import { LeitherClient } from "../../src/rpc/client.js";

const cli = new URL("../../src/cli/main.js", import.meta.url).pathname;

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned `leither start`. */
export interface Daemon {
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exit: Promise<Exit>;
  /** What it printed so far. */
  readonly out: { stdout: string; stderr: string };
}

/** Options of spawnDaemon. */
export interface DaemonOptions {
  /** @default 0 */
  readonly rpcPort?: number;
  /** @default 200 */
  readonly pulseMs?: number;
  /** @default "warn" */
  readonly logLevel?: string;
  /** More `start` flags (after the defaults, so they win). @default [] */
  readonly args?: readonly string[];
  /** Environment variables set for the daemon (test hooks). @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

const spawned = new Set<Daemon>();
const dirs: string[] = [];

/** A fresh empty data dir, removed by cleanupDaemons(). */
export function daemonDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leither-daemon-"));
  dirs.push(d);
  return d;
}

/** Spawns `leither start` on `dataDir` (loopback only: the RPC server binds 127.0.0.1). */
export function spawnDaemon(dataDir: string, o: DaemonOptions = {}): Daemon {
  // No LEITHER_* variable of the caller's environment may change the daemon's configuration.
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEITHER_"))),
    ...o.env,
  };
  const args = [
    cli,
    "start",
    "--data-dir",
    dataDir,
    "--rpc-port",
    String(o.rpcPort ?? 0),
    "--pulse-ms",
    String(o.pulseMs ?? 200),
    "--log-level",
    o.logLevel ?? "warn",
    // The peer-to-peer network on loopback only, on a free port.
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    ...(o.args ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const out = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    out.stdout += s;
  });
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    out.stderr += s;
  });
  const exit = new Promise<Exit>((resolve) => {
    child.once("error", () => resolve({ code: null, signal: null }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  const d: Daemon = { dataDir, child, exit, out };
  spawned.add(d);
  return d;
}

/** Resolves with `p`, or rejects after `ms` with `what` in the message. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits (polling, at most `timeoutMs`) until the daemon has written its rpc.json and node_status
 * shows a final pulse of at least `minPulse` (-1: any answer, for a node with no organization yet);
 * returns its client.
 */
export async function waitReady(d: Daemon, minPulse = 0, timeoutMs = 10_000): Promise<LeitherClient> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (d.child.exitCode !== null || d.child.signalCode !== null)
      throw new Error(`the daemon exited before it was ready: ${d.out.stderr.trim()}`);
    try {
      const doc = JSON.parse(readFileSync(join(d.dataDir, "rpc.json"), "utf8")) as { pid?: number };
      // A stale rpc.json (left by a killed daemon) names another pid.
      if (doc.pid === d.child.pid) {
        const client = await LeitherClient.fromDataDir(d.dataDir, { timeoutMs: 5_000 });
        const s = await client.request("node_status");
        if (minPulse < 0 || (s.pulse !== null && s.pulse >= minPulse)) return client;
        last = `pulse ${s.pulse}`;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`the daemon was not ready within ${timeoutMs} ms (${last}); stderr: ${d.out.stderr}`);
}

/** Sends `signal` and waits (at most `timeoutMs`) for the exit; SIGKILLs it past that. */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000) {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill(signal);
  try {
    return await within(d.exit, timeoutMs, `exit after ${signal}`);
  } catch (err) {
    d.child.kill("SIGKILL");
    throw err;
  }
}

/** SIGKILLs every daemon still running and removes the data dirs; for an `after` hook. */
export async function cleanupDaemons(): Promise<void> {
  for (const d of spawned) {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
    await within(d.exit, 5_000, "exit after SIGKILL").catch(() => undefined);
  }
  spawned.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The node's events on `topics`, collected in the background from `client.events()`. */
export class EventLog {
  readonly events: NodeEvent[] = [];
  /** Set if the stream failed other than by stop() (e.g. the daemon was killed). */
  error: unknown;
  private readonly ac = new AbortController();
  private readonly done: Promise<void>;
  private wake: (() => void) | undefined;

  constructor(client: LeitherClient, topics: readonly string[]) {
    this.done = (async () => {
      try {
        for await (const e of client.events(topics, this.ac.signal)) {
          this.events.push(e);
          this.wake?.();
        }
      } catch (err) {
        this.error = err;
      }
    })();
  }

  /** Waits (at most `ms`) for an event that `pred` accepts, and returns it. */
  async waitFor(pred: (e: NodeEvent) => boolean, ms: number, what: string): Promise<NodeEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event ${what} within ${ms} ms (got ${this.events.length} events)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Closes the stream. */
  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}
