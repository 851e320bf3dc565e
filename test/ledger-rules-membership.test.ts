/**
 * The ledger's rules by example for membership: apply, approve, set role and leave, and what a
 * change of role does to a candidacy and a vote. Each reason a rejection gives is recorded (see
 * helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Role } from "../src/ledger/account.js";
import { verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { A, B, C, D, E, MIN, ORG, recorder, S, world } from "./helpers/ledger-rules-world.js";

const { seen, run, one, join, candidate } = recorder();

describe("membership: apply, approve, set role, leave", () => {
  it("apply makes an applicant (a new account too); ALREADY_MEMBER when it has a role", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.apply(D, 1), "OK");
    assert.deepEqual([chain.account(D)?.role, chain.amount(D)], [Role.Applicant, 0n]);
    await one(chain, t.apply(D, 2), "ALREADY_MEMBER", /applicant/);
    await one(chain, t.apply(S, 1), "ALREADY_MEMBER", /supervisor/);
  });

  it("approve gives an applicant its role; NOT_APPLICANT and NOT_SUPERVISOR", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.apply(D, 1), "OK");
    await one(chain, t.approve(A, D, Role.Member, 1), "NOT_SUPERVISOR");
    await one(chain, t.approve(S, E, Role.Member, 1), "NOT_APPLICANT");
    await one(chain, t.approve(S, D, Role.Guest, 1), "OK");
    assert.equal(chain.account(D)?.role, Role.Guest);
    await one(chain, t.approve(S, D, Role.Member, 2), "NOT_APPLICANT", /not applied/);
  });

  it("set role changes a member's role; SELF, ORG_ACCOUNT, NOT_MEMBER, NOT_SUPERVISOR", async () => {
    const chain = await world();
    const t = chain.txs;
    await join(chain, D, Role.Guest);
    await one(chain, t.setRole(S, D, Role.Member, chain.nonce(S)), "OK");
    assert.equal(chain.account(D)?.role, Role.Member);
    await one(chain, t.setRole(S, S, Role.Member, chain.nonce(S)), "SELF");
    await one(chain, t.setRole(S, ORG, Role.Member, chain.nonce(S)), "ORG_ACCOUNT");
    await one(chain, t.setRole(S, E, Role.Member, chain.nonce(S)), "NOT_MEMBER");
    await one(chain, t.apply(E, 1), "OK");
    await one(chain, t.setRole(S, E, Role.Member, chain.nonce(S)), "NOT_MEMBER", /not a member or guest/);
    await one(chain, t.setRole(A, D, Role.Supervisor, 1), "NOT_SUPERVISOR");
    // A second supervisor can then demote the first.
    await one(chain, t.setRole(S, D, Role.Supervisor, chain.nonce(S)), "OK");
    await one(chain, t.setRole(D, S, Role.Member, chain.nonce(D)), "OK");
    assert.equal(chain.account(S)?.role, Role.Member);
  });

  it("a candidate set to guest or none loses its candidacy; set back to member, it stays lost", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    await one(chain, t.setRole(S, A, Role.Guest, chain.nonce(S)), "OK");
    assert.equal(chain.account(A)?.candidate, false);
    await one(chain, t.setRole(S, A, Role.Member, chain.nonce(S)), "OK");
    assert.equal(chain.account(A)?.candidate, false);
    await one(chain, t.candidacy(A, true, chain.nonce(A)), "OK");
    await one(chain, t.setRole(S, A, Role.Supervisor, chain.nonce(S)), "OK");
    assert.equal(chain.account(A)?.candidate, true, "a supervisor stays a candidate");
    await one(chain, t.setRole(S, A, Role.None, chain.nonce(S)), "OK");
    assert.deepEqual([chain.account(A)?.role, chain.account(A)?.candidate], [Role.None, false]);
  });

  it("leave drops the role and the candidacy; NOT_MEMBER without a role, BAD_ROLE for a supervisor", async () => {
    const chain = await world();
    const t = chain.txs;
    await one(chain, t.leave(D, 1), "NOT_MEMBER");
    await one(chain, t.leave(S, 1), "BAD_ROLE", /supervisor cannot leave/);
    await one(chain, t.apply(D, 1), "OK");
    await one(chain, t.leave(D, 2), "OK");
    assert.equal(chain.account(D)?.role, Role.None, "an applicant may withdraw");
    await candidate(chain, A);
    await one(chain, t.leave(A, chain.nonce(A)), "OK");
    assert.deepEqual([chain.account(A)?.role, chain.account(A)?.candidate], [Role.None, false]);
    assert.equal(chain.account(A)?.deposit, MIN, "the deposit stays until released");
  });
});

describe("membership and votes", () => {
  it("leaving, or being set to none, drops the vote; being set to guest keeps it", async () => {
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, B);
    for (const u of [A, C, D]) await join(chain, u, Role.Member);
    const votes = [A, C].map((u) => t.vote(u, B, 50, chain.nonce(u)));
    assert.deepEqual(verdicts(await run(chain, votes)), ["OK", "OK"]);
    await one(chain, t.leave(A, chain.nonce(A)), "OK");
    assert.equal(chain.account(A)?.vote, null);
    await one(chain, t.setRole(S, C, Role.Guest, chain.nonce(S)), "OK");
    assert.deepEqual(chain.account(C)?.vote, { candidate: B.id, weight: 50n });
    await one(chain, t.setRole(S, C, Role.None, chain.nonce(S)), "OK");
    assert.equal(chain.account(C)?.vote, null);
  });
});

it("sees exactly the reject reasons REASONS_SEEN.membership lists", () => {
  assertReasonsSeen("membership", seen);
});
