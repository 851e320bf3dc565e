/**
 * The Ledger's API cannot be used to change a node's state behind the state machine's back, and the
 * encoders refuse what they cannot encode exactly: an account read is a copy; a genesis is stored
 * from its canonical bytes, not from the caller's buffer; a field outside its byte is an error, never
 * a wrapped value that would sign another transaction.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { encodeAccountData, freshAccountData, type Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { LevelKV } from "../src/ledger/level-kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { TxKind } from "../src/ledger/tx.js";
import { encodeBody } from "../src/ledger/tx-codec.js";
import { allOk, genesisTx, makeCast, orgParams, Txs } from "./helpers/ledger-fixtures.js";
import { tmpDir } from "./helpers/tmp.js";

describe("ledger API guards", () => {
  it("an account read is a copy: changing it changes nothing in the ledger", async () => {
    const cast = makeCast(2);
    const [a, b] = cast.users as [(typeof cast.users)[0], (typeof cast.users)[0]];
    const ledger = await Ledger.open(new MemoryKV());
    allOk(
      await ledger.applyPulse(0, [
        genesisTx(cast.orgKey, orgParams(cast.supervisor, { distribution: [[a, 100n]] })),
      ]),
    );
    const got = ledger.account(a.id)! as { nonce: bigint; amount: bigint };
    got.nonce += 10n;
    got.amount = 0n;
    assert.equal(ledger.account(a.id)!.nonce, 0n);
    assert.equal(ledger.account(a.id)!.amount, 100n);
    const out = await ledger.applyPulse(1, [new Txs(cast.orgKey.id).transfer(a, b, 5n, 1n, { cosign: b })]);
    allOk(out);
    await ledger.close();
  });

  it("the genesis record is the canonical transaction, not the caller's buffer", async () => {
    const cast = makeCast(1);
    const dir = tmpDir("leither-genesis-");
    const ledger = await Ledger.open(await LevelKV.open(dir));
    const bytes = genesisTx(cast.orgKey, orgParams(cast.supervisor, { name: "kept" }));
    const checked = await ledger.check([bytes]);
    bytes.fill(0); // a caller reusing its network buffer between check and apply
    allOk(await ledger.applyPulse(0, checked));
    await ledger.close();
    const reopened = await Ledger.open(await LevelKV.open(dir));
    assert.equal(reopened.org?.params.name, "kept");
    assert.ok(reopened.org?.id.equals(cast.orgKey.id));
    await reopened.close();
  });

  it("encoders refuse enum values outside their byte instead of wrapping them", () => {
    const cast = makeCast(1);
    const base = { org: cast.orgKey.id, actor: cast.supervisor.id, nonce: 1n, expiry: 9 };
    const to = cast.users[0]!.id;
    const bad = [
      { ...base, kind: TxKind.Distribute, to, amount: 1n, category: 257, reason: "r" },
      { ...base, kind: TxKind.Approve, applicant: to, role: 258 },
      { ...base, kind: TxKind.Approve, applicant: to, role: 2.9 },
      { ...base, kind: TxKind.SetRole, target: to, role: 4.5 },
      { ...base, kind: TxKind.SetPolicy, policy: 257 },
    ];
    for (const body of bad)
      assert.throws(
        () => encodeBody(body as never),
        RangeError,
        JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? `${v}` : v)),
      );
    assert.throws(() => encodeAccountData({ ...freshAccountData(1), role: 2.5 as Role }), RangeError);
    assert.throws(() => encodeAccountData({ ...freshAccountData(1), role: 258 as Role }), RangeError);
  });
});
