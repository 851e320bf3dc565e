/**
 * The two-phase pulse (issue 7): Ledger.prepare computes a pulse's verdicts and root without
 * writing anything or moving the head; its commit writes exactly what applyPulse writes; a discarded
 * or outdated prepared pulse leaves no trace, and one committed makes the other proposals of its
 * pulse stale.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import type { KV } from "../src/ledger/kv.js";
import { Ledger } from "../src/ledger/ledger.js";
import { LevelKV } from "../src/ledger/level-kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { PulseError, VersionedTree } from "../src/ledger/store.js";
import { proofToJson } from "../src/smt/proof.js";
import type { LeafOp } from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { allOk, verdicts } from "./helpers/ledger-chain.js";
import { outcomeJson, summaryJson } from "./helpers/ledger-receipts.js";
import { badSignature, genesisTx, makeCast, orgParams, Txs } from "./helpers/ledger-signers.js";
import { dataOf, idOf } from "./helpers/model.js";
import { tmpDir } from "./helpers/tmp.js";

const cast = makeCast(4);
const [a, b, c, d] = cast.users as [Signer, Signer, Signer, Signer];
const t = new Txs(cast.orgKey.id);
const GENESIS = genesisTx(
  cast.orgKey,
  orgParams(cast.supervisor, { distribution: [a, b, c, d].map((u) => [u, 1000n] as const) }),
);

/** A ledger (indexing transactions, so the index rides in the batch too) with its genesis at pulse 0. */
async function world(kv: KV = new MemoryKV()): Promise<{ ledger: Ledger; kv: KV }> {
  const ledger = await Ledger.open(kv, { indexTxs: true });
  allOk(await ledger.applyPulse(0, [GENESIS]));
  return { ledger, kv };
}

/** Pulse 1's proposal paying b `amount`, with rejected transactions mixed in. */
function proposal(amount: number): Buffer[] {
  return [
    t.transfer(a, b, amount, 1, { cosign: b }),
    badSignature(t.transfer(c, d, 3, 1, { cosign: d })),
    t.transfer(c, a, 7, 1, { cosign: a }),
    Buffer.from("junk"),
    t.transfer(d, c, 1, 5, { cosign: c }), // nonce 5: NONCE
  ];
}
const EXPECTED = ["OK", "BAD_SIGNATURE", "OK", "DECODE", "NONCE"];

/** Every key and value of a KV, in hex. */
async function dump(kv: KV): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of kv.entries({ gte: Buffer.alloc(0), lt: Buffer.alloc(8, 0xff) }))
    out.push(`${k.toString("hex")}=${v.toString("hex")}`);
  return out;
}

/** What a reader of the head sees: head, root, accounts and proofs. */
function headView(ledger: Ledger): unknown {
  return {
    head: ledger.head,
    root: summaryJson(ledger.rootAt()),
    retained: [...ledger.retained()],
    accounts: [a, b, c, d].map((u) => {
      const acc = ledger.account(u.id);
      return { amount: acc?.amount, nonce: acc?.nonce, proof: proofToJson(ledger.prove(u.id)) };
    }),
  };
}

const isStale = (err: unknown) => err instanceof PulseError && err.code === "STALE";

describe("Ledger.prepare", () => {
  it("computes verdicts and the would-be root, and leaves the head, its reads and the store as they were", async () => {
    const { ledger, kv } = await world();
    const before = headView(ledger);
    const stored = await dump(kv);
    const p = await ledger.prepare(1, proposal(10));
    assert.equal(p.pulse, 1);
    assert.equal(p.changed, true);
    assert.deepEqual(
      p.results.map((r) => (r.ok ? "OK" : r.reason)),
      EXPECTED,
    );
    assert.equal(p.accountsChanged, 3);
    assert.notEqual(summaryJson(p.root).hash, summaryJson(ledger.rootAt()).hash);
    assert.equal(p.root.sum, ledger.rootAt().sum, "transfers conserve the sum");
    assert.deepEqual(headView(ledger), before);
    assert.deepEqual(await dump(kv), stored);
    assert.throws(
      () => ledger.rootAt(1),
      (e) => e instanceof PulseError && e.code === "FUTURE",
    );
    assert.equal(ledger.findTx((p.results[0] as { txId: Buffer }).txId), undefined);
    p.discard();
    await ledger.close();
  });

  it("commit gives the outcome and the store applyPulse gives a twin ledger, byte for byte", async () => {
    const one = await world();
    const two = await world();
    const applied = await one.ledger.applyPulse(1, proposal(10));
    const p = await two.ledger.prepare(1, proposal(10));
    assert.deepEqual(summaryJson(p.root), summaryJson(applied.root));
    const committed = await p.commit();
    assert.equal(committed.committed, true);
    assert.deepEqual(outcomeJson(committed), outcomeJson(applied));
    assert.deepEqual(verdicts(committed), EXPECTED);
    assert.equal(committed.receipts.length, 2);
    assert.equal(committed.pagesWritten, applied.pagesWritten);
    assert.equal(committed.bytesWritten, applied.bytesWritten);
    assert.deepEqual(headView(two.ledger), headView(one.ledger));
    assert.deepEqual(await dump(two.kv), await dump(one.kv));
    // And the pulse after it (the account cache took the committed accounts).
    const next = [t.transfer(b, a, 4, 1, { cosign: a })];
    assert.deepEqual(
      outcomeJson(await two.ledger.applyPulse(2, next)),
      outcomeJson(await one.ledger.applyPulse(2, next)),
    );
    assert.deepEqual(await dump(two.kv), await dump(one.kv));
    await Promise.all([one.ledger.close(), two.ledger.close()]);
  });

  it("is deterministic: the same state and the same bytes give the same root on two ledgers", async () => {
    const one = await world();
    const two = await world();
    const batch = proposal(25);
    const [p1, p2] = await Promise.all([one.ledger.prepare(1, batch), two.ledger.prepare(1, batch)]);
    assert.deepEqual(summaryJson(p1.root), summaryJson(p2.root));
    assert.deepEqual(p1.results, p2.results);
    // A checked batch, and the same transactions submitted in another order (the state machine
    // applies them in canonical order), give that root too.
    const checked = await two.ledger.prepare(1, await two.ledger.check(batch));
    const reversed = await two.ledger.prepare(1, [...batch].reverse());
    assert.deepEqual(summaryJson(checked.root), summaryJson(p1.root));
    assert.deepEqual(summaryJson(reversed.root), summaryJson(p1.root));
    const out = await p2.commit();
    assert.deepEqual(summaryJson(out.root), summaryJson(p1.root));
    for (const p of [p1, checked, reversed]) p.discard();
    await Promise.all([one.ledger.close(), two.ledger.close()]);
  });

  it("discard leaves nothing: the store, the head and a later pulse are as if it never was", async () => {
    const { ledger, kv } = await world();
    const twin = await world();
    const stored = await dump(kv);
    const view = headView(ledger);
    const p = await ledger.prepare(1, proposal(99));
    p.discard();
    p.discard();
    await assert.rejects(p.commit(), isStale);
    assert.deepEqual(await dump(kv), stored);
    assert.deepEqual(headView(ledger), view);
    // A different pulse 1 writes the same pages' keys: none of the discarded ones may be read back.
    const out = await ledger.applyPulse(1, proposal(10));
    assert.deepEqual(outcomeJson(out), outcomeJson(await twin.ledger.applyPulse(1, proposal(10))));
    assert.deepEqual(headView(ledger), headView(twin.ledger));
    await Promise.all([ledger.close(), twin.ledger.close()]);
  });

  it("two proposals of one pulse: committing one makes the other stale", async () => {
    const { ledger, kv } = await world();
    const twin = await world();
    const first = await ledger.prepare(1, proposal(10));
    const second = await ledger.prepare(1, proposal(20));
    assert.notEqual(summaryJson(first.root).hash, summaryJson(second.root).hash);
    const out = await second.commit();
    assert.deepEqual(summaryJson(out.root), summaryJson(second.root));
    await assert.rejects(
      first.commit(),
      (e) => isStale(e) && /prepared on head 0.*head is now 1/.test(String(e)),
    );
    await assert.rejects(second.commit(), isStale, "a prepared pulse commits once");
    second.discard(); // a no-op once committed
    assert.equal(ledger.head, 1);
    assert.equal(ledger.account(b.id)?.amount, 1020n);
    assert.deepEqual(summaryJson(ledger.rootAt()), summaryJson(second.root));
    for (const u of [a, b, c, d])
      assert.equal(verifyProof(ledger.prove(u.id), ledger.rootAt()).result, "inclusion");
    await twin.ledger.applyPulse(1, proposal(20));
    assert.deepEqual(await dump(kv), await dump(twin.kv), "exactly the committed proposal was written");
    await Promise.all([ledger.close(), twin.ledger.close()]);
  });

  it("commit after the head moved is refused and writes nothing", async () => {
    const { ledger, kv } = await world();
    const p = await ledger.prepare(1, proposal(10));
    const idle = await ledger.prepare(1, [Buffer.from("junk")], { skipUnchanged: true });
    allOk(await ledger.applyPulse(1, [t.transfer(d, a, 2, 1, { cosign: a })]));
    const stored = await dump(kv);
    await assert.rejects(p.commit(), isStale);
    await assert.rejects(idle.commit(), isStale);
    assert.deepEqual(await dump(kv), stored);
    assert.equal(ledger.head, 1);
    assert.equal(ledger.account(b.id)?.amount, 1000n);
    // A prepare of a pulse that is not the next one is refused at once.
    await assert.rejects(
      ledger.prepare(1, proposal(10)),
      (e) => e instanceof PulseError && e.code === "NOT_NEXT",
    );
    assert.equal((await ledger.prepare(2, proposal(10))).pulse, 2);
    await ledger.close();
  });

  it("waits for earlier pulses: a prepare queued behind an applyPulse sees its result", async () => {
    const { ledger } = await world();
    const applying = ledger.applyPulse(1, [t.transfer(d, a, 2, 1, { cosign: a })]);
    const p = await ledger.prepare(2, [t.transfer(a, b, 1, 1, { cosign: b })]);
    allOk(await applying);
    assert.deepEqual(verdicts(await p.commit()), ["OK"]);
    assert.equal(ledger.account(a.id)?.amount, 1001n);
    await ledger.close();
  });

  it("with skipUnchanged and nothing to change: changed false, the head's root, nothing committed", async () => {
    const { ledger, kv } = await world();
    const twin = await world();
    const rejected = proposal(10).filter((_, i) => EXPECTED[i] !== "OK");
    const p = await ledger.prepare(1, rejected, { skipUnchanged: true });
    assert.equal(p.changed, false);
    assert.deepEqual(summaryJson(p.root), summaryJson(ledger.rootAt()));
    const stored = await dump(kv);
    const out = await p.commit();
    assert.equal(out.committed, false);
    assert.deepEqual(
      outcomeJson(out),
      outcomeJson(await twin.ledger.applyPulse(1, rejected, { skipUnchanged: true })),
    );
    assert.equal(ledger.head, 0);
    assert.deepEqual(await dump(kv), stored);
    // Nothing was committed, so a prepare of the same pulse is still current.
    allOk(await (await ledger.prepare(1, [t.transfer(a, b, 1, 1, { cosign: b })])).commit());
    await Promise.all([ledger.close(), twin.ledger.close()]);
  });

  it("a LevelDB reopened after a prepare that was never committed shows the old head", async () => {
    const dir = tmpDir("leither-prepare-");
    const { ledger } = await world(await LevelKV.open(dir));
    const view = headView(ledger);
    const p = await ledger.prepare(1, proposal(10));
    await ledger.close();
    const reopened = await Ledger.open(await LevelKV.open(dir), { indexTxs: true });
    assert.deepEqual(headView(reopened), view);
    assert.equal(reopened.head, 0);
    // The same batch applied after the restart gives the root that was prepared before it.
    const out = await reopened.applyPulse(1, proposal(10));
    assert.deepEqual(summaryJson(out.root), summaryJson(p.root));
    await assert.rejects(p.commit(), "the old ledger is closed");
    await reopened.close();
  });
});

describe("VersionedTree.prepareCommit", () => {
  /** Leaves 0..n-1, each holding `amount` (enough of them for the tree to span several pages). */
  const leaves = (n: number, amount: bigint): LeafOp[] =>
    Array.from({ length: n }, (_, i) => ({ id: idOf(i), leaf: { amount, dataHash: dataOf(i) } }));

  it("writes nothing until finish; finishing one prepared pulse makes the others stale", async () => {
    const kv = new MemoryKV();
    const tree = await VersionedTree.open(kv, { cacheBytes: 0 });
    await tree.commit(0, leaves(3000, 1n));
    const stored = await dump(kv);
    const first = await tree.prepareCommit(1, leaves(2000, 2n), { expectSum: 5000n });
    const second = await tree.prepareCommit(1, leaves(1000, 3n));
    assert.deepEqual(await dump(kv), stored);
    assert.equal(tree.head, 0);
    assert.equal(tree.rootAt().sum, 3000n);
    // The same result as a plain commit on a twin.
    const twin = await VersionedTree.open(new MemoryKV());
    await twin.commit(0, leaves(3000, 1n));
    const expected = await twin.commit(1, leaves(1000, 3n));
    assert.deepEqual(await tree.finish(second), expected);
    assert.deepEqual(tree.rootAt(), second.root);
    assert.equal(tree.getLeaf(idOf(999), 1)?.amount, 3n);
    assert.equal(tree.getLeaf(idOf(1000), 1)?.amount, 1n);
    await assert.rejects(tree.finish(first), isStale);
    await assert.rejects(tree.finish(second), isStale);
    const third = await tree.prepareCommit(2, leaves(10, 4n));
    tree.discard(third);
    await assert.rejects(tree.finish(third), isStale);
    assert.equal(tree.head, 1);
    await tree.close();
    await twin.close();
  });

  it("refuses a batch that breaks the expected sum at prepare, writing nothing", async () => {
    const kv = new MemoryKV();
    const tree = await VersionedTree.open(kv);
    await tree.commit(0, leaves(10, 1n));
    const stored = await dump(kv);
    await assert.rejects(
      tree.prepareCommit(1, leaves(5, 2n), { expectSum: 10n }),
      (e) => (e as { code?: string }).code === "SUM_MISMATCH",
    );
    assert.deepEqual(await dump(kv), stored);
    await tree.close();
  });
});
