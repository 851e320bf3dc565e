import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { type RunningNode, startNode } from "../src/node/node.js";
import { METHODS } from "../src/rpc/api.js";
import { tmpDir } from "./helpers/tmp.js";

// Any JSON the params of a method could be, biased towards the shapes the schemas use.
const hexish = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), maxLength: 80 }),
  fc.string({ maxLength: 20 }),
);
const value = fc.oneof(
  hexish,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("0", "1", "18446744073709551615", "18446744073709551616", "-1", "1e3", " 5"),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const names = Object.keys(METHODS);
const params = fc.oneof(
  fc.dictionary(
    fc.constantFrom(
      "to",
      "amount",
      "from",
      "account",
      "pulse",
      "txId",
      "tx",
      "wait",
      "name",
      "expiry",
      "supply",
      "x",
    ),
    value,
    { maxKeys: 4 },
  ),
  fc.array(value, { maxLength: 3 }),
  value,
);
const callArb = fc.record(
  {
    jsonrpc: fc.constantFrom("2.0", "2.0", "2.0", "1.0"),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)),
    method: fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })),
    params,
  },
  { requiredKeys: ["jsonrpc", "id", "method"] },
);

const dir = tmpDir("leither-fuzz-");
let node: RunningNode | undefined;
let token: string;
before(async () => {
  node = await startNode({
    dataDir: dir,
    flags: {
      "rpc.port": "0",
      "pulse.periodMs": "100",
      "log.level": "silent",
      "net.listen": "/ip4/127.0.0.1/tcp/0",
    },
    env: {},
    log: { pretty: false, destination: { write: () => true } },
  });
  for (let i = 0; i < 100 && node!.ledger.org === undefined; i++) await new Promise((r) => setTimeout(r, 50));
  token = readFileSync(join(dir, "rpc.cookie"), "utf8").trim();
});
after(() => node?.stop());

async function post(body: unknown) {
  const res = await fetch(node!.url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("JSON-RPC under random calls", { timeout: 120_000 }, () => {
  it("every call gets a well-formed answer, never an internal error, and the node goes on", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(callArb, fc.array(callArb, { minLength: 1, maxLength: 5 })), async (body) => {
        const r = await post(body);
        assert.equal(r.status, 200, r.text);
        const replies = [JSON.parse(r.text)].flat();
        for (const rep of replies) {
          assert.equal(rep.jsonrpc, "2.0");
          if (rep.error !== undefined) {
            assert.ok(Number.isInteger(rep.error.code) && typeof rep.error.message === "string", r.text);
            // An internal error would be a handler throwing on input it should have refused.
            assert.notEqual(rep.error.code, -32603, `${JSON.stringify(body)} -> ${r.text}`);
          } else assert.ok("result" in rep, r.text);
        }
      }),
      { numRuns: 300 },
    );
    const status = await post({ jsonrpc: "2.0", id: 1, method: "node_status" });
    assert.equal(JSON.parse(status.text).result.account.length, 40);
  });
});
