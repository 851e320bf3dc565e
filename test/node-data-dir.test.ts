import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readKeyFile } from "../src/crypto/keyfile.js";
import { DataDirError, dataDirPaths, initDataDir } from "../src/node/data-dir.js";
import { tmpDir } from "./helpers/tmp.js";

const cli = new URL("../src/cli/main.js", import.meta.url).pathname;
const mode = (p: string) => statSync(p).mode & 0o777;

describe("data dir", () => {
  it("a path the kernel will not create fails with a clear error instead of hanging", {
    skip: !existsSync("/proc/self"),
    timeout: 5000,
  }, async () => {
    // Node's recursive mkdir loops forever on this path; initDataDir must not.
    for (const root of ["/proc/leither-nope", "/proc/leither-nope/a/b"])
      await assert.rejects(
        initDataDir(root),
        (err: unknown) => err instanceof DataDirError && /cannot create the data dir/.test(String(err)),
      );
  });

  it("creates missing parents", async () => {
    const root = join(tmpDir("leither-home-"), "a", "b", "node");
    await initDataDir(root);
    assert.equal(mode(root), 0o700);
  });

  it("init creates the key, the cookie and the folders, private to the user, and never overwrites", async () => {
    const root = join(tmpDir("leither-home-"), "node");
    const a = await initDataDir(root);
    assert.deepEqual([...a.created].sort(), ["db/", "key.json", "logs/", "rpc.cookie"]);
    const p = dataDirPaths(root);
    assert.equal(mode(root), 0o700);
    assert.equal(mode(p.key), 0o600);
    assert.equal(mode(p.cookie), 0o600);
    assert.match(readFileSync(p.cookie, "utf8"), /^[0-9a-f]{64}\n$/);
    const kp = await readKeyFile(p.key);
    assert.equal(kp.id.toString("hex"), a.id);
    const key = readFileSync(p.key, "utf8");
    const cookie = readFileSync(p.cookie, "utf8");
    const b = await initDataDir(root);
    assert.deepEqual(b.created, []);
    assert.equal(b.id, a.id);
    assert.equal(readFileSync(p.key, "utf8"), key);
    assert.equal(readFileSync(p.cookie, "utf8"), cookie);
  });

  it("an encrypted key needs its passphrase; its id is readable without", async () => {
    const root = tmpDir("leither-home-");
    const r = await initDataDir(root, { passphrase: "correct horse", scryptN: 1 << 10 });
    await assert.rejects(readKeyFile(dataDirPaths(root).key), /passphrase/);
    const kp = await readKeyFile(dataDirPaths(root).key, { passphrase: "correct horse" });
    assert.equal(kp.id.toString("hex"), r.id);
  });

  it("leither init: one clear line, --json for scripts, exit 2 when the data dir cannot be made", () => {
    const home = tmpDir("leither-home-");
    const run = (args: string[]) =>
      spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });
    const dir = join(home, "d");
    const first = run(["init", "--data-dir", dir, "--json"]);
    assert.equal(first.status, 0, first.stderr);
    const out = JSON.parse(first.stdout) as { dataDir: string; created: string[]; account: string };
    assert.equal(out.dataDir, dir);
    assert.match(out.account, /^[0-9a-f]{40}$/);
    const again = run(["init", "--data-dir", dir]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already set up; nothing changed/);
    assert.match(again.stdout, new RegExp(`account: ${out.account}`));
    const file = join(home, "a-file");
    writeFileSync(file, "x");
    const bad = run(["init", "--data-dir", join(file, "sub")]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^leither: cannot create the data dir at .*\n$/);
    const noPass = run(["init", "--data-dir", join(home, "e"), "--passphrase-file", join(home, "missing")]);
    assert.equal(noPass.status, 2);
    assert.match(noPass.stderr, /cannot read the passphrase file/);
  });
});
