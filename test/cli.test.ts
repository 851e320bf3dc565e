import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tmpDir } from "./helpers/tmp.js";

const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
const vectorsPath = new URL("../../test/vectors/smt-vectors.json", import.meta.url).pathname;
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));
const dir = tmpDir("leither-cli-");

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, LEITHER_HOME: dir },
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

describe("leither tree root", () => {
  for (const c of vectors.cases) {
    it(`prints the root of case ${c.name}, by --case and from a leaves file`, () => {
      const byCase = run(["tree", "root", vectorsPath, "--case", c.name]);
      assert.equal(byCase.code, 0, byCase.err);
      assert.deepEqual(JSON.parse(byCase.out), c.root);
      const own = run(["tree", "root", file(`${c.name}.json`, { leaves: c.leaves })]);
      assert.deepEqual(JSON.parse(own.out), c.root);
    });
  }

  const bad: [string, string | object, RegExp][] = [
    ["not JSON", "{leaves:", /not JSON/],
    ["a short id", { leaves: [{ id: "abcd", amount: "1", dataHash: "00".repeat(32) }] }, /leaves\[0\]\.id/],
    [
      "an amount above u64",
      { leaves: [{ id: "11".repeat(20), amount: "18446744073709551616", dataHash: "00".repeat(32) }] },
      /outside u64/,
    ],
    [
      "a negative amount",
      { leaves: [{ id: "11".repeat(20), amount: "-1", dataHash: "00".repeat(32) }] },
      /amount/,
    ],
    [
      "a sum overflow",
      {
        leaves: [
          { id: "11".repeat(20), amount: "18446744073709551615", dataHash: "00".repeat(32) },
          { id: "22".repeat(20), amount: "1", dataHash: "00".repeat(32) },
        ],
      },
      /exceeds the u64/,
    ],
    [
      "a repeated id",
      { leaves: [1, 2].map(() => ({ id: "11".repeat(20), amount: "1", dataHash: "00".repeat(32) })) },
      /twice/,
    ],
  ];
  for (const [what, content, msg] of bad) {
    it(`rejects ${what} with one line and exit code 2`, () => {
      const r = run(["tree", "root", file("bad.json", content)]);
      assert.equal(r.code, 2);
      assert.equal(r.out, "");
      assert.match(r.err, msg);
      assert.equal(r.err.split("\n").length, 1, `one line: ${r.err}`);
    });
  }

  it("says which cases exist when --case names none, and reads standard input", () => {
    const r = run(["tree", "root", vectorsPath, "--case", "nope"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /cases: empty, one/);
    const s = run(["tree", "root", "-"], JSON.stringify({ leaves: vectors.cases[1].leaves }));
    assert.deepEqual(JSON.parse(s.out), vectors.cases[1].root);
  });
});

describe("leither tree prove", () => {
  it("prints proofs that proof verify accepts: inclusion for a present id, exclusion for an absent one", () => {
    const c = vectors.cases.find((x: { name: string }) => x.name === "ten");
    const rootArgs = ["--root", c.root.hash, "--sum", c.root.sum, "--count", String(c.root.count)];
    for (const [id, want] of [
      [c.leaves[3].id, "inclusion"],
      ["7f30080941403e8635c53b6ade4224530de4ed50", "exclusion"],
    ]) {
      const p = run(["tree", "prove", vectorsPath, id, "--case", "ten"]);
      assert.equal(p.code, 0, p.err);
      const v = run(["proof", "verify", file("gen.json", p.out), ...rootArgs, "--strict"]);
      assert.equal(v.out, want);
      assert.equal(v.err, "", "our proofs bind their terminal: no warning");
    }
    const bad = run(["tree", "prove", vectorsPath, "abc", "--case", "ten"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /id: expected 20 bytes/);
  });
});

describe("leither proof verify", () => {
  const c = vectors.cases.find((x: { name: string }) => x.name === "ten");
  const rootArgs = ["--root", c.root.hash, "--sum", c.root.sum, "--count", String(c.root.count)];
  for (const [i, p] of c.proofs.entries()) {
    it(`says ${p.result} for proof ${i} of case ten, exit 0`, () => {
      const r = run(["proof", "verify", file(`p${i}.json`, p), ...rootArgs]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, p.result);
    });
  }

  it("says invalid with exit 1 for a tampered proof or a wrong root", () => {
    const p = structuredClone(c.proofs[0]);
    p.path[0].sibling.sum = String(BigInt(p.path[0].sibling.sum) + 1n);
    const r = run(["proof", "verify", file("t.json", p), ...rootArgs]);
    assert.equal(r.code, 1);
    assert.match(r.out, /^invalid: /);
    const w = run([
      "proof",
      "verify",
      file("ok.json", c.proofs[0]),
      "--root",
      c.root.hash,
      "--sum",
      c.root.sum,
      "--count",
      "11",
    ]);
    assert.equal(w.code, 1);
  });

  it("accepts the spec's bare node terminal with a warning, and refuses it with --strict", () => {
    const i = c.proofs.findIndex((p: { terminal: { kind?: string } | null }) => p.terminal?.kind === "node");
    assert.ok(i >= 0, "case ten has a proof ending in an internal node");
    const f = file("bare.json", c.proofs[i]);
    const loose = run(["proof", "verify", f, ...rootArgs]);
    assert.equal(loose.code, 0);
    assert.equal(loose.out, "exclusion");
    assert.match(loose.err, /warning: .*not bound/);
    const strict = run(["proof", "verify", f, ...rootArgs, "--strict"]);
    assert.equal(strict.code, 1);
    assert.match(strict.out, /^invalid: .*without its children/);
  });

  it("rejects bad input with one line and exit code 2", () => {
    assert.equal(run(["proof", "verify", file("x.json", "nope"), ...rootArgs]).code, 2);
    const short = run([
      "proof",
      "verify",
      file("ok.json", c.proofs[0]),
      "--root",
      "abcd",
      "--sum",
      "1",
      "--count",
      "1",
    ]);
    assert.equal(short.code, 2);
    assert.match(short.err, /--root/);
    const missing = run(["proof", "verify", file("ok.json", c.proofs[0])]);
    assert.equal(missing.code, 2);
    const badKey = run(["proof", "verify", file("k.json", { ...c.proofs[0], key: "zz" }), ...rootArgs]);
    assert.equal(badKey.code, 2);
    assert.match(badKey.err, /key/);
  });
});
