/**
 * The ledger's rules by example for moving tokens: transfer (payee's consent, funds, overflow, votes
 * cut by spending) and distribute (from the organization's account by a supervisor). Each reason a
 * rejection gives is recorded (see helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { freshAccountData, Policy, Role } from "../src/ledger/account.js";
import { transition } from "../src/ledger/state-machine.js";
import { MAX_U64 } from "../src/smt/hash.js";
import { MapView, okItems, verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { A, B, C, D, E, ORG, PARAMS, recorder, S, world } from "./helpers/ledger-rules-world.js";
import { Txs } from "./helpers/ledger-signers.js";

const { seen, note, run, one, join, candidate } = recorder();

describe("transfer", () => {
  it("moves the amount, with the payee's countersignature; only the payer's nonce and data change", async () => {
    const chain = await world();
    const before = chain.root();
    const out = await one(chain, chain.txs.transfer(A, B, 100, 1, { cosign: B }), "OK");
    assert.equal(chain.amount(A), 900n);
    assert.equal(chain.amount(B), 600n);
    assert.equal(out.root.sum, before.sum);
    assert.equal(out.accountsChanged, 2);
    const a = chain.account(A)!;
    const b = chain.account(B)!;
    assert.deepEqual([a.nonce, a.updated], [1n, out.pulse]);
    assert.deepEqual([b.nonce, b.updated], [0n, 0], "the payee's data is untouched: only its amount moved");
  });

  it("BAD_AMOUNT: a transfer of 0", async () => {
    await one(await world(), new Txs(ORG).transfer(A, B, 0, 1, { cosign: B }), "BAD_AMOUNT");
  });

  it("SELF: payer and payee are the same account", async () => {
    await one(await world(), new Txs(ORG).transfer(A, A, 5, 1, { cosign: A }), "SELF");
  });

  it("PAYEE_SIGNATURE: without the payee's signature, unless its policy is AcceptAll", async () => {
    const chain = await world();
    const t = chain.txs;
    const pay = t.transfer(A, B, 10, 1);
    await one(chain, pay, "PAYEE_SIGNATURE", /countersigns/);
    await one(chain, t.transfer(A, D, 10, 1), "PAYEE_SIGNATURE", /countersigns/); // a new account too
    await one(chain, t.transfer(A, ORG, 10, 1), "OK"); // the organization accepts all from genesis
    await one(chain, t.setPolicy(B, Policy.AcceptAll, 1), "OK");
    assert.equal(chain.account(B)?.policy, Policy.AcceptAll);
    await one(chain, t.transfer(A, B, 10, 2), "OK");
    await one(chain, t.setPolicy(B, Policy.Countersign, 2), "OK");
    await one(chain, t.transfer(A, B, 10, 3), "PAYEE_SIGNATURE");
    assert.equal(chain.amount(B), 510n);
  });

  it("INSUFFICIENT_FUNDS: above the amount, or reaching into the deposit", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.transfer(A, B, 1001, 1, { cosign: B }), "INSUFFICIENT_FUNDS", /can spend 1000/);
    await one(chain, t.pledge(A, 900, 1), "OK");
    await one(chain, t.transfer(A, B, 101, 2, { cosign: B }), "INSUFFICIENT_FUNDS", /can spend 100/);
    await one(chain, t.transfer(A, B, 100, 2, { cosign: B }), "OK");
    assert.deepEqual([chain.amount(A), chain.account(A)?.deposit], [900n, 900n]);
  });

  it("INSUFFICIENT_FUNDS: what an account receives in a pulse it spends from the next one", async () => {
    const chain = await world();
    const t = chain.txs;
    const spend = t.transfer(C, B, 400, 1, { cosign: B });
    const out = await run(chain, [t.transfer(A, C, 500, 1, { cosign: C }), spend]);
    assert.deepEqual(verdicts(out), ["OK", "INSUFFICIENT_FUNDS"]);
    assert.equal(chain.amount(C), 800n);
    // What it held at the start stays spendable alongside what came in.
    const out2 = await run(chain, [
      t.transfer(A, C, 100, 2, { cosign: C }),
      t.transfer(C, E, 300, 1, { cosign: E }),
    ]);
    assert.deepEqual(verdicts(out2), ["OK", "OK"]);
    await one(chain, spend, "NONCE");
    await one(chain, t.transfer(C, B, 600, 2, { cosign: B }), "OK");
  });

  it("OVERFLOW: a payee's amount would pass u64 (a state only `transition` can be given)", () => {
    const view = new MapView({ id: ORG, params: PARAMS })
      .set(A.id, { amount: 10n, ...freshAccountData(0) })
      .set(B.id, { amount: MAX_U64 - 5n, ...freshAccountData(0), policy: Policy.AcceptAll });
    const t = new Txs(ORG);
    // Each alone against the same state: 6 would pass u64, 5 reaches it exactly.
    const over = transition(view, 1, okItems([t.transfer(A, B, 6, 1)]));
    const fits = transition(view, 1, okItems([t.transfer(A, B, 5, 1)]));
    const got = [...over.results, ...fits.results].map((r) => (r.ok ? "OK" : r.reason));
    note(got);
    assert.deepEqual(got, ["OVERFLOW", "OK"]);
    assert.deepEqual(over.changes, []);
    assert.equal(fits.changes.find((c) => c.id.equals(B.id))?.after.amount, MAX_U64);
  });

  it("spending below a vote lowers its weight; spending everything withdraws it", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, B);
    await join(chain, A, Role.Member);
    await one(chain, t.vote(A, B, 800, chain.nonce(A)), "OK");
    await one(chain, t.transfer(A, C, 300, chain.nonce(A), { cosign: C }), "OK");
    assert.equal(chain.account(A)?.vote?.weight, 700n);
    await one(chain, t.transfer(A, C, 100, chain.nonce(A), { cosign: C }), "OK");
    assert.equal(chain.account(A)?.vote?.weight, 600n, "still at most the amount");
    await one(chain, t.transfer(A, C, 600, chain.nonce(A), { cosign: C }), "OK");
    assert.equal(chain.account(A)?.vote, null);
  });
});

describe("distribute", () => {
  it("a supervisor moves tokens from the organization's account; its own nonce counts", async () => {
    const chain = await world();
    const out = await one(chain, chain.txs.distribute(S, D, 500, 1), "OK");
    assert.equal(chain.amount(D), 500n, "no countersignature needed");
    assert.equal(chain.amount(ORG), 6700n);
    assert.equal(chain.amount(S), 1000n);
    assert.equal(chain.account(S)?.nonce, 1n);
    assert.equal(chain.account(ORG)?.nonce, 0n);
    assert.equal(out.receipts[0]?.proofs.length, 3, "supervisor, organization, recipient");
  });

  it("NOT_SUPERVISOR, BAD_AMOUNT, SELF (to the organization) and INSUFFICIENT_FUNDS", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.distribute(A, D, 5, 1), "NOT_SUPERVISOR");
    await one(chain, t.distribute(S, D, 0, 1), "BAD_AMOUNT");
    await one(chain, t.distribute(S, ORG, 5, 1), "SELF");
    await one(chain, t.distribute(S, D, 7201, 1), "INSUFFICIENT_FUNDS");
    await one(chain, t.distribute(S, D, 7200, 1), "OK");
  });
});

it("sees exactly the reject reasons REASONS_SEEN.transfer lists", () => {
  assertReasonsSeen("transfer", seen);
});
