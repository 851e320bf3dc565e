/**
 * The ledger's rules by example: for each transaction kind what it does when accepted, and each
 * reason rules.ts (and the static checks before it) can give for a rejection. Every pulse goes
 * through Ledger.applyPulse on a MemoryKV, so decoding, signature checks, the state machine, the
 * commit and the receipts all take part; a rejected transaction must leave the root as it was.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { freshAccountData, Policy, Role } from "../src/ledger/account.js";
import type { PulseOutcome } from "../src/ledger/ledger.js";
import { type RejectReason, transition } from "../src/ledger/state-machine.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { decodeTx, encodeTx } from "../src/ledger/tx-codec.js";
import { MAX_U64 } from "../src/smt/hash.js";
import {
  badSignature,
  Chain,
  checkReceipts,
  genesisTx,
  hex,
  MapView,
  makeCast,
  okItems,
  openOrg,
  orgParams,
  summaryJson,
  Txs,
  verdicts,
} from "./helpers/ledger-fixtures.js";

const cast = makeCast(6);
const S = cast.supervisor;
const [A, B, C, D, E] = cast.users as [Signer, Signer, Signer, Signer, Signer];
const ORG = cast.orgKey.id;
const MIN = 100n;

/** Every reason a test saw: the last test checks none was left untested. */
const seen = new Set<string>();
const ALL_REASONS: Record<RejectReason, true> = {
  DECODE: true,
  BAD_SIGNATURE: true,
  KEY_MISMATCH: true,
  DUPLICATE: true,
  NO_ORG: true,
  ORG_EXISTS: true,
  WRONG_ORG: true,
  BAD_PARAMS: true,
  EXPIRED: true,
  ORG_ACCOUNT: true,
  NONCE: true,
  BAD_AMOUNT: true,
  SELF: true,
  INSUFFICIENT_FUNDS: true,
  PAYEE_SIGNATURE: true,
  OVERFLOW: true,
  NOT_SUPERVISOR: true,
  NOT_MEMBER: true,
  NOT_APPLICANT: true,
  ALREADY_MEMBER: true,
  BAD_ROLE: true,
  DEPOSIT: true,
  NOT_CANDIDATE: true,
  VOTE_WEIGHT: true,
};

/** Supply 10,000: S 1,000, A 1,000, B 500, C 300; D and E hold nothing; the rest (7,200) is ORG's. */
const PARAMS: OrgParams = orgParams(S, {
  supply: 10_000n,
  minDeposit: MIN,
  distribution: [
    [S, 1000n],
    [A, 1000n],
    [B, 500n],
    [C, 300n],
  ],
});

const world = () => openOrg(cast, PARAMS);

/** Applies a pulse, records its reasons and checks its receipts. */
async function run(chain: Chain, batch: readonly Uint8Array[]): Promise<PulseOutcome> {
  const out = await chain.pulse(batch);
  for (const v of verdicts(out)) if (v !== "OK") seen.add(v);
  checkReceipts(chain.ledger, out, batch);
  return out;
}

/** Applies one transaction alone and expects `want`; a rejection must change nothing. */
async function one(chain: Chain, bytes: Uint8Array, want: string, message?: RegExp): Promise<PulseOutcome> {
  const before = chain.ledger.head === undefined ? undefined : summaryJson(chain.root());
  const out = await run(chain, [bytes]);
  assert.deepEqual(verdicts(out), [want]);
  if (want !== "OK") {
    if (before !== undefined) assert.deepEqual(summaryJson(out.root), before, "a rejection changes nothing");
    assert.equal(out.accountsChanged, 0);
    const r = out.results[0]!;
    if (message !== undefined && !r.ok) assert.match(r.message, message);
  }
  return out;
}

/** Makes `who` an applicant then gives it `role`. */
async function join(chain: Chain, who: Signer, role: typeof Role.Guest | typeof Role.Member): Promise<void> {
  await one(chain, chain.txs.apply(who, chain.nonce(who)), "OK");
  await one(chain, chain.txs.approve(S, who, role, chain.nonce(S)), "OK");
}

/** Makes `who` a member and a candidate with MIN pledged. */
async function candidate(chain: Chain, who: Signer): Promise<void> {
  await join(chain, who, Role.Member);
  await one(chain, chain.txs.pledge(who, MIN, chain.nonce(who)), "OK");
  await one(chain, chain.txs.candidacy(who, true, chain.nonce(who)), "OK");
}

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
    for (const r of got) if (r !== "OK") seen.add(r);
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

  it("every reject reason has been exercised above", () => {
    assert.deepEqual(
      Object.keys(ALL_REASONS).filter((r) => !seen.has(r)),
      [],
    );
  });
});
