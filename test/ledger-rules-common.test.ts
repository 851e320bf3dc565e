/**
 * The ledger's rules by example, common to every transaction: genesis, the checks of every acting
 * transaction (organization, expiry, organization's key, nonce), the static checks before the rules
 * (decoding, signatures, keys, duplicates) and the canonical order of a batch. Also checks that the
 * rules files together exercise every reject reason (see helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { freshAccountData, Policy, Role } from "../src/ledger/account.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { decodeTx, encodeTx } from "../src/ledger/tx-codec.js";
import { Chain, verdicts } from "./helpers/ledger-chain.js";
import { ALL_REASONS, assertReasonsSeen, REASONS_SEEN } from "./helpers/ledger-reasons.js";
import { A, B, C, cast, D, ORG, PARAMS, recorder, S, world } from "./helpers/ledger-rules-world.js";
import { badSignature, genesisTx, hex, orgParams, Txs } from "./helpers/ledger-signers.js";

const { seen, run, one } = recorder();

describe("genesis", () => {
  it("issues the supply: the distribution, the rest to the organization's account, the supervisor's role", async () => {
    const chain = await Chain.open(ORG);
    const out = await one(chain, genesisTx(cast.orgKey, PARAMS), "OK");
    assert.equal(out.issued, 10_000n);
    assert.equal(out.root.sum, 10_000n);
    assert.equal(out.root.count, 5, "org, S, A, B, C");
    assert.equal(chain.ledger.org?.id.equals(ORG), true);
    assert.equal(chain.ledger.org?.params.name, "test org");
    const org = chain.account(ORG)!;
    assert.equal(org.amount, 7200n);
    assert.equal(org.policy, Policy.AcceptAll, "the organization takes transfers without countersigning");
    assert.equal(chain.account(S)?.role, Role.Supervisor);
    assert.deepEqual(
      [A, B, C].map((u) => chain.account(u)),
      [1000n, 500n, 300n].map((amount) => ({ amount, ...freshAccountData(0) })),
    );
  });

  it("ORG_EXISTS: a second genesis, in a later pulse or in the same batch", async () => {
    const chain = await world();
    await one(chain, genesisTx(cast.otherOrgKey, orgParams(S)), "ORG_EXISTS", /already/);
    // Two in one batch: canonical order puts the lower id first; it wins.
    const g = [genesisTx(cast.orgKey, PARAMS), genesisTx(cast.otherOrgKey, orgParams(S))];
    const [a, b] = g.map((x) => decodeTx(x).id) as [Buffer, Buffer];
    const winner = Buffer.compare(a, b) < 0 ? 0 : 1;
    const fresh = await Chain.open(ORG);
    const out = await run(fresh, g);
    assert.deepEqual(verdicts(out), winner === 0 ? ["OK", "ORG_EXISTS"] : ["ORG_EXISTS", "OK"]);
    assert.equal(hex(fresh.ledger.org!.id), hex([cast.orgKey, cast.otherOrgKey][winner]!.id));
  });

  it("BAD_PARAMS: each parameter problem is refused and nothing is issued", async () => {
    const line = (to: Buffer, amount: bigint) => ({ to, amount, reason: "r" });
    const cases: [Partial<OrgParams>, RegExp][] = [
      [{ name: "" }, /name is empty/],
      [{ pulsePeriodMs: 0 }, /pulse period/],
      [{ electionCycle: 0 }, /election cycle/],
      [{ committeeSize: 0 }, /committee size/],
      [{ supervisor: ORG }, /supervisor is the organization/],
      [{ distribution: [line(A.id, 0n)] }, /line of 0/],
      [{ distribution: [line(ORG, 5n)] }, /organization's own account/],
      [{ distribution: [line(A.id, 1n), line(A.id, 2n)] }, /two distribution lines/],
      [{ supply: 10n, distribution: [line(A.id, 11n)] }, /exceeds the supply/],
      [{ committeeSize: 2, committee: [A.id, B.id, C.id] }, /3 members, more than the committee size 2/],
      [{ committee: [A.id, B.id, A.id] }, /twice in the genesis committee/],
      [{ committee: [A.id, Buffer.alloc(20)] }, /zero account id/],
    ];
    const chain = await Chain.open(ORG);
    for (const [patch, message] of cases)
      await one(chain, genesisTx(cast.orgKey, { ...PARAMS, ...patch }), "BAD_PARAMS", message);
    assert.equal(chain.ledger.org, undefined);
    assert.equal(chain.root().count, 0);
    // The distribution may take the whole supply.
    const all = { ...PARAMS, supply: 2800n };
    const out = await one(chain, genesisTx(cast.orgKey, all), "OK");
    assert.equal(out.root.sum, 2800n);
    assert.equal(chain.amount(ORG), 0n);
  });

  it("NO_ORG: any other transaction before the genesis", async () => {
    const chain = await Chain.open(ORG);
    await one(chain, chain.txs.setPolicy(A, Policy.AcceptAll, 1), "NO_ORG");
    await one(chain, chain.txs.apply(A, 1), "NO_ORG");
  });

  it("goes first in its pulse; what it hands out is spendable from the next pulse", async () => {
    const chain = await Chain.open(ORG);
    const t = chain.txs;
    const pay = t.transfer(A, B, 10, 2, { cosign: B });
    const out = await run(chain, [t.setPolicy(A, Policy.AcceptAll, 1), pay, genesisTx(cast.orgKey, PARAMS)]);
    assert.deepEqual(verdicts(out), ["OK", "INSUFFICIENT_FUNDS", "OK"]);
    assert.deepEqual(
      out.results.map((r) => (r.ok ? r.position : -1)),
      [1, -1, 0],
    );
    await one(chain, pay, "OK");
  });
});

describe("checks of every acting transaction", () => {
  it("WRONG_ORG: signed for another organization", async () => {
    const chain = await world();
    const other = new Txs(cast.otherOrgKey.id);
    await one(chain, other.transfer(A, B, 1, 1, { cosign: B }), "WRONG_ORG");
    await one(chain, other.apply(D, 1), "WRONG_ORG");
  });

  it("EXPIRED: applied after its expiry pulse; the expiry pulse itself is fine", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.transfer(A, B, 1, 1, { cosign: B, expiry: chain.next - 1 }), "EXPIRED", /expired/);
    await one(chain, t.transfer(A, B, 1, 1, { cosign: B, expiry: 0 }), "EXPIRED");
    await one(chain, t.transfer(A, B, 1, 1, { cosign: B, expiry: chain.next }), "OK");
  });

  it("ORG_ACCOUNT: the organization's key does not act", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.transfer(cast.orgKey, A, 1, 1, { cosign: A }), "ORG_ACCOUNT");
    await one(chain, t.setPolicy(cast.orgKey, Policy.Countersign, 1), "ORG_ACCOUNT");
    assert.equal(chain.account(ORG)?.policy, Policy.AcceptAll);
  });

  it("NONCE: the account's nonce + 1 only; a replay, a gap and 0 are refused", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.transfer(A, B, 1, 0, { cosign: B }), "NONCE", /expects 1/);
    await one(chain, t.transfer(A, B, 1, 2, { cosign: B }), "NONCE");
    const first = t.transfer(A, B, 1, 1, { cosign: B });
    await one(chain, first, "OK");
    assert.equal(chain.account(A)?.nonce, 1n);
    await one(chain, first, "NONCE", /nonce 1, the account expects 2/);
    // In one batch: 2 and 3 follow each other, 5 leaves a gap.
    const out = await run(chain, [
      t.transfer(A, B, 1, 5, { cosign: B }),
      t.transfer(A, B, 2, 3, { cosign: B }),
      t.transfer(A, B, 3, 2, { cosign: B }),
    ]);
    assert.deepEqual(verdicts(out), ["NONCE", "OK", "OK"]);
    assert.equal(chain.account(A)?.nonce, 3n);
  });
});

describe("static checks and the batch", () => {
  it("DECODE: bytes that are not one transaction; the others keep their places", async () => {
    const chain = await world();
    const good = chain.txs.transfer(A, B, 5, 1, { cosign: B });
    const batch = [
      Buffer.concat([good, Buffer.from([0])]),
      good,
      good.subarray(0, good.length - 1),
      Buffer.from("not a transaction"),
    ];
    const out = await run(chain, batch);
    assert.deepEqual(verdicts(out), ["DECODE", "OK", "DECODE", "DECODE"]);
    for (const i of [0, 2, 3]) assert.equal(out.results[i]?.txId, undefined);
    assert.equal(hex(out.results[1]!.txId!), hex(decodeTx(good).id));
  });

  it("BAD_SIGNATURE: a payer's or a payee's signature that does not verify", async () => {
    const chain = await world();
    const good = chain.txs.transfer(A, B, 5, 1, { cosign: B });
    await one(chain, badSignature(good), "BAD_SIGNATURE");
    const tx = decodeTx(good);
    const sig = Buffer.from(tx.signatures[1]!.signature);
    sig[0]! ^= 0x80;
    const badPayee = encodeTx({
      body: tx.body,
      signatures: [tx.signatures[0]!, { ...tx.signatures[1]!, signature: sig }],
    });
    await one(chain, badPayee, "BAD_SIGNATURE");
    await one(chain, good, "OK");
  });

  it("KEY_MISMATCH: a signer's key is not the actor's (or the payee's)", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.transfer(A, B, 5, 1, { signers: [B] }), "KEY_MISMATCH");
    await one(chain, t.transfer(A, B, 5, 1, { cosign: C }), "KEY_MISMATCH");
    await one(chain, t.pledge(A, 5, 1, { signers: [cast.orgKey] }), "KEY_MISMATCH");
  });

  it("DUPLICATE: the same transaction twice in a batch; a copy with a bad signature does not block the good one", async () => {
    const chain = await world();
    const t = chain.txs;
    const pay = t.transfer(A, B, 5, 1, { cosign: B });
    assert.deepEqual(verdicts(await run(chain, [pay, pay])), ["OK", "DUPLICATE"]);
    const pay2 = t.transfer(A, B, 5, 2, { cosign: B });
    assert.deepEqual(verdicts(await run(chain, [badSignature(pay2), pay2])), ["BAD_SIGNATURE", "OK"]);
    // A copy without the payee's signature has the same id (signatures are not part of it).
    await one(chain, t.setPolicy(B, Policy.AcceptAll, 1), "OK");
    const pay3 = t.transfer(A, B, 5, 3);
    const pay3cosigned = t.transfer(A, B, 5, 3, { cosign: B });
    assert.deepEqual(verdicts(await run(chain, [pay3, pay3cosigned])), ["OK", "DUPLICATE"]);
    assert.equal(chain.amount(B), 515n);
  });

  it("copies of one body go by their signatures (fewer first), whatever the submission order", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.setPolicy(B, Policy.AcceptAll, 1), "OK");
    // Either copy would pass alone: the one with the payer's signature only goes first.
    const single = t.transfer(A, B, 5, 1);
    const both = t.transfer(A, B, 5, 1, { cosign: B });
    assert.equal(hex(decodeTx(single).id), hex(decodeTx(both).id));
    assert.deepEqual(verdicts(await run(chain, [both, single])), ["DUPLICATE", "OK"]);
    const single2 = t.transfer(A, B, 5, 2);
    const both2 = t.transfer(A, B, 5, 2, { cosign: B });
    assert.deepEqual(verdicts(await run(chain, [single2, both2])), ["OK", "DUPLICATE"]);
  });

  it("applies in canonical order (actor id, nonce, id), whatever the submission order", async () => {
    const chain = await world();
    const t = chain.txs;
    const batch = [
      t.transfer(A, B, 5, 2, { cosign: B }),
      t.setPolicy(C, Policy.AcceptAll, 1),
      t.transfer(A, B, 5, 1, { cosign: B }),
      t.pledge(B, 5, 1),
      t.pledge(S, 5, 1),
    ];
    const out = await run(chain, batch);
    assert.deepEqual(verdicts(out), ["OK", "OK", "OK", "OK", "OK"]);
    const actorOf = (i: number) => (decodeTx(batch[i]!).body as { actor: Buffer }).actor;
    const nonceOf = (i: number) => (decodeTx(batch[i]!).body as { nonce: bigint }).nonce;
    const byPosition = out.results
      .map((r, i) => ({ i, p: r.ok ? r.position : -1 }))
      .sort((x, y) => x.p - y.p)
      .map((x) => x.i);
    const canonical = [0, 1, 2, 3, 4].sort(
      (i, j) => Buffer.compare(actorOf(i), actorOf(j)) || Number(nonceOf(i) - nonceOf(j)),
    );
    assert.deepEqual(byPosition, canonical);
  });
});

it("sees exactly the reject reasons REASONS_SEEN.common lists", () => {
  assertReasonsSeen("common", seen);
});

it("every reject reason is exercised by some rules file", () => {
  const listed = new Set<string>(Object.values(REASONS_SEEN).flat());
  assert.deepEqual(
    Object.keys(ALL_REASONS).filter((r) => !listed.has(r)),
    [],
  );
});
