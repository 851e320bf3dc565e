/**
 * The ledger's rules by example for elections: deposits (pledge, release), candidacy and votes.
 * Each reason a rejection gives is recorded (see helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Role } from "../src/ledger/account.js";
import { verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { A, B, C, D, MIN, recorder, S, world } from "./helpers/ledger-rules-world.js";

const { seen, run, one, join, candidate } = recorder();

describe("deposits and candidacy: pledge, release, candidacy", () => {
  it("pledge locks part of the amount; BAD_AMOUNT, INSUFFICIENT_FUNDS (also for funds just received)", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.pledge(A, 300, 1), "OK");
    assert.deepEqual([chain.amount(A), chain.account(A)?.deposit], [1000n, 300n]);
    await one(chain, t.pledge(A, 0, 2), "BAD_AMOUNT");
    await one(chain, t.pledge(A, 701, 2), "INSUFFICIENT_FUNDS");
    const out = await run(chain, [t.transfer(B, C, 200, 1, { cosign: C }), t.pledge(C, 400, 1)]);
    assert.deepEqual(verdicts(out), ["OK", "INSUFFICIENT_FUNDS"]);
    await one(chain, t.pledge(C, 500, 1), "OK");
  });

  it("release unlocks at once; BAD_AMOUNT, DEPOSIT above the deposit or below a candidate's minimum", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    await one(chain, t.pledge(A, 50, chain.nonce(A)), "OK");
    await one(chain, t.release(A, 0, chain.nonce(A)), "BAD_AMOUNT");
    await one(chain, t.release(A, 151, chain.nonce(A)), "DEPOSIT", /deposit is 150/);
    await one(chain, t.release(A, 51, chain.nonce(A)), "DEPOSIT", /withdraw the candidacy first/);
    await one(chain, t.release(A, 50, chain.nonce(A)), "OK");
    assert.equal(chain.account(A)?.deposit, MIN);
    await one(chain, t.candidacy(A, false, chain.nonce(A)), "OK");
    // What is released is spendable at once, in the same pulse.
    const n = chain.nonce(A);
    const out = await run(chain, [t.transfer(A, C, 1000, n + 1n, { cosign: C }), t.release(A, MIN, n)]);
    assert.deepEqual(verdicts(out), ["OK", "OK"]);
    assert.deepEqual([chain.amount(A), chain.account(A)?.deposit], [0n, 0n]);
  });

  it("candidacy needs a member with the minimum deposit (NOT_MEMBER, DEPOSIT); withdrawing always works", async () => {
    const chain = await world();
    const t = chain.txs;
    await join(chain, A, Role.Guest);
    await join(chain, B, Role.Member);
    await one(chain, t.pledge(A, MIN, chain.nonce(A)), "OK");
    await one(chain, t.candidacy(A, true, chain.nonce(A)), "NOT_MEMBER");
    await one(chain, t.pledge(B, MIN - 1n, chain.nonce(B)), "OK");
    await one(chain, t.candidacy(B, true, chain.nonce(B)), "DEPOSIT", /at least 100, pledged 99/);
    await one(chain, t.pledge(B, 1, chain.nonce(B)), "OK");
    await one(chain, t.candidacy(B, true, chain.nonce(B)), "OK");
    assert.equal(chain.account(B)?.candidate, true);
    await one(chain, t.candidacy(B, false, chain.nonce(B)), "OK");
    await one(chain, t.candidacy(D, false, 1), "OK");
    assert.equal(chain.account(B)?.candidate, false);
  });
});

describe("vote", () => {
  it("records a vote for a candidate up to the balance (deposit included); weight 0 withdraws it", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, B);
    await join(chain, A, Role.Guest);
    await one(chain, t.pledge(A, 500, chain.nonce(A)), "OK");
    await one(chain, t.vote(A, B, 1000, chain.nonce(A)), "OK");
    assert.deepEqual(chain.account(A)?.vote, { candidate: B.id, weight: 1000n });
    await one(chain, t.vote(A, null, 0, chain.nonce(A)), "OK");
    assert.equal(chain.account(A)?.vote, null);
  });

  it("NOT_MEMBER, VOTE_WEIGHT (also for funds just received) and NOT_CANDIDATE", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, B);
    await one(chain, t.vote(A, B, 1, chain.nonce(A)), "NOT_MEMBER");
    await one(chain, t.apply(A, chain.nonce(A)), "OK");
    await one(chain, t.vote(A, B, 1, chain.nonce(A)), "NOT_MEMBER", /only members and guests/);
    await one(chain, t.approve(S, A, Role.Member, chain.nonce(S)), "OK");
    await one(chain, t.vote(A, B, 1001, chain.nonce(A)), "VOTE_WEIGHT", /above the balance 1000/);
    await one(chain, t.vote(A, C, 10, chain.nonce(A)), "NOT_CANDIDATE");
    const out = await run(chain, [
      t.transfer(C, A, 100, 1, { cosign: A }),
      t.vote(A, B, 1001, chain.nonce(A)),
    ]);
    assert.deepEqual(verdicts(out), ["OK", "VOTE_WEIGHT"]);
    await one(chain, t.vote(A, B, 1100, chain.nonce(A)), "OK");
  });
});

it("sees exactly the reject reasons REASONS_SEEN.election lists", () => {
  assertReasonsSeen("election", seen);
});
