/**
 * `leither devnet`: a small devnet runs, transfers flow with receipts on both sides, and SIGINT stops
 * it cleanly: exit 0, every daemon gone, its folder removed. Bad flags fail at once with exit 2.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { tmpDir } from "./helpers/tmp.js";

const cli = new URL("../src/cli/main.js", import.meta.url).pathname;

describe("leither devnet", { timeout: 120_000 }, () => {
  it("runs three nodes with transfers and receipts, and stops cleanly on SIGINT", async () => {
    const dir = `${tmpDir("leither-devnet-test-")}/net`;
    const child = spawn(
      process.execPath,
      [cli, "devnet", "--nodes", "3", "--rate", "3", "--pulse-ms", "500", "--dir", dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    // Until the view shows accepted transfers with their receipts (bounded).
    const deadline = Date.now() + 90_000;
    let accepted = 0;
    let receipts = 0;
    while (Date.now() < deadline && child.exitCode === null) {
      const last = [...out.matchAll(/accepted (\d+), rejected \d+, receipts (\d+)/g)].at(-1);
      accepted = Number(last?.[1] ?? 0);
      receipts = Number(last?.[2] ?? 0);
      if (accepted >= 5 && receipts >= 2 * (accepted - 2)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(accepted >= 5, `transfers were accepted:\n${out}`);
    assert.ok(
      receipts >= 2 * (accepted - 2),
      `both sides hold receipts (${receipts} for ${accepted}):\n${out}`,
    );
    const pids = spawnSync("pgrep", ["-f", `${dir}/`], { encoding: "utf8" })
      .stdout.trim()
      .split("\n")
      .filter(Boolean);
    assert.equal(pids.length, 3, "three daemons while it runs");
    child.kill("SIGINT");
    assert.equal(await exited, 0, out);
    const left = spawnSync("pgrep", ["-f", `${dir}/`], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", "no daemon is left behind");
    // --dir was given: the data dirs stay (a temporary folder of its own would be removed).
    assert.ok(existsSync(`${dir}/node-0`));
  });

  it("refuses bad flags at once: exit 2", () => {
    for (const args of [
      ["--nodes", "1"],
      ["--nodes", "x"],
      ["--rate", "-1"],
    ]) {
      const r = spawnSync(process.execPath, [cli, "devnet", ...args], { encoding: "utf8", timeout: 10_000 });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
