import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RpcCallError, RpcClient, readCookie } from "../src/rpc/client.js";
import { RpcError, RpcErrorCode, RpcServer } from "../src/rpc/server.js";
import { tmpDir } from "./helpers/tmp.js";

const TOKEN = "fedcba9876543210fedcba9876543210";
const server = new RpcServer({
  token: TOKEN,
  methods: {
    node_add: (p) => {
      if (!Array.isArray(p) || p.length !== 2)
        throw new RpcError(RpcErrorCode.INVALID_PARAMS, "two numbers", { got: p });
      return (p[0] as number) + (p[1] as number);
    },
  },
});
before(() => server.start());
after(() => server.stop());

describe("RPC client", () => {
  it("calls, and batches in order, with the token from rpc.cookie", async () => {
    const dir = tmpDir("leither-cookie-");
    writeFileSync(join(dir, "rpc.cookie"), `${TOKEN}\n`);
    const c = new RpcClient(server.url, await readCookie(dir));
    assert.equal(await c.call<number>("node_add", [20, 22]), 42);
    const [a, b, e] = await c.batch([
      { method: "node_add", params: [1, 2] },
      { method: "node_add", params: [3, 4] },
      { method: "node_nope" },
    ]);
    assert.equal(a, 3);
    assert.equal(b, 7);
    assert.ok(e instanceof RpcCallError && e.code === -32601);
  });

  it("a server error keeps its code and data; a wrong token or no server is a transport error", async () => {
    const c = new RpcClient(server.url, TOKEN);
    await assert.rejects(
      c.call("node_add", [1]),
      (e: unknown) =>
        e instanceof RpcCallError && e.code === -32602 && (e.data as { got: unknown }).got !== undefined,
    );
    await assert.rejects(
      new RpcClient(server.url, "not-the-token").call("node_add", [1, 1]),
      (e: unknown) => e instanceof RpcCallError && e.code === 0 && e.status === 401,
    );
    await assert.rejects(
      new RpcClient("http://127.0.0.1:1/", TOKEN, { timeoutMs: 2000 }).call("node_add", [1, 1]),
      (e: unknown) => e instanceof RpcCallError && e.code === 0 && /cannot reach/.test(e.message),
    );
  });
});
