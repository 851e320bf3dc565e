import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { generateKeyPair, Signer, signNoble } from "../src/crypto/ed25519.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { TypedBus } from "../src/node/bus.js";
import { createLogger } from "../src/node/log.js";
import { Bookkeeper, SubmitError } from "../src/pulse/bookkeeper.js";
import type { PulseEvents } from "../src/pulse/events.js";
import { decodeHeartbeat, signHeartbeat, verifyHeartbeat } from "../src/pulse/heartbeat.js";
import { FakeTime } from "./helpers/fake-time.js";
import { genesisTx, makeSigners, orgParams, Txs } from "./helpers/ledger-signers.js";

const PERIOD = 1000;

async function setup(o: { maxPending?: number } = {}) {
  const [node, orgKey, alice, bob] = makeSigners(4, "bookkeeper-test") as [Signer, Signer, Signer, Signer];
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  const bus = new TypedBus<PulseEvents>((err) => {
    throw err;
  });
  const time = new FakeTime(1_000_000 * PERIOD + 250);
  const bk = new Bookkeeper({
    ledger,
    signer: node,
    bus,
    log: createLogger({ level: "silent", pretty: false }).root,
    periodMs: PERIOD,
    time,
    ...(o.maxPending === undefined ? {} : { maxPending: o.maxPending }),
  });
  bk.start();
  const txs = new Txs(orgKey.id);
  const genesis = genesisTx(orgKey, orgParams(node, { distribution: [[alice, 1000n]] }));
  /** Ends the current slot; resolves with what it produced. */
  const slot = async () => {
    await bk.settled();
    const next = Promise.race([
      bus.next("pulse.final").then((p) => ({ kind: "final" as const, p })),
      bus.next("pulse.heartbeat").then((h) => ({ kind: "heartbeat" as const, h })),
    ]);
    time.advance(PERIOD);
    return next;
  };
  return { node, orgKey, alice, bob, ledger, bus, time, bk, txs, genesis, slot };
}

describe("bookkeeper: one-node pulses", () => {
  it("applies a slot's transactions at its end; the pulse number grows only with a change", async () => {
    const w = await setup();
    const g = w.bk.submit(w.genesis);
    assert.equal(g.state, "pending");
    assert.equal(w.bk.pending, 1);
    const first = await w.slot();
    assert.equal(first.kind, "final");
    assert.equal(first.kind === "final" && first.p.pulse, 0);
    assert.deepEqual(w.bk.status(g.txId), { txId: g.txId, state: "accepted", pulse: 0 });
    assert.equal(w.bk.pending, 0);

    // A slot with nothing in it: no pulse, a heartbeat signed by the node at the same root.
    const idle = await w.slot();
    assert.equal(idle.kind, "heartbeat");
    if (idle.kind !== "heartbeat") return;
    assert.equal(idle.h.pulse, 0);
    assert.equal(w.ledger.head, 0);
    const hb = Buffer.from(idle.h.heartbeat, "hex");
    assert.ok(verifyHeartbeat(hb));
    const d = decodeHeartbeat(hb);
    assert.ok(d.signer.equals(w.node.id));
    assert.ok(d.org.equals(w.orgKey.id));
    assert.equal(d.slot, idle.h.slot);
    assert.equal(d.rootHash.toString("hex"), Buffer.from(w.ledger.rootAt(0).hash).toString("hex"));

    // A slot whose only transaction is rejected changes nothing: heartbeat, head still 0.
    const replayNonce = w.bk.submit(w.txs.transfer(w.alice, w.bob, 5n, 7n, { cosign: w.bob }));
    const rejected = await w.slot();
    assert.equal(rejected.kind, "heartbeat");
    assert.equal(rejected.kind === "heartbeat" && rejected.h.rejected, 1);
    assert.equal(w.ledger.head, 0);
    const s = w.bk.status(replayNonce.txId);
    assert.equal(s.state, "rejected");
    assert.equal(s.state === "rejected" && s.reason, "NONCE");

    // A good transfer makes pulse 1, and its verdict reaches a waiter.
    const t = w.bk.submit(w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob }));
    const waiting = w.bk.verdict(t.txId, AbortSignal.timeout(5000));
    const made = await w.slot();
    assert.equal(made.kind === "final" && made.p.pulse, 1);
    assert.equal(made.kind === "final" && made.p.accepted, 1);
    assert.deepEqual(await waiting, { txId: t.txId, state: "accepted", pulse: 1 });
    assert.equal(w.ledger.account(w.bob.id)?.amount, 5n);
    await w.bk.stop();
  });

  it("refuses on arrival what can never apply, and queues a transaction once", async () => {
    const w = await setup({ maxPending: 2 });
    assert.throws(() => w.bk.submit(w.txs.transfer(w.alice, w.bob, 1n, 1n)), { code: "NO_ORG" });
    w.bk.submit(w.genesis);
    await w.slot();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof SubmitError);
        return err.code;
      }
      return "none";
    };
    assert.equal(
      code(() => w.bk.submit(Buffer.from("not a transaction"))),
      "DECODE",
    );
    assert.equal(
      code(() => w.bk.submit(w.genesis)),
      "ORG_EXISTS",
    );
    const other = new Txs(Buffer.alloc(20, 7));
    assert.equal(
      code(() => w.bk.submit(other.transfer(w.alice, w.bob, 1n, 1n, { cosign: w.bob }))),
      "WRONG_ORG",
    );
    const t1 = w.txs.transfer(w.alice, w.bob, 1n, 1n, { cosign: w.bob });
    w.bk.submit(t1);
    assert.equal(w.bk.submit(t1).state, "pending");
    assert.equal(w.bk.pending, 1, "a duplicate is not queued twice");
    w.bk.submit(w.txs.transfer(w.alice, w.bob, 1n, 2n, { cosign: w.bob }));
    assert.equal(
      code(() => w.bk.submit(w.txs.transfer(w.alice, w.bob, 1n, 3n, { cosign: w.bob }))),
      "BUSY",
    );
    const out = await w.slot();
    assert.equal(out.kind === "final" && out.p.accepted, 2);
    // Submitted again after its pulse: found in the ledger's index, not queued.
    assert.equal(w.bk.submit(t1).state, "accepted");
    assert.equal(w.bk.pending, 0);
    await w.bk.stop();
    assert.equal(
      code(() => w.bk.submit(t1)),
      "STOPPED",
    );
  });

  it("a bad signature is refused at the slot's end with its reason", async () => {
    const w = await setup();
    w.bk.submit(w.genesis);
    await w.slot();
    const bytes = w.txs.transfer(w.alice, w.bob, 1n, 1n, { cosign: w.bob });
    bytes[bytes.length - 1]! ^= 1;
    const t = w.bk.submit(bytes);
    await w.slot();
    const s = w.bk.status(t.txId);
    assert.equal(s.state === "rejected" && s.reason, "BAD_SIGNATURE");
    await w.bk.stop();
  });

  it("a broken copy submitted first does not shadow the good one (copies differ by their signatures)", async () => {
    const w = await setup();
    w.bk.submit(w.genesis);
    await w.slot();
    const good = w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob });
    const broken = Buffer.from(good);
    broken[broken.length - 1]! ^= 1; // the payee's signature
    const first = w.bk.submit(broken);
    const second = w.bk.submit(good);
    assert.equal(first.txId, second.txId, "one body, one id");
    assert.equal(w.bk.pending, 2, "two distinct copies are queued");
    assert.equal(w.bk.submit(good).state, "pending");
    assert.equal(w.bk.pending, 2, "an identical copy is not");
    const waiting = w.bk.verdict(first.txId, AbortSignal.timeout(5000));
    const verdicts: string[] = [];
    w.bus.on("tx.verdict", (v) => verdicts.push(v.state));
    await w.slot();
    assert.deepEqual(await waiting, { txId: first.txId, state: "accepted", pulse: 1 });
    assert.deepEqual(verdicts, ["accepted"], "one verdict per id, and the accepted copy's");
    assert.equal(w.ledger.account(w.bob.id)?.amount, 5n);
    await w.bk.stop();
  });

  it("waiters hear 'unknown' when the service stops before their pulse", async () => {
    const w = await setup();
    w.bk.submit(w.genesis);
    await w.slot();
    const t = w.bk.submit(w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob }));
    const waiting = w.bk.verdict(t.txId, AbortSignal.timeout(5000));
    await w.bk.stop();
    assert.deepEqual(await waiting, { txId: t.txId, state: "unknown" });
  });

  it("stop() waits for the pulse being applied", async () => {
    const w = await setup();
    w.bk.submit(w.genesis);
    w.time.advance(PERIOD);
    await w.bk.stop();
    assert.equal(w.ledger.head, 0);
  });

  it("verdict() gives up when its signal aborts", async () => {
    const w = await setup();
    const g = w.bk.submit(w.genesis);
    const ac = new AbortController();
    const p = w.bk.verdict(g.txId, ac.signal);
    ac.abort(new Error("gave up"));
    await assert.rejects(p, /gave up/);
    await w.bk.stop();
  });
});

describe("heartbeat encoding", () => {
  const v = JSON.parse(readFileSync(new URL("../../test/vectors/heartbeat.json", import.meta.url), "utf8"));
  const signer = new Signer(generateKeyPair(Buffer.from(v.seed, "hex")));
  const fields = {
    org: Buffer.from(v.org, "hex"),
    slot: v.slot,
    pulse: v.pulse,
    rootHash: Buffer.from(v.rootHash, "hex"),
  };

  it("matches its vector byte for byte, and noble signs the same bytes", () => {
    const hb = signHeartbeat(fields, signer);
    assert.equal(hb.toString("hex"), v.heartbeat);
    const d = decodeHeartbeat(hb);
    assert.equal(d.signer.toString("hex"), v.signer);
    const noble = signNoble(
      Buffer.concat([Buffer.from("LEITHER\0", "latin1"), hb.subarray(0, 70)]),
      generateKeyPair(Buffer.from(v.seed, "hex")).secretKey,
    );
    assert.equal(Buffer.from(noble).toString("hex"), d.signature.toString("hex"));
  });

  it("refuses a changed byte, a wrong length and another kind", () => {
    const hb = Buffer.from(v.heartbeat, "hex");
    for (const i of [2, 30, 40, 70, 140]) {
      const bad = Buffer.from(hb);
      bad[i]! ^= 1;
      assert.equal(verifyHeartbeat(bad), false, `byte ${i}`);
    }
    assert.throws(() => decodeHeartbeat(hb.subarray(1)), /166 bytes/);
    const kind = Buffer.from(hb);
    kind[1] = 0x02;
    assert.throws(() => decodeHeartbeat(kind), /not a heartbeat/);
  });
});

describe("bookkeeper: a copy sent again while its pulse is written", () => {
  it("is not queued again, and a different copy refused later never turns the acceptance into a rejection", async () => {
    const w = await setup();
    w.bk.submit(w.genesis);
    await w.slot();
    const good = w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob });
    const t = w.bk.submit(good);
    const verdicts: string[] = [];
    w.bus.on("tx.verdict", (v) =>
      verdicts.push(v.state === "rejected" ? `rejected:${v.reason}` : `accepted:${v.pulse}`),
    );
    await w.bk.settled();
    w.time.advance(PERIOD); // the pulse starts being written
    assert.equal(w.bk.submit(good).state, "pending", "the same bytes, while their pulse is written");
    // Another copy of the same body, with the payer's signature alone: other bytes, so it is queued.
    const payerOnly = w.txs.transfer(w.alice, w.bob, 5n, 1n);
    w.bk.submit(payerOnly);
    await w.bk.settled();
    assert.equal(w.bk.pending, 1, "only the other copy waits");
    await w.slot();
    assert.deepEqual(w.bk.status(t.txId), { txId: t.txId, state: "accepted", pulse: 1 });
    assert.deepEqual(verdicts, ["accepted:1"], "announced once");
    assert.equal(w.ledger.account(w.bob.id)?.amount, 5n);
    await w.bk.stop();
  });
});
