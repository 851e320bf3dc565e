import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startNode } from "../src/node/node.js";
import { LeitherClient } from "../src/rpc/client.js";
import { tmpDir } from "./helpers/tmp.js";

const quiet = { log: { pretty: false, destination: { write: () => true } } } as const;

describe("startNode (in process)", () => {
  it("with a passphrase seals every key it makes; a restart keeps the organization's period and metrics", async () => {
    const dir = tmpDir("leither-node-");
    const flags = {
      "rpc.port": "0",
      "pulse.periodMs": "200",
      "log.level": "silent",
      "net.listen": "/ip4/127.0.0.1/tcp/0",
    };
    let node = await startNode({ dataDir: dir, flags, env: {}, passphrase: "correct horse", ...quiet });
    try {
      for (let i = 0; i < 100 && node.ledger.org === undefined; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(node.ledger.org, "the node founds an organization at start");
      // A pulse after the genesis, so the height after the restart is not the gauge's 0.
      const c = await LeitherClient.fromDataDir(dir);
      const k = await c.request("keys_new");
      assert.equal((await c.request("tx_transfer", { to: k.id, amount: "5", wait: true })).state, "accepted");
    } finally {
      await node.stop();
    }
    const sealed = (path: string) => {
      const doc = JSON.parse(readFileSync(path, "utf8"));
      assert.equal(doc.secretKey, undefined, `${path} holds no plain secret`);
      assert.equal(doc.encrypted?.kdf, "scrypt", path);
    };
    sealed(join(dir, "key.json"));
    const orgKeys = readdirSync(join(dir, "orgs"));
    assert.equal(orgKeys.length, 1);
    sealed(join(dir, "orgs", orgKeys[0]!));

    node = await startNode({
      dataDir: dir,
      flags: { ...flags, "pulse.periodMs": "1000" },
      env: {},
      passphrase: "correct horse",
      ...quiet,
    });
    try {
      const c = await LeitherClient.fromDataDir(dir);
      assert.equal((await c.request("node_info")).pulsePeriodMs, 200, "the genesis fixes the period");
      const head = node.ledger.head!;
      assert.ok(head >= 1);
      const metrics = await (
        await fetch(new URL("metrics", c.url), {
          headers: { authorization: `Bearer ${readFileSync(join(dir, "rpc.cookie"), "utf8").trim()}` },
        })
      ).text();
      assert.match(
        metrics,
        new RegExp(`^leither_pulse_height ${head}$`, "m"),
        "the height survives a restart",
      );
    } finally {
      await node.stop();
    }
    await assert.rejects(LeitherClient.fromDataDir(dir), /no node is running/, "rpc.json is removed at stop");
  });
});
