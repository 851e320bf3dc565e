/**
 * End to end: one `leither start` child process, driven over its JSON-RPC API the way a script
 * would (LeitherClient), and by raw HTTP for what the client cannot send.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { TxKind } from "../src/ledger/tx.js";
import { countersign, signTx } from "../src/ledger/tx-codec.js";
import { type LeitherApi, METHODS, type MethodName, type MethodSpec, paramsSchema } from "../src/rpc/api.js";
import { type LeitherClient, RpcCallError } from "../src/rpc/client.js";
import { RpcErrorCode } from "../src/rpc/errors.js";
import { validate } from "../src/rpc/schema.js";
import { proofFromJson, summaryFromJson } from "../src/smt/proof.js";
import { verifyProof } from "../src/smt/verify.js";
import {
  cleanupDaemons,
  type Daemon,
  daemonDir,
  EventLog,
  spawnDaemon,
  stopDaemon,
  waitReady,
  within,
} from "./helpers/daemon.js";

const NAMES = Object.keys(METHODS) as MethodName[];
const SPECS = METHODS as Record<string, MethodSpec>;

let daemon: Daemon;
let client: LeitherClient;
let url: string;
let token: string;

/** Methods called with valid params whose result (or expected error) was checked. */
const covered = new Set<string>();

/** Calls `m` and checks the result against the method table's result schema. */
async function req<M extends MethodName>(
  m: M,
  params: LeitherApi[M]["params"] = {} as LeitherApi[M]["params"],
): Promise<LeitherApi[M]["result"]> {
  const r = await client.call<LeitherApi[M]["result"]>(m, params);
  assert.equal(validate(SPECS[m]!.result, r, "result"), undefined, `${m} result fits its schema`);
  covered.add(m);
  return r;
}

/** Calls `m` expecting a JSON-RPC error with `code`; returns it. */
async function reqError(m: string, params: unknown, code: number): Promise<RpcCallError> {
  try {
    await client.call(m, params);
  } catch (err) {
    assert.ok(err instanceof RpcCallError, String(err));
    assert.equal(err.code, code, `${m}: ${err.message}`);
    return err;
  }
  assert.fail(`${m} ${JSON.stringify(params)} succeeded; expected error ${code}`);
}

/** A raw HTTP POST; `auth: null` sends no Authorization header. */
async function post(body: string | Buffer, auth: string | null = `Bearer ${token}`) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth !== null) headers.authorization = auth;
  const r = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  let json: unknown;
  if (r.headers.get("content-type")?.includes("json")) json = JSON.parse(text);
  return {
    status: r.status,
    text,
    json: json as Record<string, unknown> & { error?: { code: number; message: string } },
  };
}

async function get(path: string, auth: string | null = `Bearer ${token}`) {
  const headers: Record<string, string> = {};
  if (auth !== null) headers.authorization = auth;
  const r = await fetch(new URL(path, url), { headers, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}

const call = (method: string, params?: unknown, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

describe("leither start, over JSON-RPC", { timeout: 40_000 }, () => {
  before(async () => {
    daemon = spawnDaemon(daemonDir());
    client = await waitReady(daemon, 0, 10_000);
    url = client.url;
    token = readFileSync(join(daemon.dataDir, "rpc.cookie"), "utf8").trim();
  });

  after(async () => {
    try {
      if (daemon !== undefined) {
        const exit = await stopDaemon(daemon, "SIGTERM", 10_000);
        assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM exit; stderr: ${daemon.out.stderr}`);
      }
    } finally {
      await cleanupDaemons();
    }
  });

  it("rpc.discover lists exactly the method table, with its params and results", async () => {
    const doc = await client.call<{
      methods: {
        name: string;
        params: { name: string; required: boolean; schema: unknown; description?: string }[];
        result: { schema: unknown };
      }[];
    }>("rpc.discover");
    assert.deepEqual(new Set(doc.methods.map((m) => m.name)), new Set(NAMES));
    assert.equal(doc.methods.length, NAMES.length, "no method listed twice");
    for (const m of doc.methods) {
      const spec = SPECS[m.name]!;
      assert.deepEqual(
        m.params.map((p) => p.name),
        spec.params.map((p) => p.name),
        `${m.name} params`,
      );
      for (const [i, p] of m.params.entries()) {
        const s = spec.params[i]!;
        assert.equal(p.required, s.required === true, `${m.name}.${p.name} required`);
        assert.deepEqual(p.schema, s.schema, `${m.name}.${p.name} schema`);
        assert.equal(p.description, s.description, `${m.name}.${p.name} description`);
      }
      // The params as the server checks them are what the document says.
      assert.deepEqual(
        {
          type: "object",
          properties: Object.fromEntries(m.params.map((p) => [p.name, p.schema])),
          required: m.params.filter((p) => p.required).map((p) => p.name),
          additionalProperties: false,
        },
        paramsSchema(spec),
        `${m.name} params schema`,
      );
      assert.deepEqual(m.result.schema, spec.result, `${m.name} result`);
    }
  });

  it("every method of the table is served (a stray param gets INVALID_PARAMS, not METHOD_NOT_FOUND)", async () => {
    const replies = await client.batch(NAMES.map((method) => ({ method, params: { __probe: 1 } })));
    for (const [i, r] of replies.entries()) {
      assert.ok(r instanceof RpcCallError, `${NAMES[i]} answered a stray param with a result`);
      assert.equal(r.code, RpcErrorCode.INVALID_PARAMS, `${NAMES[i]}: ${r.message}`);
      // Checked by the method's own params schema: a required param first, else the stray one.
      assert.match(r.message, SPECS[NAMES[i]!]!.params.some((p) => p.required) ? /is required/ : /__probe/);
    }
  });

  it("every method answers valid params with a result that fits its schema", async () => {
    const info = await req("node_info");
    assert.equal(info.dataDir, daemon.dataDir);
    assert.equal(info.rpc, url);
    assert.equal(info.pulsePeriodMs, 200);
    const health = await req("node_health");
    assert.equal(health.ok, true);
    const status = await req("node_status");
    assert.equal(status.account, info.account);
    const org = await req("org_info");
    assert.equal(org.id, info.org);
    assert.equal(org.pulsePeriodMs, 200);
    await reqError("org_create", { name: "Second" }, RpcErrorCode.ORG_EXISTS);
    covered.add("org_create");
    await req("pulse_current");
    const committee = await req("committee_info");
    assert.deepEqual(
      committee.serving.members,
      [info.account],
      "cycle 0: the supervisor (test/rpc-committee.test.ts)",
    );

    const k = await req("keys_new");
    assert.equal(k.node, false);
    // A committee of one still certifies its pulses: the genesis has none, pulse 1 (below) will.
    assert.equal(await req("pulse_certificate", { pulse: 0 }), null);
    assert.deepEqual(await req("committee_evidence"), { evidence: [] });
    const keys = await req("keys_list");
    assert.ok(keys.keys.some((x) => x.id === k.id));
    assert.ok(keys.keys.some((x) => x.id === info.account && x.node));

    // A transfer to a key the node holds: signed and countersigned here.
    const t = await req("tx_transfer", { to: k.id, amount: "1000", wait: true });
    assert.equal(t.state, "accepted", JSON.stringify(t));
    const cert = await req("pulse_certificate", { pulse: (t as { pulse: number }).pulse });
    assert.ok(cert !== null);
    assert.deepEqual(cert.signers, [info.account], "signed by the committee of one");
    assert.equal(cert.proposer, info.account);
    const p = t.pulse!;
    assert.ok(p >= 1);
    assert.deepEqual(await req("tx_status", { txId: t.txId }), t);
    const receipt = await req("tx_receipt", { txId: t.txId });
    assert.equal(receipt.pulse, p);
    assert.deepEqual(new Set(receipt.proofs.map((x) => x.account)), new Set([info.account, k.id]));
    for (const x of receipt.proofs)
      assert.equal(verifyProof(proofFromJson(x.proof), summaryFromJson(receipt.root)).result, "inclusion");
    const root = await req("ledger_getRoot", { pulse: p });
    assert.deepEqual(root, receipt.root);
    assert.deepEqual(await req("pulse_get", { pulse: p }), { pulse: p, root });
    assert.deepEqual(await req("ledger_getRoot"), (await req("node_status")).root);

    const now = await req("ledger_getAccount", { account: k.id, pulse: p });
    assert.equal(now.exists, true);
    assert.equal(now.amount, "1000");
    const before = await req("ledger_getAccount", { account: k.id, pulse: p - 1 });
    assert.equal(before.exists, false);
    assert.equal(before.amount, "0");
    const mine = await req("ledger_getAccount");
    assert.equal(mine.account, info.account);
    const proofNow = await req("ledger_getProof", { account: k.id, pulse: p });
    assert.deepEqual(proofNow.root, root);
    assert.equal(verifyProof(proofFromJson(proofNow.proof), summaryFromJson(root)).result, "inclusion");
    const proofBefore = await req("ledger_getProof", { account: k.id, pulse: p - 1 });
    assert.equal(
      verifyProof(proofFromJson(proofBefore.proof), summaryFromJson(proofBefore.root)).result,
      "exclusion",
    );
    await req("ledger_getProof");

    // A payee whose key the node does not hold: the half-signed transfer comes back in data.tx.
    const x = new Signer(generateKeyPair());
    const xId = x.id.toString("hex");
    const half = await reqError("tx_transfer", { to: xId, amount: "500" }, RpcErrorCode.PAYEE_SIGNATURE);
    const halfTx = (half.data as { tx: string }).tx;
    assert.match(halfTx, /^([0-9a-f]{2})+$/);
    const funded = await req("tx_submit", {
      tx: countersign(Buffer.from(halfTx, "hex"), x).toString("hex"),
      wait: true,
    });
    assert.equal(funded.state, "accepted", JSON.stringify(funded));

    // x pays k: x signs here, the node countersigns for k (tx_sign), then it is submitted.
    const head = (await req("node_status")).pulse!;
    const body = {
      kind: TxKind.Transfer,
      org: Buffer.from(org.id, "hex"),
      actor: x.id,
      nonce: 1n,
      expiry: head + 10,
      to: Buffer.from(k.id, "hex"),
      amount: 7n,
    } as const;
    const { tx, bytes } = signTx(body, [x]);
    const signed = await req("tx_sign", { tx: bytes.toString("hex"), account: k.id });
    assert.equal(signed.txId, tx.id.toString("hex"));
    assert.notEqual(signed.tx, bytes.toString("hex"));
    const pending = await req("tx_submit", { tx: signed.tx });
    assert.equal(pending.state, "pending");
    assert.equal(pending.txId, signed.txId);
    const done = await req("tx_submit", { tx: signed.tx, wait: true });
    assert.equal(done.state, "accepted", JSON.stringify(done));
    assert.equal((await req("ledger_getAccount", { account: k.id })).amount, "1007");
    assert.equal((await req("ledger_getAccount", { account: xId })).amount, "493");

    // The network's methods on a lone node (test/net-e2e.test.ts runs them across nodes).
    const net = await req("net_info");
    assert.equal(net.enabled, true);
    assert.match(net.peerId!, /^12D3KooW/);
    assert.ok(net.addrs.every((a) => a.startsWith("/ip4/127.0.0.1/tcp/")));
    assert.equal(net.joined, null);
    assert.deepEqual(await req("org_applications"), { applications: [] });
    // x never applied: the approval is signed and rejected by the state machine.
    const approval = await req("org_approve", { account: xId, role: "guest" });
    assert.equal(approval.state, "rejected");
    assert.equal(approval.reason, "NOT_APPLICANT");
    assert.deepEqual(await req("msg_send", { text: "to the group, nobody listening yet" }), { sent: true });
    assert.deepEqual(await req("msg_list"), { messages: [] });
    await reqError("org_join", { org: xId }, RpcErrorCode.ORG_EXISTS);
    covered.add("org_join");

    assert.deepEqual(
      NAMES.filter((n) => !covered.has(n)),
      [],
      "every method was called with valid params",
    );
  });

  it("concurrent transfers with wait from one payer in one slot are each accepted", async () => {
    const k = await req("keys_new");
    const replies = await Promise.all(
      [1, 2, 3].map((amount) => req("tx_transfer", { to: k.id, amount: String(amount), wait: true })),
    );
    assert.deepEqual(
      replies.map((r) => [r.state, r.reason]),
      replies.map(() => ["accepted", undefined]),
      JSON.stringify(replies),
    );
    assert.equal((await req("ledger_getAccount", { account: k.id })).amount, "6");
  });

  it("bad input gets its error, and changes nothing", async () => {
    const k = await req("keys_new");
    const before = await req("node_status");
    const rpcCases: [string, string | Buffer, number, RegExp?][] = [
      ["malformed JSON", "{not json", RpcErrorCode.PARSE_ERROR],
      [
        "a wrong param type",
        call("tx_transfer", { to: 5, amount: "1" }),
        RpcErrorCode.INVALID_PARAMS,
        /\bto\b/,
      ],
      ["a pulse as a string", call("pulse_get", { pulse: "1" }), RpcErrorCode.INVALID_PARAMS, /\bpulse\b/],
      [
        "an amount as a number",
        call("tx_transfer", { to: k.id, amount: 1 }),
        RpcErrorCode.INVALID_PARAMS,
        /amount/,
      ],
      ["an unknown param", call("node_status", { bogus: 1 }), RpcErrorCode.INVALID_PARAMS, /bogus/],
      ["params as an array", call("tx_status", ["ab".repeat(32)]), RpcErrorCode.INVALID_PARAMS, /by name/],
      ["an unknown method", call("node_bogus", {}), RpcErrorCode.METHOD_NOT_FOUND],
      ["an empty batch", "[]", RpcErrorCode.INVALID_REQUEST],
      ["amount 0", call("tx_transfer", { to: k.id, amount: "0" }), RpcErrorCode.INVALID_PARAMS, /amount/],
      [
        "an amount above u64",
        call("tx_transfer", { to: k.id, amount: "18446744073709551616" }),
        RpcErrorCode.INVALID_PARAMS,
        /amount/,
      ],
      [
        "a negative amount",
        call("tx_transfer", { to: k.id, amount: "-1" }),
        RpcErrorCode.INVALID_PARAMS,
        /amount/,
      ],
    ];
    for (const [what, body, code, message] of rpcCases) {
      const r = await post(body);
      assert.equal(r.status, 200, what);
      assert.equal(r.json.error?.code, code, `${what}: ${r.text}`);
      if (message !== undefined) assert.match(r.json.error!.message, message, what);
    }
    assert.equal((await req("node_status")).pending, 0, "nothing refused was queued");

    // HTTP level.
    const big = await post(call("node_echo", ["x".repeat(1024 * 1024 + 10)]));
    assert.equal(big.status, 413);
    assert.equal((await post(call("node_status"), null)).status, 401);
    assert.equal((await post(call("node_status"), "Bearer wrong-token-wrong-token-wrong")).status, 401);
    assert.equal((await post(call("node_status"), `Bearer ${token}x`)).status, 401);
    assert.equal((await post(call("node_status"), token)).status, 401, "no Bearer scheme");

    // A batch mixing good and bad calls: each is answered.
    const mixed = await post(
      `[${call("node_status", {}, "a")},${call("node_bogus", {}, "b")},${call("tx_status", { txId: 7 }, "c")},${JSON.stringify({ jsonrpc: "1.0", id: "d", method: "node_info" })},${call("node_info", undefined, "e")}]`,
    );
    assert.equal(mixed.status, 200);
    const byId = new Map(
      (mixed.json as unknown as { id: string; result?: unknown; error?: { code: number } }[]).map((r) => [
        r.id,
        r,
      ]),
    );
    assert.equal(byId.size, 5);
    assert.equal(validate(METHODS.node_status.result, byId.get("a")!.result), undefined);
    assert.equal(byId.get("b")!.error!.code, RpcErrorCode.METHOD_NOT_FOUND);
    assert.equal(byId.get("c")!.error!.code, RpcErrorCode.INVALID_PARAMS);
    assert.equal(byId.get("d")!.error!.code, RpcErrorCode.INVALID_REQUEST);
    assert.equal(validate(METHODS.node_info.result, byId.get("e")!.result), undefined);
    const viaClient = await client.batch([
      { method: "node_health" },
      { method: "pulse_get", params: { pulse: -1 } },
      { method: "keys_list" },
    ]);
    assert.equal(validate(METHODS.node_health.result, viaClient[0]), undefined);
    assert.equal((viaClient[1] as RpcCallError).code, RpcErrorCode.INVALID_PARAMS);
    assert.equal(validate(METHODS.keys_list.result, viaClient[2]), undefined);

    // Refused by the node's state.
    const refused = await reqError("tx_submit", { tx: "00ff" }, RpcErrorCode.TX_REFUSED);
    assert.deepEqual(refused.data, { reason: "DECODE" });
    const unknown = await reqError("tx_receipt", { txId: "ab".repeat(32) }, RpcErrorCode.NOT_FOUND);
    assert.equal((unknown.data as { state: string }).state, "unknown");
    const future = await reqError("pulse_get", { pulse: before.pulse! + 1000 }, RpcErrorCode.NOT_RETAINED);
    assert.ok((future.data as { retained: unknown }).retained !== undefined);
    await reqError("ledger_getRoot", { pulse: before.pulse! + 1000 }, RpcErrorCode.NOT_RETAINED);
    await reqError("ledger_getAccount", { pulse: before.pulse! + 1000 }, RpcErrorCode.NOT_RETAINED);
    await reqError("tx_transfer", { to: k.id, amount: "1", from: "00".repeat(20) }, RpcErrorCode.KEY_UNKNOWN);

    // More than the balance: decided at the end of the pulse, rejected, and nothing changes.
    const tooMuch = await req("tx_transfer", { to: k.id, amount: "18446744073709551615", wait: true });
    assert.equal(tooMuch.state, "rejected", JSON.stringify(tooMuch));
    assert.equal(tooMuch.reason, "INSUFFICIENT_FUNDS");
    assert.deepEqual(await req("tx_status", { txId: tooMuch.txId }), tooMuch);
    await reqError("tx_receipt", { txId: tooMuch.txId }, RpcErrorCode.NOT_FOUND);

    const after = await req("node_status");
    assert.equal(after.pulse, before.pulse, "no pulse was made");
    assert.deepEqual(after.root, before.root);
    assert.equal(after.pending, 0);
    assert.equal((await req("ledger_getAccount", { account: k.id })).exists, false);
  });

  it("events stream pulses and verdicts; /events refuses unknown topics; /metrics serves Prometheus text", async () => {
    const k = await req("keys_new");
    const log = new EventLog(client, ["pulse", "heartbeat", "tx"]);
    try {
      // The stream is open once it carries an event (a heartbeat comes every idle slot).
      await log.waitFor(() => true, 10_000, "the first event");
      const t = await req("tx_transfer", { to: k.id, amount: "5", wait: true });
      assert.equal(t.state, "accepted");
      const v = await log.waitFor(
        (e) => e.event === "tx.verdict" && (e.data as { txId: string }).txId === t.txId,
        5_000,
        "tx.verdict",
      );
      assert.deepEqual(v.data, t);
      const p = await log.waitFor(
        (e) => e.event === "pulse.final" && (e.data as { pulse: number }).pulse === t.pulse,
        5_000,
        "pulse.final",
      );
      const final = p.data as { root: unknown; accepted: number };
      assert.deepEqual(final.root, await req("ledger_getRoot", { pulse: t.pulse! }));
      assert.ok(final.accepted >= 1);
      assert.equal(log.error, undefined);
    } finally {
      await log.stop();
    }

    const bogus = await get("events?topics=bogus");
    assert.equal(bogus.status, 400);
    assert.equal((await get("events?topics=pulse", null)).status, 401);

    const metrics = await get("metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /^text\/plain/);
    for (const name of [
      "leither_pulse_height",
      "leither_pending_transactions",
      "leither_transactions_total",
      "leither_rpc_seconds",
    ])
      assert.match(metrics.text, new RegExp(`^# TYPE ${name} `, "m"), name);
    assert.match(metrics.text, /^leither_transactions_total\{result="accepted",reason=""\} [1-9]/m);
    const height = Number(/^leither_pulse_height (\d+)$/m.exec(metrics.text)?.[1]);
    assert.equal(height, (await req("node_status")).pulse);
    assert.equal((await get("metrics", null)).status, 401);
    assert.equal((await get("metrics", "Bearer nope")).status, 401);
  });

  it("a second daemon on the same data dir, or on the same port, fails at once with one line", async () => {
    const same = spawnDaemon(daemon.dataDir);
    const e1 = await within(same.exit, 10_000, "the second daemon on the same data dir");
    assert.notEqual(e1.code, 0);
    assert.equal(e1.signal, null);
    const l1 = same.out.stderr.trim().split("\n");
    assert.equal(l1.length, 1, same.out.stderr);
    assert.match(l1[0]!, /in use/);
    assert.match(l1[0]!, /data dir/);
    assert.ok(l1[0]!.includes(daemon.dataDir), l1[0]);

    const port = Number(
      new URL((JSON.parse(readFileSync(join(daemon.dataDir, "rpc.json"), "utf8")) as { url: string }).url)
        .port,
    );
    const other = spawnDaemon(daemonDir(), { rpcPort: port });
    const e2 = await within(other.exit, 10_000, "the second daemon on the same port");
    assert.notEqual(e2.code, 0);
    assert.equal(e2.signal, null);
    const l2 = other.out.stderr.trim().split("\n");
    assert.equal(l2.length, 1, other.out.stderr);
    assert.match(l2[0]!, new RegExp(`port ${port}\\b.*in use`));

    // The first daemon did not notice.
    assert.equal(JSON.parse(readFileSync(join(daemon.dataDir, "rpc.json"), "utf8")).pid, daemon.child.pid);
    assert.equal((await req("node_health")).ok, true);
  });
});
