import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { it } from "node:test";
import { LevelKV } from "../src/ledger/level-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { verifyProof } from "../src/smt/verify.js";
import { crashOps } from "./helpers/crash-ops.js";
import { applyToModel, idOf } from "./helpers/model.js";
import { type RefLeaf, type RefSummary, referenceRoot } from "./helpers/reference.js";
import { tmpDir } from "./helpers/tmp.js";

const dir = tmpDir("leither-crash-");

const KILLS = 24;
const writer = new URL("./helpers/crash-writer.js", import.meta.url).pathname;

/** Reference roots of pulses 0..p, extended as needed. */
const model = new Map<string, RefLeaf>();
const roots: RefSummary[] = [];
function referenceAt(p: number): RefSummary {
  while (roots.length <= p) {
    applyToModel(model, crashOps(roots.length));
    roots.push(referenceRoot(model.values()));
  }
  return roots[p]!;
}

/** Runs the writer until it has reported `minCommits` commits, then SIGKILLs it after a random delay. */
function runAndKill(minCommits: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ["ignore", "pipe", "pipe"] });
    let last = -1;
    let seen = 0;
    let armed = false;
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      for (const m of chunk.matchAll(/committed (\d+)/g)) {
        last = Number(m[1]);
        seen++;
      }
      if (!armed && seen >= minCommits) {
        armed = true;
        // A random instant: mid-commit, mid-prune, or between them.
        setTimeout(() => child.kill("SIGKILL"), Math.random() * 120);
      }
    });
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (_code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`writer exited on its own: ${stderr}`));
      else resolve(last);
    });
  });
}

it(`a store SIGKILLed ${KILLS} times at random moments reopens at a complete pulse`, async () => {
  let heads = 0;
  for (let k = 0; k < KILLS; k++) {
    const reported = await runAndKill(1 + (k % 3));
    const t = await VersionedTree.open(await LevelKV.open(dir), {
      retention: { keepLast: 4, keepEvery: 10 },
    });
    const head = t.head!;
    assert.ok(head >= reported, `pulse ${reported} was reported committed but the store's head is ${head}`);
    for (const p of t.retained()) {
      const want = referenceAt(p);
      const got = t.rootAt(p);
      assert.equal(
        Buffer.from(got.hash).toString("hex"),
        want.hash.toString("hex"),
        `root of pulse ${p} after kill ${k}`,
      );
      assert.equal(got.sum, want.sum);
      assert.equal(got.count, want.count);
      // Pages too, not only the root record: every id's proof at that pulse verifies.
      for (let n = 0; n < 800; n += 7)
        assert.notEqual(verifyProof(t.prove(idOf(n), p), got).result, "invalid");
    }
    heads = head;
    await t.close();
  }
  assert.ok(heads >= KILLS, `the writer made progress across kills (head ${heads})`);
});
