import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { RpcError, RpcErrorCode, RpcServer } from "../src/rpc/server.js";

const TOKEN = "0123456789abcdef0123456789abcdef";
const errors: [unknown, string][] = [];
const server = new RpcServer({
  token: TOKEN,
  maxBodyBytes: 4096,
  maxBatch: 5,
  timeoutMs: 200,
  onError: (e, m) => errors.push([e, m]),
  methods: {
    node_echo: (params) => params,
    node_add: (params) => {
      if (!Array.isArray(params) || params.length !== 2 || !params.every((x) => typeof x === "number"))
        throw new RpcError(RpcErrorCode.INVALID_PARAMS, "node_add takes two numbers", { got: params });
      return (params[0] as number) + (params[1] as number);
    },
    node_crash: () => {
      throw new Error("secret internals");
    },
    node_slow: (_p, { signal }) =>
      new Promise((resolve) => signal.addEventListener("abort", () => resolve("late"))),
  },
});

before(() => server.start());
after(() => server.stop());

/** `token: null` sends no Authorization header. */
async function post(body: string, token: string | null = TOKEN) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const r = await fetch(server.url, { method: "POST", headers, body });
  const text = await r.text();
  return {
    status: r.status,
    text,
    json: r.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined,
  };
}
const call = (method: string, params?: unknown, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

describe("JSON-RPC server", () => {
  it("listens on 127.0.0.1 only", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("answers a call, and a batch in order (notifications get no reply)", async () => {
    const one = await post(call("node_add", [2, 3]));
    assert.deepEqual(one.json, { jsonrpc: "2.0", id: 1, result: 5 });
    const batch = await post(
      `[${call("node_add", [1, 1], "a")},${JSON.stringify({ jsonrpc: "2.0", method: "node_echo", params: [9] })},${call("nope", [], "b")}]`,
    );
    assert.deepEqual(batch.json, [
      { jsonrpc: "2.0", id: "a", result: 2 },
      { jsonrpc: "2.0", id: "b", error: { code: -32601, message: "no method nope" } },
    ]);
    const onlyNotes = await post(JSON.stringify({ jsonrpc: "2.0", method: "node_echo" }));
    assert.equal(onlyNotes.status, 204);
  });

  it("no token or a wrong one: 401, nothing called", async () => {
    for (const t of [null, "wrong", `${TOKEN}x`, TOKEN.toUpperCase(), ""]) {
      const r = await post(call("node_crash"), t);
      assert.equal(r.status, 401);
    }
    assert.equal(errors.length, 0, "node_crash never ran");
  });

  it("bad input gets its JSON-RPC error and the server goes on", async () => {
    const cases: [string, number][] = [
      ["{not json", -32700],
      ["[]", -32600],
      [`[${Array(6).fill(call("node_echo")).join(",")}]`, -32600],
      ["42", -32600],
      [JSON.stringify({ jsonrpc: "1.0", id: 1, method: "node_echo" }), -32600],
      [JSON.stringify({ jsonrpc: "2.0", id: 1, method: 7 }), -32600],
      [JSON.stringify({ jsonrpc: "2.0", id: {}, method: "node_echo" }), -32600],
      [JSON.stringify({ jsonrpc: "2.0", id: 1, method: "node_echo", params: "x" }), -32600],
      [call("__proto__"), -32601],
      [call("toString"), -32601],
    ];
    for (const [body, code] of cases) {
      const r = await post(body);
      assert.equal(r.status, 200, body);
      assert.equal((Array.isArray(r.json) ? r.json[0] : r.json).error.code, code, body);
    }
    const wrongParams = await post(call("node_add", ["a"]));
    assert.deepEqual(wrongParams.json.error, {
      code: -32602,
      message: "node_add takes two numbers",
      data: { got: ["a"] },
    });
    assert.deepEqual((await post(call("node_add", [1, 2]))).json.result, 3);
  });

  it("a handler's failure is an internal error without its details; a slow one times out", async () => {
    const r = await post(call("node_crash"));
    assert.deepEqual(r.json.error, { code: -32603, message: "internal error in node_crash" });
    assert.doesNotMatch(r.text, /secret/);
    assert.equal(errors.at(-1)![1], "node_crash");
    const slow = await post(call("node_slow"));
    assert.equal(slow.json.error.code, -32000);
  });

  it("an oversize body: 413; other paths and methods: 404", async () => {
    const big = await post(call("node_echo", ["x".repeat(5000)]));
    assert.equal(big.status, 413);
    const get = await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(get.status, 404);
    await get.text();
    assert.deepEqual((await post(call("node_add", [4, 4]))).json.result, 8);
  });

  it("a port in use fails at once with a clear message", async () => {
    const port = Number(new URL(server.url).port);
    const second = new RpcServer({ token: TOKEN, port, methods: {} });
    await assert.rejects(second.start(), /port \d+ on 127\.0\.0\.1 is in use/);
  });
});

describe("JSON-RPC server: stopping", () => {
  it("finishes a call in flight, closes its kept-alive connection, refuses new ones, and does not hang", async () => {
    const { Agent, request } = await import("node:http");
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const s = new RpcServer({
      token: TOKEN,
      methods: {
        node_wait: () =>
          new Promise<string>((r) => {
            release = () => r("done");
            entered();
          }),
      },
    });
    await s.start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
        const req = request(
          s.url,
          {
            method: "POST",
            agent,
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          },
          (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const inFlight = post(call("node_wait"));
    await inside;
    const t0 = performance.now();
    const stopped = s.stop(2000);
    release();
    const r = await inFlight;
    assert.equal(JSON.parse(r.text).result, "done");
    assert.equal(r.headers.connection, "close", "a response sent while stopping closes its connection");
    await stopped;
    assert.ok(performance.now() - t0 < 1500, "stop does not wait for the keep-alive timeout");
    await assert.rejects(post(call("node_wait")), /ECONNREFUSED|socket hang up|ECONNRESET/);
    agent.destroy();
  });
});
