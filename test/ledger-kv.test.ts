import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { KV } from "../src/ledger/kv.js";
import { LevelKV, StoreOpenError } from "../src/ledger/level-kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { tmpDir } from "./helpers/tmp.js";

const tmp = () => tmpDir("leither-kv-");

const b = (...x: number[]) => Buffer.from(x);
const backends: [string, () => Promise<KV>][] = [
  ["MemoryKV", async () => new MemoryKV()],
  ["LevelKV", () => LevelKV.open(tmp())],
];

// One compliance suite for every KV implementation.
for (const [name, make] of backends) {
  describe(`KV compliance: ${name}`, () => {
    it("reads what a batch wrote, deletes, and misses cleanly", async () => {
      const kv = await make();
      await kv.write([
        { type: "put", key: b(1, 2), value: b(9) },
        { type: "put", key: b(1, 3), value: b(8) },
      ]);
      assert.deepEqual(kv.getSync(b(1, 2)), b(9));
      assert.equal(kv.getSync(b(7)), undefined);
      await kv.write(
        [
          { type: "del", key: b(1, 2) },
          { type: "put", key: b(1, 3), value: b(7) },
        ],
        { sync: true },
      );
      assert.equal(kv.getSync(b(1, 2)), undefined);
      assert.deepEqual(kv.getSync(b(1, 3)), b(7));
      await kv.close();
    });

    it("iterates a range in byte order, reversed and limited", async () => {
      const kv = await make();
      const keys = [b(2, 0), b(1, 255), b(1, 0), b(1), b(0, 5), b(2)];
      await kv.write(keys.map((k, i) => ({ type: "put" as const, key: k, value: b(i) })));
      const seen: string[] = [];
      for await (const [k] of kv.entries({ gte: b(1), lt: b(2) })) seen.push(k.toString("hex"));
      assert.deepEqual(seen, ["01", "0100", "01ff"]);
      const rev: string[] = [];
      for await (const [k] of kv.entries({ gte: b(0), lt: b(3), reverse: true, limit: 2 }))
        rev.push(k.toString("hex"));
      assert.deepEqual(rev, ["0200", "02"]);
      await kv.compact();
      await kv.close();
    });
  });
}

describe("LevelKV", () => {
  it("fails fast with a clear message when another handle holds the folder", async () => {
    const dir = tmp();
    const a = await LevelKV.open(dir);
    await assert.rejects(
      LevelKV.open(dir),
      (e: unknown) => e instanceof StoreOpenError && e.code === "LOCKED" && /in use/.test(e.message),
    );
    await a.close();
  });

  it("keeps what was written across a reopen", async () => {
    const dir = tmp();
    const a = await LevelKV.open(dir);
    await a.write([{ type: "put", key: b(5), value: b(6) }], { sync: true });
    await a.close();
    const c = await LevelKV.open(dir);
    assert.deepEqual(c.getSync(b(5)), b(6));
    await c.close();
  });
});
