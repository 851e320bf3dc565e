/**
 * The ledger's rules by example for elections: deposits (pledge, release), candidacy with its
 * commitment, reveals in the cycle's window, and votes. Each reason a rejection gives is recorded
 * (see helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { schedule } from "../src/election/cycle.js";
import { commitment } from "../src/election/draw.js";
import { Role } from "../src/ledger/account.js";
import { type Chain, verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { A, B, C, D, MIN, PARAMS, recorder, S, world } from "./helpers/ledger-rules-world.js";
import { secretOf } from "./helpers/ledger-signers.js";

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

describe("candidacy commitments and reveals", () => {
  const L = PARAMS.electionCycle; // 10: cycle 0's snapshot is pulse 5, its reveal window pulses 6-7
  const idleUntil = async (chain: Chain, pulse: number) => {
    assert.ok(chain.next <= pulse, `already at pulse ${chain.next}`);
    while (chain.next < pulse) await run(chain, []);
  };

  it("declaring stores the commitment; declaring again replaces it; withdrawing, leaving or a guest role drops it", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    assert.deepEqual(chain.account(A)?.commitment, commitment(secretOf(A, 0)));
    const other = commitment(Buffer.alloc(32, 7));
    await one(chain, t.candidacy(A, true, chain.nonce(A), { commitment: other }), "OK");
    assert.deepEqual(chain.account(A)?.commitment, other);
    await one(chain, t.candidacy(A, false, chain.nonce(A)), "OK");
    assert.equal(chain.account(A)?.commitment, null);
    await one(chain, t.candidacy(A, true, chain.nonce(A)), "OK");
    await one(chain, t.setRole(S, A, Role.Guest, chain.nonce(S)), "OK");
    assert.deepEqual([chain.account(A)?.candidate, chain.account(A)?.commitment], [false, null]);
  });

  it("a reveal in the window opens the commitment and commits to the next secret; the next cycle's window takes that one", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    const w0 = schedule(0, L);
    assert.deepEqual([w0.snapshot, w0.revealFirst, w0.revealLast], [5, 6, 7]);
    await idleUntil(chain, w0.revealLast);
    await one(chain, t.reveal(A, 0, chain.nonce(A)), "OK");
    const a = chain.account(A)!;
    assert.deepEqual(a.reveal, { cycle: 0, secret: secretOf(A, 0) });
    assert.deepEqual(a.commitment, commitment(secretOf(A, 1)));
    assert.equal(a.updated, w0.revealLast, "a reveal is a new version of the data");
    await idleUntil(chain, schedule(1, L).revealFirst);
    await one(chain, t.reveal(A, 1, chain.nonce(A)), "OK");
    assert.deepEqual(chain.account(A)?.reveal, { cycle: 1, secret: secretOf(A, 1) });
  });

  it("REVEAL_WINDOW at the snapshot, after the window and for another cycle's number", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    assert.equal(chain.next, 5, "the snapshot pulse");
    await one(chain, t.reveal(A, 0, chain.nonce(A)), "REVEAL_WINDOW", /outside the reveal window of cycle 0/);
    await one(chain, t.reveal(A, 1, chain.nonce(A)), "REVEAL_WINDOW");
    await idleUntil(chain, 8);
    await one(chain, t.reveal(A, 0, chain.nonce(A)), "REVEAL_WINDOW");
    await idleUntil(chain, 16);
    await one(chain, t.reveal(A, 0xffffffff, chain.nonce(A)), "REVEAL_WINDOW");
  });

  it("BAD_REVEAL for a secret that is not the commitment's; NOT_CANDIDATE; ALREADY_REVEALED the second time", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    await idleUntil(chain, 6); // the window is pulses 6 and 7
    const n = chain.nonce(A);
    const bad = await run(chain, [t.reveal(A, 0, n, { secret: secretOf(A, 1) }), t.reveal(D, 0, 1)]);
    assert.deepEqual(verdicts(bad), ["BAD_REVEAL", "NOT_CANDIDATE"]);
    assert.equal(chain.account(A)?.reveal, null);
    // The second reveal's secret (cycle 1's) opens the commitment the first one stores: only the
    // one-per-cycle rule refuses it.
    const twice = await run(chain, [t.reveal(A, 0, n), t.reveal(A, 0, n + 1n, { secret: secretOf(A, 1) })]);
    assert.deepEqual(verdicts(twice), ["OK", "ALREADY_REVEALED"]);
    await one(chain, t.candidacy(A, false, chain.nonce(A)), "OK");
    assert.deepEqual(chain.account(A)?.reveal, { cycle: 0, secret: secretOf(A, 0) }, "the reveal stays");
    await one(chain, t.reveal(A, 0, chain.nonce(A), { secret: secretOf(A, 1) }), "NOT_CANDIDATE");
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
