/**
 * `leither committee` against a real daemon (--no-net): the table of cycle 0 (the supervisor as
 * chief, the next draw before its snapshot), --json, and the one-line failures; and the table's
 * reveal column for a drawn cycle (revealed, withheld and forfeited).
 */
import assert from "node:assert/strict";
import { type ExecFileException, execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { committeeLines } from "../src/cli/committee-command.js";
import type { CommitteeInfoJson } from "../src/rpc/api.js";
import {
  cleanupDaemons,
  type Daemon,
  daemonDir,
  spawnDaemon,
  stopDaemon,
  waitReady,
} from "./helpers/daemon.js";

const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
const T = { timeout: 30_000 };

interface Run {
  code: number;
  out: string;
  err: string;
}

let daemon: Daemon;
let account: string;

function run(args: readonly string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEITHER_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args, "--data-dir", daemon.dataDir],
      { encoding: "utf8", timeout: 20_000, env },
      (err: ExecFileException | null, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === "number" ? err.code : -1,
          out: stdout.trim(),
          err: stderr.trim(),
        }),
    );
  });
}

before(async () => {
  daemon = spawnDaemon(daemonDir(), { args: ["--no-net"] });
  const client = await waitReady(daemon, 0);
  account = (await client.request("node_info")).account;
});

after(async () => {
  try {
    const exit = await stopDaemon(daemon);
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.out.stderr);
  } finally {
    await cleanupDaemons();
  }
});

test(
  "the table of cycle 0: the supervisor is the chief; the next draw waits for its snapshot",
  T,
  async () => {
    const r = await run(["committee"]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(lines[0]!, /^cycle\s+0 \(pulses 0 to 1799\), head pulse \d+$/);
    assert.match(lines[1]!, /^committee\s+1 member$/);
    assert.equal(lines[2], `  * ${account}  chief`);
    assert.match(lines[3]!, /^next draw\s+the committee of cycle 1: before-snapshot$/);
    assert.equal(
      lines[4],
      "  snapshot pulse 900, reveals in pulses 901 to 1350, seed after pulse 1350, forfeit in pulse 1351",
    );
    assert.match(r.out, /note: the snapshot \(pulse 900\) is not reached: candidates as at the head/);
    assert.match(r.out, /no standing candidates at pulse \d+/);
    assert.equal(r.err, "");
  },
);

test("--json prints the RPC result on one line; --cycle 0 is the same cycle", T, async () => {
  const r = await run(["committee", "--json", "--cycle", "0"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split("\n").length, 1);
  const j = JSON.parse(r.out) as CommitteeInfoJson;
  assert.deepEqual(j.serving, { cycle: 0, members: [account], chief: account });
  assert.deepEqual(
    [j.cycle, j.cycleLength, j.next.phase, j.next.candidates],
    [0, 1800, "before-snapshot", []],
  );
});

test(
  "a cycle not begun is refused in one line (exit 1); a bad --cycle is a usage error (exit 2)",
  T,
  async () => {
    const later = await run(["committee", "--cycle", "3"]);
    assert.equal(later.code, 1, later.err);
    assert.match(later.err, /^leither: cycle 3 has not begun: the head is pulse \d+, in cycle 0$/);
    const bad = await run(["committee", "--cycle", "x"]);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /^leither: --cycle must be a whole number from 0 to 4294967295, not "x"$/);
  },
);

test("the reveal column: yes, no, and a withheld reveal's forfeit (due, then taken)", () => {
  const cand = (id: string, revealed: boolean, forfeits?: boolean) => ({
    id,
    deposit: "100",
    votes: "0",
    weight: "100",
    committed: true,
    revealed,
    ...(forfeits === undefined ? {} : { forfeits }),
  });
  const info = (head: number, candidates: CommitteeInfoJson["next"]["candidates"]): CommitteeInfoJson => ({
    cycle: 0,
    cycleLength: 8,
    head,
    serving: { cycle: 0, members: ["aa"], chief: "aa" },
    next: {
      cycle: 1,
      snapshotPulse: 4,
      revealWindow: { from: 5, to: 6 },
      seedPulse: 6,
      forfeitPulse: 7,
      phase: "drawn",
      candidatesAt: 4,
      candidates,
      drawn: { members: ["bb"], seed: "00", carried: false },
    },
  });
  const column = (r: CommitteeInfoJson) =>
    committeeLines(r)
      .filter((l) => /^ {2}[ *+] {2}[a-f]{2} /.test(l))
      .map((l) => l.trim().split(/\s+/).at(-1));
  const list = [cand("bb", true, false), cand("cc", false, true), cand("dd", false)];
  assert.deepEqual(column(info(6, list)), ["yes", "forfeits", "no"]);
  assert.deepEqual(column(info(7, list)), ["yes", "forfeited", "no"]);
});
