import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { Ledger } from "../src/ledger/ledger.js";
import { LevelKV } from "../src/ledger/level-kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { genesisTx, makeSigners, orgParams, Txs } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";

function world() {
  const [sup, orgKey, alice, bob] = makeSigners(4, "ledger-node-options") as [Signer, Signer, Signer, Signer];
  const genesis = genesisTx(orgKey, orgParams(sup, { distribution: [[alice, 100n]] }));
  return { sup, orgKey, alice, bob, genesis, txs: new Txs(orgKey.id) };
}

describe("ledger options the daemon uses", () => {
  it("skipUnchanged: a batch that changes nothing commits nothing and keeps the pulse number", async () => {
    const w = world();
    const ledger = await Ledger.open(new MemoryKV());
    await ledger.applyPulse(0, [w.genesis]);
    const root0 = ledger.rootAt();
    const bad = w.txs.transfer(w.alice, w.bob, 5n, 9n, { cosign: w.bob }); // wrong nonce
    const out = await ledger.applyPulse(1, [bad], { skipUnchanged: true });
    assert.equal(out.committed, false);
    assert.equal(out.results[0]?.ok, false);
    assert.equal(ledger.head, 0);
    assert.deepEqual(out.root, root0);
    assert.deepEqual(ledger.retained(), [0]);
    // Empty batches too; and pulse 1 is still the next one.
    assert.equal((await ledger.applyPulse(1, [], { skipUnchanged: true })).committed, false);
    const good = await ledger.applyPulse(1, [w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob })], {
      skipUnchanged: true,
    });
    assert.equal(good.committed, true);
    assert.equal(ledger.head, 1);
    // Without the option an unchanged pulse is committed, as before.
    const plain = await ledger.applyPulse(2, [bad]);
    assert.equal(plain.committed, true);
    assert.equal(ledger.head, 2);
    await ledger.close();
  });

  it("indexTxs: accepted transactions are found by id after a reopen; rejected ones are not", async () => {
    const w = world();
    const dir = tmpDir("leither-txindex-");
    let ledger = await Ledger.open(await LevelKV.open(dir), { indexTxs: true });
    await ledger.applyPulse(0, [w.genesis]);
    const ok = w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob });
    const bad = w.txs.transfer(w.alice, w.bob, 500n, 2n, { cosign: w.bob });
    const out = await ledger.applyPulse(1, [ok, bad]);
    assert.equal(out.results[1]?.ok, false);
    await ledger.close();
    ledger = await Ledger.open(await LevelKV.open(dir), { indexTxs: true });
    const found = ledger.findTx(out.results[0]!.txId!);
    assert.equal(found?.pulse, 1);
    assert.ok(found?.tx.id.equals(out.results[0]!.txId!));
    assert.equal(ledger.findTx(out.results[1]!.txId!), undefined);
    const g = ledger.findTx((await ledger.check([w.genesis])).items[0]!.tx.id);
    assert.equal(g?.pulse, 0);
    await ledger.close();
  });

  it("mergeChecked: batches checked apart apply as one, in order", async () => {
    const w = world();
    const a = await Ledger.open(new MemoryKV());
    const b = await Ledger.open(new MemoryKV());
    const batch = [
      w.genesis,
      w.txs.transfer(w.alice, w.bob, 5n, 1n, { cosign: w.bob }),
      Buffer.from("junk"),
      w.txs.transfer(w.alice, w.bob, 6n, 2n, { cosign: w.bob }),
    ];
    const merged = Ledger.mergeChecked([await a.check(batch.slice(0, 2)), await a.check(batch.slice(2))]);
    const x = await a.applyPulse(0, merged);
    const y = await b.applyPulse(0, batch);
    assert.deepEqual(
      x.results.map((r) => r.ok || r.reason),
      y.results.map((r) => r.ok || r.reason),
    );
    assert.deepEqual(x.root, y.root);
    assert.equal(x.results[2]?.ok === false && x.results[2].reason, "DECODE");
    await a.close();
    await b.close();
  });
});
