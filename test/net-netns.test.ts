/**
 * Three nodes in three network namespaces joined by veth links to a bridge (in a fourth namespace),
 * so that what crosses between them crosses a network, not loopback: node A founds the organization,
 * B and C know only A's address, find the organization through the DHT, apply, A's supervisor
 * approves them by hand, and they transfer; both sides hold receipts. It needs root and `ip netns`;
 * elsewhere it says why it skipped. The namespaces are this run's own (named after its pid) and are
 * removed at the end.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const run = promisify(execFile);
const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
const id = process.pid % 10_000;
const subnet = `10.213.${id % 250}`;
const NS = ["a", "b", "c"].map((x) => `lt${id}${x}`);
const HUB = `lt${id}h`;

/** Why this machine cannot run the test, or undefined if it can. */
function unsupported(): string | undefined {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  try {
    execFileSync("ip", ["netns", "add", `lt${id}probe`], { stdio: "pipe" });
    execFileSync("ip", ["netns", "del", `lt${id}probe`], { stdio: "pipe" });
  } catch (err) {
    return `\`ip netns add\` failed here: ${(err as Error).message.split("\n")[0]}`;
  }
  return undefined;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });

function setUpNetwork(): void {
  ip("netns", "add", HUB);
  ip("-n", HUB, "link", "add", "br0", "type", "bridge");
  ip("-n", HUB, "link", "set", "br0", "up");
  NS.forEach((ns, i) => {
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    // One veth pair per node: its end in the node's namespace, the other on the hub's bridge.
    ip("link", "add", `v${id}${i}`, "netns", ns, "type", "veth", "peer", "name", `h${id}${i}`, "netns", HUB);
    ip("-n", HUB, "link", "set", `h${id}${i}`, "master", "br0");
    ip("-n", HUB, "link", "set", `h${id}${i}`, "up");
    ip("-n", ns, "addr", "add", `${subnet}.${i + 1}/24`, "dev", `v${id}${i}`);
    ip("-n", ns, "link", "set", `v${id}${i}`, "up");
  });
}

function tearDownNetwork(): void {
  for (const ns of [...NS, HUB])
    try {
      ip("netns", "del", ns);
    } catch {
      // Not made (set-up failed early) or already gone.
    }
}

/** Runs the CLI inside namespace `ns` and parses its --json output. */
async function leither<T>(ns: string, dataDir: string, ...args: string[]): Promise<T> {
  const { stdout } = await run(
    "ip",
    ["netns", "exec", ns, process.execPath, cli, ...args, "--data-dir", dataDir, "--json"],
    { timeout: 40_000 },
  );
  return JSON.parse(stdout) as T;
}

let why = unsupported();

describe("three nodes in three network namespaces", { timeout: 150_000 }, () => {
  const children: ChildProcess[] = [];
  const dirs = NS.map(() => "");

  function startNode(i: number, args: string[]): void {
    dirs[i] = tmpDir("leither-netns-");
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        NS[i]!,
        process.execPath,
        cli,
        "start",
        "--data-dir",
        dirs[i]!,
        "--rpc-port",
        "0",
        "--pulse-ms",
        "1000",
        "--log-level",
        "warn",
        "--listen",
        `/ip4/${subnet}.${i + 1}/tcp/7621`,
        ...args,
      ],
      { stdio: "ignore" },
    );
    children.push(child);
  }

  before(() => {
    if (why !== undefined) return;
    try {
      setUpNetwork();
    } catch (err) {
      // A kernel without veth or bridges: the machine cannot host this test, which says so.
      why = `the namespaces' network could not be set up here: ${(err as Error).message.split("\n")[0]}`;
      tearDownNetwork();
    }
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null
          ? undefined
          : Promise.race([
              new Promise((r) => c.once("exit", r)),
              sleep(10_000).then(() => c.kill("SIGKILL")),
            ]),
      ),
    );
    tearDownNetwork();
  });

  it("find the organization through the DHT, apply, are approved by hand, transfer; both sides hold receipts", async (t) => {
    if (why !== undefined) {
      t.diagnostic(`skipped: ${why}`);
      t.skip(why);
      return;
    }
    const [a, b, c] = NS as [string, string, string];
    // No approval policy: the supervisor approves by hand (org applications, org approve).
    startNode(0, []);
    const status = await until(
      async () => {
        const s = await leither<{ org: string | null; account: string }>(a, dirs[0]!, "status");
        return s.org === null ? undefined : s;
      },
      30_000,
      "node A founds its organization",
    );
    const peers = await leither<{ peerId: string; addrs: string[] }>(a, dirs[0]!, "peers");
    const addrA = peers.addrs.find((x) => x.startsWith(`/ip4/${subnet}.1/`));
    assert.ok(addrA, `A listens on the namespace's address: ${peers.addrs.join(", ")}`);
    startNode(1, ["--no-found", "--bootstrap", addrA]);
    startNode(2, ["--no-found", "--bootstrap", addrA]);

    const info = await until(
      () => leither<{ id: string; supervisor: string }>(b, dirs[1]!, "org", "info", status.org!),
      40_000,
      "B finds the organization",
    );
    assert.equal(info.supervisor, status.account);
    for (const [ns, dir] of [
      [b, dirs[1]!],
      [c, dirs[2]!],
    ] as const) {
      await leither(ns, dir, "org", "join", status.org!);
      const me = (await leither<{ account: string }>(ns, dir, "status")).account;
      await until(
        async () => {
          const apps = await leither<{ applications: { account: string }[] }>(
            a,
            dirs[0]!,
            "org",
            "applications",
          );
          return apps.applications.some((x) => x.account === me) ? true : undefined;
        },
        20_000,
        `A sees ${ns}'s application`,
      );
      const approval = await leither<{ state: string }>(a, dirs[0]!, "org", "approve", me);
      assert.equal(approval.state, "accepted");
      await until(
        async () => {
          const acc = await leither<{ role: string }>(ns, dir, "balance");
          return acc.role === "member" ? acc : undefined;
        },
        30_000,
        `${ns} becomes a member`,
      );
    }
    const accB = (await leither<{ account: string }>(b, dirs[1]!, "status")).account;
    const accC = (await leither<{ account: string }>(c, dirs[2]!, "status")).account;
    const fund = await leither<{ state: string }>(a, dirs[0]!, "transfer", accB, "900");
    assert.equal(fund.state, "accepted");
    const tx = await until(
      () => leither<{ state: string; txId: string }>(b, dirs[1]!, "transfer", accC, "400"),
      20_000,
      "B pays C",
    );
    assert.equal(tx.state, "accepted");
    for (const [ns, dir, who] of [
      [b, dirs[1]!, accB],
      [c, dirs[2]!, accC],
    ] as const) {
      const r = await until(
        () => leither<{ proofs: { account: string }[] }>(ns, dir, "receipt", tx.txId),
        20_000,
        `${ns} holds the receipt`,
      );
      assert.deepEqual(
        r.proofs.map((p) => p.account),
        [who],
      );
    }
    assert.equal((await leither<{ amount: string }>(c, dirs[2]!, "balance")).amount, "400");
  });
});
