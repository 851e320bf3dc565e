/**
 * Catching up by replay: with `indexTxs` each committed pulse keeps its accepted transactions in
 * order of application (Ledger.batchAt) and, when given one, the certificate that made it final
 * (certificateAt, PreparedPulse.commit, applyPulse, putCertificate), both in the pulse's own atomic
 * batch and neither pruned. A fresh ledger applying each pulse's accepted transactions reaches the
 * original's root at every pulse, though the original batches had rejected transactions mixed in.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { batchKey, certKey, rootKey } from "../src/ledger/keys.js";
import type { KVOp } from "../src/ledger/kv.js";
import { Ledger, type PulseOutcome } from "../src/ledger/ledger.js";
import { LevelKV } from "../src/ledger/level-kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { PulseError } from "../src/ledger/store.js";
import { decodeTx } from "../src/ledger/tx-codec.js";
import { allOk, verdicts } from "./helpers/ledger-chain.js";
import { randomSociety } from "./helpers/ledger-random.js";
import { summaryJson } from "./helpers/ledger-receipts.js";
import { badSignature, genesisTx, hex, makeCast, orgParams, Txs } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";

const cast = makeCast(4);
const [a, b, c, d] = cast.users as [Signer, Signer, Signer, Signer];
const t = new Txs(cast.orgKey.id);
const GENESIS = genesisTx(
  cast.orgKey,
  orgParams(cast.supervisor, { distribution: [a, b, c, d].map((u) => [u, 1000n] as const) }),
);

/** A MemoryKV that remembers each atomic write. */
class RecordingKV extends MemoryKV {
  readonly writes: KVOp[][] = [];
  override write(ops: readonly KVOp[]): Promise<void> {
    this.writes.push([...ops]);
    return super.write(ops);
  }
}

/** A ledger keeping records, its genesis applied at pulse `first`. */
async function world(kv = new MemoryKV(), first = 0): Promise<Ledger> {
  const ledger = await Ledger.open(kv, { indexTxs: true });
  allOk(await ledger.applyPulse(first, [GENESIS]));
  return ledger;
}

/** Pulse `nonce`'s batch: a pays b `amount`, with rejected transactions mixed in. */
function mixed(amount: number, nonce: number): Buffer[] {
  return [
    t.transfer(a, b, amount, nonce, { cosign: b }),
    badSignature(t.transfer(c, d, 3, nonce, { cosign: d })),
    Buffer.from("junk"),
    t.transfer(d, c, 1, nonce + 5, { cosign: c }), // NONCE
    t.transfer(c, a, 7, nonce, { cosign: a }),
  ];
}

const ids = (txs: readonly Buffer[]) => txs.map((x) => hex(decodeTx(x).id));
const code = (want: string) => (err: unknown) => err instanceof PulseError && err.code === want;

describe("Ledger.batchAt: replaying final pulses", () => {
  it("a fresh ledger applying each pulse's accepted transactions reaches the same root at every pulse", async (ctx) => {
    let rejected = 0;
    let accepted = 0;
    for (const seed of [20240607, 11, 4242]) {
      // Random mixed batches (bad signatures, wrong keys, duplicates, copies of one body, garbage).
      const { chain } = await randomSociety({ seed, runs: 8, minOps: 15, maxOps: 40 });
      await chain.close();
      const original = await Ledger.open(new MemoryKV(), { indexTxs: true });
      const outs: PulseOutcome[] = [];
      for (const p of chain.log) outs.push(await original.applyPulse(p.pulse, p.txs));
      const replica = await Ledger.open(new MemoryKV(), { indexTxs: true });
      for (const out of outs) {
        const batch = original.batchAt(out.pulse);
        assert.ok(batch !== undefined, `pulse ${out.pulse} has a record`);
        // In order of application: the order of the pulse's receipts.
        assert.deepEqual(
          ids(batch),
          out.receipts.map((r) => hex(r.txId)),
        );
        rejected += out.results.length - batch.length;
        accepted += batch.length;
        const again = await replica.applyPulse(out.pulse, batch);
        assert.deepEqual(
          verdicts(again).filter((v) => v !== "OK"),
          [],
          `seed ${seed} pulse ${out.pulse}: the replay rejects nothing`,
        );
        assert.deepEqual(summaryJson(again.root), summaryJson(out.root), `seed ${seed} pulse ${out.pulse}`);
        assert.deepEqual(replica.batchAt(out.pulse), batch, "and keeps the same record");
      }
      const accounts = (l: Ledger) => [...l.accountsAt()].map((e) => ({ id: hex(e.id), ...e.account }));
      assert.deepEqual(accounts(replica), accounts(original));
      await original.close();
      await replica.close();
    }
    assert.ok(rejected >= 60 && accepted >= 60, `rejected ${rejected}, accepted ${accepted}`);
    ctx.diagnostic(`${accepted} accepted transactions replayed, ${rejected} rejected ones left out`);
  });

  it("no record without indexTxs or for a pulse not committed; an empty one for a pulse that accepted nothing", async () => {
    const plain = await Ledger.open(new MemoryKV());
    allOk(await plain.applyPulse(0, [GENESIS]));
    assert.equal(plain.batchAt(0), undefined);
    await plain.close();

    const ledger = await world();
    assert.deepEqual(ledger.batchAt(0), [ledger.genesisBytes()]);
    const out = await ledger.applyPulse(1, [Buffer.from("junk"), badSignature(t.transfer(a, b, 1, 1))]);
    assert.deepEqual(verdicts(out), ["DECODE", "BAD_SIGNATURE"]);
    assert.deepEqual(ledger.batchAt(1), []);
    assert.equal(ledger.batchAt(2), undefined);
    // skipUnchanged committing nothing leaves no record: the pulse number is not taken.
    const skipped = await ledger.applyPulse(2, [Buffer.from("junk")], { skipUnchanged: true });
    assert.equal(skipped.committed, false);
    assert.equal(ledger.batchAt(2), undefined);
    await ledger.close();
  });

  it("records and certificates outlive retention and a reopen", async () => {
    const dir = tmpDir("leither-replay-");
    let ledger = await Ledger.open(await LevelKV.open(dir), { indexTxs: true, retention: { keepLast: 2 } });
    allOk(await ledger.applyPulse(0, [GENESIS]));
    const batches: Buffer[][] = [];
    for (let p = 1; p <= 5; p++) {
      const out = await ledger.applyPulse(p, mixed(p, p), { certificate: Buffer.from(`cert ${p}`) });
      assert.deepEqual(verdicts(out), ["OK", "BAD_SIGNATURE", "DECODE", "NONCE", "OK"]);
      batches.push(ledger.batchAt(p)!);
    }
    const pruned = await ledger.pruneAll();
    assert.ok(pruned.pulsesDropped >= 3 && pruned.pagesDeleted > 0);
    assert.deepEqual(ledger.retained(), [4, 5]);
    await ledger.close();
    ledger = await Ledger.open(await LevelKV.open(dir), { indexTxs: true, retention: { keepLast: 2 } });
    assert.throws(() => ledger.rootAt(1), code("PRUNED"));
    for (let p = 1; p <= 5; p++) {
      assert.deepEqual(ledger.batchAt(p), batches[p - 1]);
      assert.equal(ledger.batchAt(p)!.length, 2);
      assert.equal(ledger.certificateAt(p)?.toString(), `cert ${p}`);
    }
    assert.deepEqual(ledger.batchAt(0), [ledger.genesisBytes()]);
    await ledger.close();
  });
});

describe("certificates", () => {
  it("PreparedPulse.commit stores the certificate in the pulse's atomic batch, beside its batch record", async () => {
    const kv = new RecordingKV();
    const ledger = await world(kv);
    const p = await ledger.prepare(1, mixed(10, 1));
    const rival = await ledger.prepare(1, mixed(20, 1));
    assert.equal(ledger.batchAt(1), undefined);
    const cert = Buffer.from("2f+1 precommits of pulse 1");
    const out = await p.commit({ certificate: cert });
    const write = kv.writes.at(-1)!.map((op) => hex(op.key));
    for (const key of [rootKey(1), batchKey(1), certKey(1)]) assert.ok(write.includes(hex(key)));
    assert.deepEqual(ledger.certificateAt(1), cert);
    assert.deepEqual(
      ids(ledger.batchAt(1)!),
      out.receipts.map((r) => hex(r.txId)),
    );
    // The write counts it: the same pulse without a certificate writes that much less.
    const other = await world();
    const plain = await other.applyPulse(1, mixed(10, 1));
    assert.equal(out.bytesWritten, plain.bytesWritten + certKey(1).length + cert.length);
    assert.equal(other.certificateAt(1), undefined);
    // A stale proposal's commit writes nothing, its certificate included.
    await assert.rejects(rival.commit({ certificate: Buffer.from("rival") }), code("STALE"));
    assert.deepEqual(ledger.certificateAt(1), cert);
    await ledger.close();
    await other.close();
  });

  it("a pulse that commits nothing stores no certificate; its number's next pulse stores its own", async () => {
    const ledger = await world();
    const none = await ledger.prepare(1, [Buffer.from("junk")], { skipUnchanged: true });
    assert.equal(none.changed, false);
    assert.equal((await none.commit({ certificate: Buffer.from("nothing") })).committed, false);
    assert.equal(ledger.certificateAt(1), undefined);
    const out = await ledger.applyPulse(1, mixed(5, 1), { certificate: Buffer.from("pulse 1") });
    assert.equal(out.committed, true);
    assert.equal(ledger.certificateAt(1)?.toString(), "pulse 1");
    await ledger.close();
  });

  it("putCertificate stores a late certificate for a committed pulse only, and shares no bytes", async () => {
    const empty = await Ledger.open(new MemoryKV());
    await assert.rejects(empty.putCertificate(0, Buffer.from("x")), code("EMPTY"));
    await empty.close();

    const ledger = await world(new MemoryKV(), 3);
    await assert.rejects(
      ledger.putCertificate(2, Buffer.from("x")),
      (err) => code("BEFORE_FIRST")(err) && /certificate for pulse 2.*first pulse 3/.test(String(err)),
    );
    await assert.rejects(
      ledger.putCertificate(4, Buffer.from("x")),
      (err) =>
        code("FUTURE")(err) && /certificate for pulse 4.*not committed \(head is 3\)/.test(String(err)),
    );
    assert.equal(ledger.certificateAt(4), undefined);
    const cert = Buffer.from("late certificate");
    await ledger.putCertificate(3, cert);
    cert.fill(0);
    const stored = ledger.certificateAt(3)!;
    assert.equal(stored.toString(), "late certificate");
    stored.fill(0);
    assert.equal(ledger.certificateAt(3)?.toString(), "late certificate");
    await ledger.putCertificate(3, Buffer.from("another"));
    assert.equal(ledger.certificateAt(3)?.toString(), "another");
    // It waits for the pulse steps called before it: pulse 4 is committed by then.
    const pending = ledger.applyPulse(4, mixed(1, 1));
    await ledger.putCertificate(4, Buffer.from("pulse 4"));
    assert.equal((await pending).committed, true);
    assert.equal(ledger.certificateAt(4)?.toString(), "pulse 4");
    await ledger.close();
  });
});
