/**
 * The network's messages (docs/PROTOCOL.md §11) against test/vectors/net-wire.json: encoding each
 * vector's inputs gives its bytes, decoding gives its fields, the request server answers each
 * request as recorded, a changed bit anywhere in a signed message (or in an answer proven against a
 * signed statement) is refused, and the decoders are bounded: whatever bytes a peer sends, they end
 * in a DecodeError or a NetError, never another error, and over-limit sizes are refused.
 */

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { NodeMessageKind, signingPayload } from "../src/crypto/domain.js";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { memberRecordKey, validateRecord } from "../src/dht/records.js";
import {
  decodeGroupMessage,
  decodeList,
  decodePulseFinal,
  decodeRequest,
  decodeResponse,
  encodeList,
  errorResponse,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_TEXT_BYTES,
  NetError,
  NetErrorCode,
  Op,
  okResponse,
  REQUEST_SKEW_MS,
  signGroupMessage,
  signPulseFinal,
  signRequest,
} from "../src/dht/wire.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { Tx } from "../src/ledger/tx.js";
import { checkInfo, groupTopic, pulseTopic, txTopic } from "../src/org/discovery.js";
import {
  checkedFinal,
  checkProven,
  checkReceipt,
  decodeIds,
  decodeStatus,
  encodeIds,
  encodeProven,
  encodeStatus,
  MAX_ACCOUNTS_PER_REQUEST,
  verifiedTx,
} from "../src/org/protocol.js";
import { type Joined, orgServer } from "../src/org/server.js";
import type { TxStatus } from "../src/pulse/bookkeeper.js";
import { decodeHeartbeat, signHeartbeat, verifyHeartbeat } from "../src/pulse/heartbeat.js";
import { DecodeError, Reader, Writer } from "../src/util/bytes.js";
import { readText } from "../src/util/text.js";
import { testBooks } from "./helpers/books.js";

const v = JSON.parse(readFileSync(new URL("../../test/vectors/net-wire.json", import.meta.url), "utf8"));

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s, "hex");
/** JSON of a value as the vectors write it: byte strings hex, bigints decimal strings. */
function json(x: unknown): unknown {
  if (x instanceof Uint8Array) return hex(x);
  if (typeof x === "bigint") return x.toString();
  if (Array.isArray(x)) return x.map(json);
  if (x !== null && typeof x === "object")
    return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, json(y)]));
  return x;
}

const keys = new Map<string, Signer>(
  v.keys.map((k: { name: string; seed: string }) => [k.name, new Signer(generateKeyPair(unhex(k.seed)))]),
);
const key = (name: string) => keys.get(name)!;
const org = unhex(v.org);
const sup = key("sup");
const NOW: number = v.nowMs;
const head = v.pulseStatements[0];
const headFinal = decodePulseFinal(unhex(head.hex));

interface RequestVector {
  name: string;
  node: "bookkeeper" | "bob";
  signer: string;
  fields: { org: string; from: string; timeMs: number; op: number; opName: string; body: string };
  body: Record<string, unknown>;
  hex: string;
  response: {
    hex: string;
    ok: boolean;
    body?: string;
    fields?: Record<string, unknown>;
    code?: string;
    message?: string;
  };
}
const requests: RequestVector[] = v.requests;
const ok = (name: string) => requests.find((r) => r.name.startsWith(name) && r.response.ok)!;

/** Signs a message made by hand (what the encoders refuse to make). */
const signRaw = (message: Buffer, s: Signer) =>
  Buffer.concat([message, s.publicKey, s.sign(signingPayload(message))]);

/** Expects a DecodeError (or a NetError when `net`). */
function refused(fn: () => unknown, what: string, net = false): void {
  assert.throws(fn, (err: unknown) => err instanceof DecodeError || (net && err instanceof NetError), what);
}

/** The ledger of the vectors' scenario, and the two servers of the generator. */
async function world() {
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  for (const p of v.scenario.pulses) {
    // The generator's stand-in certificates (opaque to the server), so that Pulses answers as recorded.
    const certificate = p.pulse === 0 ? {} : { certificate: Buffer.from(`certificate of pulse ${p.pulse}`) };
    const out = await ledger.applyPulse(p.pulse, p.txs.map(unhex), certificate);
    assert.ok(
      out.results.every((r) => r.ok),
      `pulse ${p.pulse}`,
    );
    assert.deepEqual(json(out.root), p.root, `pulse ${p.pulse}'s root`);
  }
  const h = ledger.head!;
  const statement = signPulseFinal({ org, slot: head.fields.slot, pulse: h, root: ledger.rootAt(h) }, sup);
  assert.equal(hex(statement), head.hex, "the head's statement");
  const books = testBooks(ledger, (pulse) =>
    pulse === h ? statement : signPulseFinal({ org, slot: 0, pulse, root: ledger.rootAt(pulse) }, sup),
  );
  const applied: string[] = [];
  const received: string[] = [];
  const countersigned: Tx[] = [];
  const bookkeeper = orgServer({
    books: () => books,
    joined: () => undefined,
    key: (id) => (id === hex(sup.id) ? sup : undefined),
    autoCountersign: true,
    applied: (a) => applied.push(hex(a.account)),
    received: (m) => received.push(`${m.from}>${m.to}:${m.text}`),
    now: () => NOW,
  });
  const joined: Joined = {
    org,
    info: () => [books.genesis(), statement],
    role: async (id) => ledger.account(id)?.role ?? Role.None,
    forward: (request, signal) => bookkeeper(request, signal),
    countersigned: (tx) => countersigned.push(tx),
  };
  const bob = orgServer({
    books: () => undefined,
    joined: () => joined,
    key: (id) => (id === hex(key("bob").id) ? key("bob") : undefined),
    autoCountersign: true,
    applied: (a) => applied.push(hex(a.account)),
    received: (m) => received.push(`${m.from}>${m.to}:${m.text}`),
    now: () => NOW,
  });
  return { ledger, servers: { bookkeeper, bob }, applied, received, countersigned };
}

describe("network vectors (docs/PROTOCOL.md §11)", () => {
  it("keys, topics and the member record key", () => {
    for (const k of v.keys) {
      assert.equal(hex(key(k.name).publicKey), k.publicKey);
      assert.equal(hex(key(k.name).id), k.id);
    }
    assert.equal(hex(key("org").id), v.org);
    assert.deepEqual(v.topics, {
      pulse: pulseTopic(org),
      tx: txTopic(org),
      group: groupTopic(org),
    });
    assert.equal(v.topics.pulse, `/leither/1/${v.org}/pulse`);
    assert.equal(Buffer.from(memberRecordKey(org, key("carol").id)).toString(), v.memberRecordKey);
  });

  it("requests: signing the fields gives the bytes, decoding gives the fields", () => {
    assert.ok(requests.length >= 9);
    const ops = new Set(requests.map((r) => r.fields.op));
    for (const op of Object.values(Op)) assert.ok(ops.has(op), `a vector of op ${op}`);
    for (const r of requests) {
      const f = r.fields;
      const bytes = signRequest(
        { org: unhex(f.org), op: f.op as Op, body: unhex(f.body), timeMs: f.timeMs },
        key(r.signer),
      );
      assert.equal(hex(bytes), r.hex, r.name);
      const d = decodeRequest(bytes);
      assert.deepEqual(
        {
          org: hex(d.org),
          from: hex(d.from),
          timeMs: d.timeMs,
          op: d.op,
          opName: f.opName,
          body: hex(d.body),
        },
        f,
        r.name,
      );
      assert.equal(Op[f.opName as keyof typeof Op], f.op);
      assert.equal(bytes.length, 151 + d.body.length, "a request is 151 bytes and its body");
      // The layout, field by field.
      assert.equal(bytes[0], 1);
      assert.equal(bytes[1], NodeMessageKind.NetRequest);
      assert.equal(hex(bytes.subarray(2, 22)), f.org);
      assert.equal(hex(bytes.subarray(22, 42)), f.from);
      assert.equal(Number(bytes.readBigUInt64BE(42)), f.timeMs);
      assert.equal(bytes[50], f.op);
      assert.equal(bytes.readUInt32BE(51), d.body.length);
      assert.equal(hex(bytes.subarray(55 + d.body.length, 87 + d.body.length)), hex(key(r.signer).publicKey));
      // The body's own fields.
      const body = d.body;
      switch (d.op) {
        case Op.Info:
          assert.equal(body.length, 0);
          break;
        case Op.Apply: {
          const [tx, record] = decodeList(body, 2, "application");
          assert.equal(hex(tx!), r.body.tx);
          assert.equal(hex(record!), r.body.record);
          assert.equal(hex(verifiedTx(tx!).id), r.body.txId);
          assert.equal(validateRecord(memberRecordKey(org, d.from), record!).kind, "member");
          break;
        }
        case Op.Submit:
        case Op.Countersign:
          assert.equal(hex(body), r.body.tx);
          assert.equal(hex(verifiedTx(body).id), r.body.txId);
          break;
        case Op.Accounts:
          assert.deepEqual(decodeIds(body).map(hex), r.body.ids);
          assert.equal(hex(encodeIds(decodeIds(body))), hex(body));
          break;
        case Op.Receipt:
        case Op.Status:
          assert.equal(hex(body), r.body.txId);
          break;
        case Op.Message: {
          const rd = new Reader(body);
          assert.equal(hex(rd.bytes(20, "to")), r.body.to);
          assert.equal(readText(rd, MAX_TEXT_BYTES, "text"), r.body.text);
          rd.end();
          break;
        }
        case Op.Role:
          assert.equal(hex(body), r.body.account);
          break;
      }
    }
  });

  it("the server answers each request as recorded, and the asker's checks pass on every answer", async () => {
    const w = await world();
    const signal = AbortSignal.timeout(10_000);
    for (const r of requests) {
      const res = Buffer.from(await w.servers[r.node](unhex(r.hex), signal));
      assert.equal(hex(res), r.response.hex, r.name);
      if (!r.response.ok) {
        assert.throws(
          () => decodeResponse(res),
          (err: unknown) =>
            err instanceof NetError && err.code === r.response.code && err.message === r.response.message,
          r.name,
        );
        continue;
      }
      const body = decodeResponse(res);
      assert.equal(hex(body), r.response.body, r.name);
      const f = r.response.fields!;
      const from = unhex(r.fields.from);
      switch (r.fields.op) {
        case Op.Info: {
          const view = checkInfo(body, org);
          assert.equal(hex(view.genesis), f.genesis);
          assert.equal(hex(view.latest.bytes), f.statement);
          assert.equal(view.params.name, v.scenario.params.name);
          assert.deepEqual(json(view.params), v.scenario.params);
          break;
        }
        case Op.Apply:
        case Op.Submit:
        case Op.Status:
          assert.deepEqual(decodeStatus(body), f);
          assert.equal(hex(encodeStatus(decodeStatus(body))), hex(body));
          break;
        case Op.Accounts: {
          const [finalBytes, ...entries] = decodeList(body, 1 + MAX_ACCOUNTS_PER_REQUEST, "accounts");
          const final = checkedFinal(finalBytes!, org, sup.id);
          assert.equal(hex(finalBytes!), f.statement);
          const want = f.entries as { entry: string; id: string; account: unknown }[];
          assert.equal(entries.length, want.length);
          entries.forEach((e, i) => {
            assert.equal(hex(e), want[i]!.entry);
            const p = checkProven(e, unhex(want[i]!.id), final);
            assert.deepEqual(p.account === undefined ? null : json(p.account), want[i]!.account);
            assert.ok(unhex(want[i]!.id).equals(from), "an account's leaf goes only to its owner");
          });
          break;
        }
        case Op.Receipt: {
          const rc = checkReceipt(body, unhex(r.body.txId as string), org, sup.id, [from]);
          assert.equal(hex(rc.txBytes), f.tx);
          assert.equal(rc.final.pulse, (f.statementFields as { pulse: number }).pulse);
          const entries = f.entries as { account: unknown }[];
          assert.deepEqual(json(rc.proofs[0]!.account), entries[0]!.account);
          break;
        }
        case Op.Countersign: {
          const tx = verifiedTx(body);
          assert.equal(tx.signatures.length, 2);
          assert.equal(hex(tx.id), r.body.txId);
          assert.equal(hex(body), f.tx);
          break;
        }
        case Op.Message:
          assert.equal(body.length, 0);
          break;
        case Op.Role:
          assert.equal(body.length, 9);
          assert.deepEqual({ role: body[0], head: Number(body.readBigUInt64BE(1)) }, f);
          break;
      }
    }
    // What the nodes did besides answering.
    assert.deepEqual(w.applied, [v.keys.find((k: { name: string }) => k.name === "carol").id]);
    assert.equal(w.received.length, 1);
    assert.equal(w.countersigned.length, 1);
    // A replayed direct message answers again but is delivered once.
    const msg = ok("Message");
    assert.equal(hex(await w.servers.bob(unhex(msg.hex), signal)), msg.response.hex);
    assert.equal(w.received.length, 1);
    await w.ledger.close();
  });

  it("pulse statements, and the heartbeat on the same topic", () => {
    for (const s of v.pulseStatements) {
      const f = s.fields;
      const root = { hash: unhex(f.root.hash), sum: BigInt(f.root.sum), count: f.root.count };
      const bytes = signPulseFinal({ org: unhex(f.org), slot: f.slot, pulse: f.pulse, root }, key(s.signer));
      assert.equal(hex(bytes), s.hex, s.name);
      assert.equal(bytes.length, 182);
      const d = decodePulseFinal(bytes);
      assert.deepEqual(
        { org: hex(d.org), slot: d.slot, pulse: d.pulse, root: json(d.root), signer: hex(d.signer) },
        f,
      );
      assert.equal(hex(d.bytes), s.hex);
      assert.equal(hex(checkedFinal(bytes, org, sup.id).signer), hex(sup.id));
      refused(() => checkedFinal(bytes, org, key("alice").id), "another bookkeeper");
      refused(() => checkedFinal(bytes, key("alice").id, sup.id), "another organization");
    }
    const hb = v.heartbeat;
    const bytes = signHeartbeat(
      { org, slot: hb.fields.slot, pulse: hb.fields.pulse, rootHash: unhex(hb.fields.rootHash) },
      key(hb.signer),
    );
    assert.equal(hex(bytes), hb.hex);
    assert.ok(verifyHeartbeat(bytes));
    assert.equal(hex(decodeHeartbeat(bytes).signer), hex(sup.id));
    // On the pulse topic a receiver tells them apart by the kind byte.
    assert.equal(bytes[1], NodeMessageKind.Heartbeat);
    assert.equal(unhex(head.hex)[1], NodeMessageKind.PulseFinal);
    refused(() => decodePulseFinal(bytes), "a heartbeat is not a statement");
    assert.equal(hex(unhex(head.hex).subarray(30, 38)), hex(bytes.subarray(30, 38)), "same pulse");
  });

  it("group messages", () => {
    for (const g of v.groupMessages) {
      const f = g.fields;
      const bytes = signGroupMessage({ org: unhex(f.org), text: f.text, timeMs: f.timeMs }, key(g.signer));
      assert.equal(hex(bytes), g.hex);
      const d = decodeGroupMessage(bytes);
      assert.deepEqual({ org: hex(d.org), from: hex(d.from), timeMs: d.timeMs, text: d.text }, f);
      assert.equal(
        bytes.length,
        147 + Buffer.byteLength(f.text),
        "146 bytes, the text's length byte and its text",
      );
    }
  });

  it("responses: OK and one of each error code", () => {
    for (const r of v.responses.ok) {
      const bytes = okResponse(unhex(r.body));
      assert.equal(hex(bytes), r.hex);
      assert.equal(hex(decodeResponse(bytes)), r.body);
    }
    assert.deepEqual(
      v.responses.errors.map((e: { code: string }) => e.code),
      Object.keys(NetErrorCode),
    );
    for (const e of v.responses.errors) {
      const bytes = errorResponse(new NetError(e.code, e.message));
      assert.equal(hex(bytes), e.hex);
      assert.equal(bytes[1], NetErrorCode[e.code as NetErrorCode]);
      assert.equal(e.codeNumber, NetErrorCode[e.code as NetErrorCode]);
      assert.throws(
        () => decodeResponse(bytes),
        (err: unknown) => err instanceof NetError && err.code === e.code && err.message === e.message,
      );
    }
    // What crosses to a peer is short and printable.
    const long = errorResponse(new NetError("BUSY", `a\nb\u0085${"x".repeat(400)}`));
    assert.throws(
      () => decodeResponse(long),
      (err: unknown) => err instanceof NetError && err.message === `a b ${"x".repeat(296)}`,
    );
  });

  it("lists, ids and statuses", () => {
    for (const l of v.lists) {
      assert.equal(hex(encodeList(l.items.map(unhex))), l.hex);
      assert.deepEqual(decodeList(unhex(l.hex), 2, "list").map(hex), l.items);
    }
    for (const l of v.ids) {
      assert.equal(hex(encodeIds(l.ids.map(unhex))), l.hex);
      assert.deepEqual(decodeIds(unhex(l.hex)).map(hex), l.ids);
    }
    const states = new Set<string>();
    for (const s of v.statuses) {
      assert.equal(hex(encodeStatus(s.status as TxStatus)), s.hex);
      assert.deepEqual(decodeStatus(unhex(s.hex)), s.status);
      states.add(s.status.state);
    }
    assert.deepEqual([...states], ["pending", "accepted", "rejected", "unknown"]);
  });

  it("account entries: inclusion and exclusion, checked against the head's statement", () => {
    const results = new Set<string>();
    for (const e of v.accountEntries) {
      const data = unhex(e.data);
      const bytes = encodeProven(data.length === 0 ? undefined : data, unhex(e.proof));
      assert.equal(hex(bytes), e.hex);
      const p = checkProven(bytes, unhex(e.id), headFinal);
      assert.deepEqual(p.account === undefined ? null : json(p.account), e.account);
      results.add(e.result);
      // Not for another account, not against another root.
      refused(() => checkProven(bytes, key("org").id, headFinal), "another account");
      const older = decodePulseFinal(unhex(v.pulseStatements[1].hex));
      if (e.result === "inclusion") refused(() => checkProven(bytes, unhex(e.id), older), "another root");
    }
    assert.deepEqual([...results].sort(), ["exclusion", "inclusion"]);
  });

  it("invalid inputs are refused with a DecodeError", () => {
    const txId = unhex(ok("Receipt").body.txId as string);
    const run: Record<string, (b: Buffer) => unknown> = {
      request: decodeRequest,
      pulseFinal: decodePulseFinal,
      checkedFinal: (b) => checkedFinal(b, org, sup.id),
      groupMessage: decodeGroupMessage,
      response: decodeResponse,
      list: (b) => decodeList(b, 2, "list"),
      ids: decodeIds,
      status: decodeStatus,
      info: (b) => checkInfo(b, org),
      receipt: (b) => checkReceipt(b, txId, org, sup.id, [key("alice").id]),
    };
    assert.ok(v.invalid.length >= 30);
    for (const x of v.invalid) {
      const fn = run[x.decoder];
      assert.ok(fn !== undefined, x.decoder);
      refused(() => fn(unhex(x.hex)), `${x.decoder}: ${x.reason}`);
    }
  });

  it("a changed bit anywhere in a signed message, or in an answer proven by one, is refused", () => {
    const txId = unhex(ok("Receipt").body.txId as string);
    const signedCases: [string, Buffer, (b: Buffer) => unknown][] = [
      ...requests.map((r): [string, Buffer, (b: Buffer) => unknown] => [r.name, unhex(r.hex), decodeRequest]),
      ...v.pulseStatements.map(
        (s: { name: string; hex: string }): [string, Buffer, (b: Buffer) => unknown] => [
          s.name,
          unhex(s.hex),
          decodePulseFinal,
        ],
      ),
      ...v.groupMessages.map((g: { hex: string }): [string, Buffer, (b: Buffer) => unknown] => [
        "group message",
        unhex(g.hex),
        decodeGroupMessage,
      ]),
      ["Info answer", unhex(ok("Info").response.body!), (b) => checkInfo(b, org)],
      [
        "Accounts answer",
        unhex(ok("Accounts: alice").response.body!),
        (b) => {
          const [f, e] = decodeList(b, 2, "accounts");
          return checkProven(e!, key("alice").id, checkedFinal(f!, org, sup.id));
        },
      ],
      [
        "Receipt answer",
        unhex(ok("Receipt").response.body!),
        (b) => checkReceipt(b, txId, org, sup.id, [key("alice").id]),
      ],
      ["Countersign answer", unhex(ok("Countersign").response.body!), verifiedTx],
    ];
    let tried = 0;
    for (const [name, good, decode] of signedCases) {
      decode(good);
      for (let i = 0; i < good.length; i++)
        for (const mask of [0x01, 0x80]) {
          const bad = Buffer.from(good);
          bad[i]! ^= mask;
          refused(() => decode(bad), `${name}: byte ${i} ^ ${mask}`);
          tried++;
        }
    }
    assert.ok(tried > 5000, String(tried));
    // The heartbeat too (its checker answers false).
    const hb = unhex(v.heartbeat.hex);
    for (let i = 0; i < hb.length; i++) {
      const bad = Buffer.from(hb);
      bad[i]! ^= 0x01;
      assert.equal(verifyHeartbeat(bad), false, `heartbeat byte ${i}`);
    }
  });

  it("over-limit sizes are refused, and the signers refuse to make them", () => {
    const alice = key("alice");
    const rawRequest = (bodyLength: number) =>
      signRaw(
        new Writer(bodyLength + 64)
          .u8(1)
          .u8(NodeMessageKind.NetRequest)
          .exact(org, 20, "org")
          .exact(alice.id, 20, "from")
          .u64n(NOW)
          .u8(Op.Submit)
          .u32(bodyLength)
          .bytes(Buffer.alloc(bodyLength, 7))
          .finish(),
        alice,
      );
    // The decoder takes a frame of up to 64 KiB; the signer makes bodies of up to 64 KiB - 256.
    assert.equal(decodeRequest(rawRequest(MAX_REQUEST_BYTES - 151)).body.length, MAX_REQUEST_BYTES - 151);
    assert.throws(() => decodeRequest(rawRequest(MAX_REQUEST_BYTES - 150)), /at most 65536/);
    const biggest = signRequest({ org, op: Op.Submit, body: Buffer.alloc(MAX_REQUEST_BYTES - 256) }, alice);
    assert.equal(decodeRequest(biggest).body.length, MAX_REQUEST_BYTES - 256);
    assert.throws(
      () => signRequest({ org, op: Op.Submit, body: Buffer.alloc(MAX_REQUEST_BYTES - 255) }, alice),
      RangeError,
    );

    const statement = unhex(head.hex);
    refused(() => decodePulseFinal(Buffer.concat([statement, Buffer.of(0)])), "a trailing byte");
    refused(() => decodePulseFinal(Buffer.alloc(257, 1)), "over 256 bytes");

    const text = "é".repeat(MAX_TEXT_BYTES / 2);
    const g = signGroupMessage({ org, text, timeMs: NOW }, alice);
    assert.equal(decodeGroupMessage(g).text, text);
    assert.throws(() => signGroupMessage({ org, text: `${text}x`, timeMs: NOW }, alice), RangeError);
    refused(() => decodeGroupMessage(Buffer.alloc(MAX_TEXT_BYTES + 257, 1)), "over 4,352 bytes");

    const full = Buffer.concat([Buffer.of(0), Buffer.alloc(MAX_RESPONSE_BYTES - 1, 9)]);
    assert.equal(decodeResponse(full).length, MAX_RESPONSE_BYTES - 1);
    refused(() => decodeResponse(Buffer.concat([full, Buffer.of(9)])), "over 1 MiB");

    const ids = Array.from({ length: MAX_ACCOUNTS_PER_REQUEST }, () => alice.id);
    assert.equal(decodeIds(encodeIds(ids)).length, MAX_ACCOUNTS_PER_REQUEST);
    refused(() => decodeIds(encodeIds([...ids, alice.id])), "17 ids");
    refused(() => decodeList(encodeList([Buffer.of(1), Buffer.of(2), Buffer.of(3)]), 2, "x"), "3 items");
    // A declared count or length larger than the bytes is refused before anything is allocated.
    refused(() => decodeList(Buffer.from("ffff", "hex"), 0xffff, "x"), "65,535 items declared");
    refused(() => decodeList(Buffer.from("0001ffffffff", "hex"), 1, "x"), "a 4 GiB item declared");
  });

  it("the request's time may be 5 minutes off the receiver's clock, not more", async () => {
    const w = await world();
    const signal = AbortSignal.timeout(10_000);
    const carol = key("carol");
    const at = (timeMs: number) =>
      w.servers.bookkeeper(signRequest({ org, op: Op.Info, body: Buffer.alloc(0), timeMs }, carol), signal);
    for (const t of [NOW - REQUEST_SKEW_MS, NOW + REQUEST_SKEW_MS])
      checkInfo(decodeResponse(await at(t)), org);
    for (const t of [NOW - REQUEST_SKEW_MS - 1, NOW + REQUEST_SKEW_MS + 1]) {
      const res = await at(t);
      assert.throws(
        () => decodeResponse(res),
        (err: unknown) => err instanceof NetError && err.code === "BAD_REQUEST",
      );
    }
    await w.ledger.close();
  });
});

describe("network decoders are bounded", () => {
  const txId = unhex(ok("Receipt").body.txId as string);
  const alice = key("alice").id;
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["decodeRequest", decodeRequest],
    ["decodePulseFinal", decodePulseFinal],
    ["decodeGroupMessage", decodeGroupMessage],
    ["decodeResponse", decodeResponse],
    ["decodeList", (b) => decodeList(b, 18, "list")],
    ["decodeStatus", decodeStatus],
    ["decodeIds", decodeIds],
    ["checkInfo", (b) => checkInfo(b, org)],
    ["checkProven", (b) => checkProven(b, alice, headFinal)],
    ["checkReceipt", (b) => checkReceipt(b, txId, org, sup.id, [alice])],
  ];
  // Every valid byte string of the vectors: messages, whole responses and their bodies, parts.
  const seeds: Buffer[] = [
    ...requests.flatMap((r) => [r.hex, r.response.hex, r.response.body ?? "", r.fields.body]),
    ...v.pulseStatements.map((s: { hex: string }) => s.hex),
    ...v.groupMessages.map((g: { hex: string }) => g.hex),
    v.heartbeat.hex,
    ...v.lists.map((l: { hex: string }) => l.hex),
    ...v.ids.map((l: { hex: string }) => l.hex),
    ...v.statuses.map((s: { hex: string }) => s.hex),
    ...v.accountEntries.map((e: { hex: string }) => e.hex),
  ].map(unhex);

  /**
   * Calls `fn`; passes if it returns or throws a DecodeError or a NetError. The decoders are
   * synchronous, so one that looped would hang this file's run (no wall-clock assertion here).
   */
  function bounded(name: string, fn: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
    try {
      fn(bytes);
    } catch (err) {
      assert.ok(
        err instanceof DecodeError || err instanceof NetError,
        `${name}(${hex(bytes).slice(0, 200)}): ${String(err)}`,
      );
    }
  }

  const edit = fc.oneof(
    fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ op: fc.constant("xor" as const), at: fc.nat(), byte: fc.integer({ min: 1, max: 255 }) }),
    fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  );
  type Edit =
    | { op: "set" | "xor"; at: number; byte: number }
    | { op: "insert"; at: number; bytes: Uint8Array }
    | { op: "delete"; at: number; n: number }
    | { op: "cut"; at: number };
  function mutate(seed: Buffer, edits: Edit[]): Buffer {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + (e.op === "insert" ? 1 : 0));
      if (e.op === "set" && b.length > 0) b[at] = e.byte;
      else if (e.op === "xor" && b.length > 0) b[at]! ^= e.byte;
      else if (e.op === "insert") b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
      else if (e.op === "delete") b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
      else if (e.op === "cut") b = b.subarray(0, at);
    }
    return b;
  }

  it("arbitrary bytes end in a DecodeError or a NetError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        for (const [name, fn] of decoders) bounded(name, fn, bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("arbitrary bytes after a valid header and list prefixes end in a DecodeError or a NetError", () => {
    const prefixes = [
      Buffer.concat([Buffer.of(1, NodeMessageKind.NetRequest), org]),
      Buffer.concat([Buffer.of(1, NodeMessageKind.PulseFinal), org]),
      Buffer.concat([Buffer.of(1, NodeMessageKind.GroupMessage), org]),
      Buffer.of(1),
      Buffer.of(0, 2),
      Buffer.of(0, 3),
    ];
    fc.assert(
      fc.property(fc.nat(prefixes.length - 1), fc.uint8Array({ maxLength: 600 }), (i, tail) => {
        const bytes = Buffer.concat([prefixes[i]!, tail]);
        for (const [name, fn] of decoders) bounded(name, fn, bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("mutations of valid vectors end in a DecodeError or a NetError (or decode)", () => {
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (i, edits) => {
        const bytes = mutate(seeds[i]!, edits as Edit[]);
        for (const [name, fn] of decoders) bounded(name, fn, bytes);
      }),
      { numRuns: 1500 },
    );
  });

  it("every valid vector, given to every decoder, ends in a value, a DecodeError or a NetError", () => {
    for (const s of seeds) for (const [name, fn] of decoders) bounded(name, fn, s);
  });
});
