/**
 * The node commands of the `leither` CLI against one real daemon (`leither start`, loopback only):
 * status, org, keys, transfer, balance, receipt, proof get checked by proof verify, pulse, and the
 * one-line failures.
 */
import assert from "node:assert/strict";
import { type ChildProcess, type ExecFileException, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpDir } from "./helpers/tmp.js";

const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
const T = { timeout: 30_000 };

let daemon: ChildProcess | undefined;
let exited: Promise<number | null> | undefined;
let daemonOut = "";

// tmpDir removes its folders when the process exits, after every hook: the daemon stops first.
after(async () => {
  const d = daemon;
  if (d === undefined || exited === undefined) return;
  if (d.exitCode === null && d.signalCode === null) d.kill("SIGTERM");
  const ac = new AbortController();
  const code = await Promise.race([
    exited,
    sleep(10_000, "timeout" as const, { signal: ac.signal }).catch(() => "timeout" as const),
  ]);
  ac.abort();
  if (code === "timeout") d.kill("SIGKILL");
  assert.equal(code, 0, `the daemon exits 0 within 10 s of SIGTERM; its output:\n${daemonOut}`);
  assert.equal(existsSync(join(data, "rpc.json")), false, "a stopped node removes rpc.json");
});

const dir = tmpDir("leither-cli-daemon-");
const data = join(dir, "node");

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI (never the daemon's data dir by accident: LEITHER_HOME points elsewhere). */
function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { encoding: "utf8", timeout: 20_000, env: { ...process.env, LEITHER_HOME: join(dir, "home") } },
      (err: ExecFileException | null, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === "number" ? err.code : -1,
          out: stdout.trim(),
          err: stderr.trim(),
        }),
    );
  });
}
const node = (...args: string[]) => run([...args, "--data-dir", data]);

/** A command that succeeded with --json: its one line of output, parsed. */
async function json<R = Record<string, unknown>>(...args: string[]): Promise<R> {
  const r = await node(...args, "--json");
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split("\n").length, 1, `one JSON line: ${r.out}`);
  return JSON.parse(r.out) as R;
}

/** A failure: exit `code`, one line on stderr starting `leither: `, no stack. */
function assertOneLineFailure(r: Run, code: number, msg: RegExp): void {
  assert.equal(r.code, code, `exit ${code}: ${r.err}`);
  const lines = r.err.split("\n");
  assert.equal(lines.length, 1, `one line: ${r.err}`);
  assert.match(lines[0]!, /^leither: /);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.match(r.err, msg);
}

interface Status {
  pulse: number | null;
  root: { hash: string; sum: string; count: number } | null;
  org: string | null;
  account: string;
  peers: number;
  rpc: string;
  pending: number;
}

let genesis: Status;
let payee: string;
let txId: string;

before(async () => {
  daemon = spawn(
    process.execPath,
    [
      cli,
      "start",
      "--data-dir",
      data,
      "--rpc-port",
      "0",
      "--log-level",
      "warn",
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LEITHER_HOME: join(dir, "home") } },
  );
  exited = new Promise((resolve) => daemon!.once("exit", (code) => resolve(code)));
  daemon.stdout!.on("data", (c: Buffer) => (daemonOut += c.toString()));
  daemon.stderr!.on("data", (c: Buffer) => (daemonOut += c.toString()));
  // The node founds its organization at its first pulse: wait for pulse 0, at most 10 s.
  const deadline = Date.now() + 10_000;
  for (;;) {
    assert.equal(daemon.exitCode, null, `the daemon exited early:\n${daemonOut}`);
    if (existsSync(join(data, "rpc.json"))) {
      const r = await node("status", "--json");
      if (r.code === 0 && (JSON.parse(r.out) as Status).pulse !== null) {
        genesis = JSON.parse(r.out) as Status;
        return;
      }
    }
    assert.ok(Date.now() < deadline, `no pulse 0 within 10 s:\n${daemonOut}`);
    await sleep(100);
  }
});

test("status --json prints node_status as one JSON object; status prints readable lines", T, async () => {
  // Calls that do not depend on each other run side by side: each CLI start costs a few tenths of a second.
  const [s, h] = await Promise.all([json<Status>("status"), node("status")]);
  assert.deepEqual(Object.keys(s).sort(), ["account", "org", "peers", "pending", "pulse", "root", "rpc"]);
  assert.equal(s.pulse, 0, "an idle node stays at its genesis pulse");
  assert.match(s.root!.hash, /^[0-9a-f]{64}$/);
  assert.equal(s.root!.sum, "1000000000");
  assert.equal(s.root!.count, 2, "the founder and the organization's account");
  assert.match(s.org!, /^[0-9a-f]{40}$/);
  assert.match(s.account, /^[0-9a-f]{40}$/);
  assert.equal(s.peers, 0);
  assert.match(s.rpc, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(s.rpc, JSON.parse(readFileSync(join(data, "rpc.json"), "utf8")).url);
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /^pulse +0$/m);
  assert.match(h.out, new RegExp(`^account +${s.account}$`, "m"));
});

test("org info --json: the local organization, its founder as supervisor", T, async () => {
  const [o, again] = await Promise.all([
    json<{ id: string; name: string; supervisor: string; distribution: unknown[] }>("org", "info"),
    node("org", "create", "Another"),
  ]);
  assert.equal(o.id, genesis.org);
  assert.equal(o.name, "Local organization");
  assert.equal(o.supervisor, genesis.account);
  assert.deepEqual(o.distribution, [{ to: genesis.account, amount: "1000000", reason: "founder" }]);
  assertOneLineFailure(again, 1, /already keeps organization/);
});

test("keys new makes a key that keys list shows", T, async () => {
  const k = await json<{ id: string; publicKey: string; node: boolean }>("keys", "new");
  assert.match(k.id, /^[0-9a-f]{40}$/);
  assert.equal(k.node, false);
  payee = k.id;
  const list = await json<{ keys: { id: string; node: boolean }[] }>("keys", "list");
  assert.deepEqual(
    list.keys.map((x) => [x.id, x.node]).sort(),
    [
      [genesis.account, true],
      [payee, false],
    ].sort(),
  );
});

test("transfer to a key the node holds is accepted; balance shows the amount", T, async () => {
  const s = await json<{ txId: string; state: string; pulse: number }>("transfer", payee, "250");
  assert.equal(s.state, "accepted");
  assert.match(s.txId, /^[0-9a-f]{64}$/);
  assert.ok(s.pulse >= 1);
  txId = s.txId;
  const h = await node("transfer", payee, "50");
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /^[0-9a-f]{64}: accepted at pulse \d+$/);

  type Account = { amount: string; spendable: string; nonce: string; exists: boolean; role: string };
  const [b, mine, text, atGenesis] = await Promise.all([
    json<Account>("balance", payee),
    json<Account>("balance"),
    node("balance", payee.toUpperCase()),
    json<Account>("balance", payee, "--pulse", "0"),
  ]);
  assert.deepEqual([b.exists, b.amount, b.spendable, b.role], [true, "300", "300", "none"]);
  assert.deepEqual([mine.amount, mine.nonce, mine.role], ["999700", "2", "supervisor"]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^amount +300$/m);
  assert.deepEqual([atGenesis.exists, atGenesis.amount], [false, "0"]);
});

test("receipt --out writes the receipt; tx status says accepted", T, async () => {
  const file = join(dir, "receipt.json");
  const [r, s] = await Promise.all([
    node("receipt", txId, "--out", file),
    json<{ state: string; pulse: number }>("tx", "status", txId),
  ]);
  assert.equal(r.code, 0, r.err);
  const receipt = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(receipt.txId, txId);
  assert.deepEqual(
    receipt.proofs.map((p: { account: string }) => p.account).sort(),
    [genesis.account, payee].sort(),
  );
  assert.deepEqual([s.state, s.pulse], ["accepted", receipt.pulse]);
});

test(
  "proof get --out writes a proof that the printed proof verify command accepts; a tampered one fails",
  T,
  async () => {
    const file = join(dir, "proof.json");
    const r = await node("proof", "get", payee, "--out", file);
    assert.equal(r.code, 0, r.err);
    const cmd = r.err.split(" ");
    assert.equal(cmd.slice(0, 4).join(" "), `leither proof verify ${file}`);
    // Without --out the proof goes to standard output, the same JSON.
    const [ok, out, full] = await Promise.all([
      run(cmd.slice(1)),
      node("proof", "get", payee),
      json<{ root: Status["root"]; proof: unknown }>("proof", "get", payee),
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, "inclusion");
    assert.deepEqual(JSON.parse(out.out), JSON.parse(readFileSync(file, "utf8")));
    assert.deepEqual(full.proof, JSON.parse(out.out));
    assert.deepEqual(cmd.slice(4), [
      "--root",
      full.root!.hash,
      "--sum",
      full.root!.sum,
      "--count",
      String(full.root!.count),
    ]);

    const proof = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(proof.terminal.kind, "leaf");
    proof.terminal.amount = "301";
    writeFileSync(file, JSON.stringify(proof));
    const bad = await run(cmd.slice(1));
    assert.equal(bad.code, 1);
    assert.match(bad.out, /^invalid: /);
  },
);

test("pulse --json: the newest pulse and the retained range; pulse 0 is the genesis root", T, async () => {
  const [c, p0, later] = await Promise.all([
    json<{ pulse: number; retained: { first: number; last: number } }>("pulse"),
    json<{ pulse: number; root: Status["root"] }>("pulse", "0"),
    node("pulse", "1000000"),
  ]);
  assert.ok(c.pulse >= 2);
  assert.equal(c.retained.first, 0);
  assert.equal(c.retained.last, c.pulse);
  assert.deepEqual(p0, { pulse: 0, root: genesis.root });
  assertOneLineFailure(later, 1, /not readable/);
});

test("bad arguments fail locally: one line, exit 2", T, async () => {
  const cases: [string[], RegExp][] = [
    [["balance", "xyz"], /account must be 40 hex digits/],
    [["balance", "--pulse", "-1"], /--pulse/],
    [["transfer", payee, "0"], /amount must be above 0/],
    [["transfer", payee, "18446744073709551616"], /amount/],
    [["receipt", "abc"], /txId must be 64 hex digits/],
  ];
  const runs = await Promise.all(cases.map(([args]) => node(...args)));
  for (const [i, r] of runs.entries()) assertOneLineFailure(r, 2, cases[i]![1]);
});

test("a transfer above the balance is rejected: INSUFFICIENT_FUNDS, exit 1", T, async () => {
  const r = await node("transfer", genesis.account, "1000", "--from", payee, "--json");
  assertOneLineFailure(r, 1, /rejected: INSUFFICIENT_FUNDS/);
  const s = JSON.parse(r.out);
  assert.deepEqual([s.state, s.reason], ["rejected", "INSUFFICIENT_FUNDS"]);
});

test("a payee whose key the node lacks must countersign: one clear line, the tx in --json", T, async () => {
  const stranger = "ab".repeat(20);
  const [h, r] = await Promise.all([
    node("transfer", stranger, "5"),
    node("transfer", stranger, "5", "--json"),
  ]);
  assertOneLineFailure(h, 1, /payee .* must countersign/);
  assertOneLineFailure(r, 1, /must countersign/);
  const e = JSON.parse(r.out).error;
  assert.equal(e.code, -32008);
  assert.match(e.data.tx, /^([0-9a-f]{2})+$/);
});

test("status with no daemon on the data dir: exit 1, says leither start", T, async () => {
  assertOneLineFailure(await run(["status", "--data-dir", join(dir, "empty")]), 1, /leither start/);
});
