/**
 * The forfeit (a withheld reveal costs deposit): its encoding (no signature, candidates ascending),
 * and its rule: only in the pulse after its cycle's reveal window, only against the list the pulse
 * is given (the draw's), `minDeposit` of each listed deposit (all of it if less) to the
 * organization's account, sums unchanged; deposits locked in the window. Each reason a rejection
 * gives is recorded (see helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { draw } from "../src/election/committee.js";
import { forfeitCycle, schedule } from "../src/election/cycle.js";
import { Role } from "../src/ledger/account.js";
import type { PulseOutcome } from "../src/ledger/ledger.js";
import { type OrgInfo, transition } from "../src/ledger/state-machine.js";
import { type OrgParams, TX_LIMITS, TxKind } from "../src/ledger/tx.js";
import {
  decodeTx,
  encodeTx,
  forfeitTx,
  rewardTx,
  signatureCount,
  signerIds,
} from "../src/ledger/tx-codec.js";
import { DecodeError } from "../src/util/bytes.js";
import { type Chain, MapView, okItems, openOrg, verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { checkReceipts, summaryJson } from "./helpers/ledger-receipts.js";
import { A, B, C, cast, MIN, ORG, PARAMS, recorder, S } from "./helpers/ledger-rules-world.js";
import { hex } from "./helpers/ledger-signers.js";

const { seen, note } = recorder();
const L = PARAMS.electionCycle; // 10: cycle 0's snapshot is pulse 5, its window 6-7, its forfeit pulse 8
const S0 = schedule(0, L);
const DUE = S0.revealLast + 1;

/** Applies the next pulse with `withheld` (null: none given), records its reasons, checks its receipts. */
async function run(
  chain: Chain,
  batch: readonly Buffer[],
  withheld: readonly Buffer[] | null,
  o: { committee?: readonly Buffer[]; skipUnchanged?: boolean } = {},
): Promise<PulseOutcome> {
  const out = await chain.ledger.applyPulse(chain.next++, batch, {
    ...(withheld === null ? {} : { withheld }),
    ...o,
  });
  note(verdicts(out));
  if (out.committed) checkReceipts(chain.ledger, out, batch);
  return out;
}

/**
 * Cycle 0 up to its forfeit pulse: A (deposit 150) and B (deposit 100) stand at the snapshot; B
 * reveals (in the window's first pulse), A withholds. The chain's next pulse is `until` (at most
 * the window's first: B has not revealed yet).
 */
async function withholding(params: OrgParams = PARAMS, until = DUE): Promise<Chain> {
  const chain = await openOrg(cast, params);
  const t = chain.txs;
  await run(chain, [t.apply(A, 1), t.apply(B, 1)], null);
  await run(chain, [t.approve(S, A, Role.Member, 1), t.approve(S, B, Role.Member, 2)], null);
  await run(chain, [t.pledge(A, 150, 2), t.pledge(B, MIN, 2)], null);
  await run(chain, [t.candidacy(A, true, 3), t.candidacy(B, true, 3)], null);
  while (chain.next < S0.revealFirst) await run(chain, [], null);
  if (until <= S0.revealFirst) return chain;
  await run(chain, [t.reveal(B, 0, 4)], null);
  while (chain.next < until) await run(chain, [], null);
  return chain;
}

/** The list the pulse is given, as a caller computes it: the draw's. */
const drawn = (chain: Chain) => draw(chain.ledger, 0).withheld;

describe("forfeit: encoding", () => {
  it("org, u32 cycle, u16 count and the ids ascending, then a signature count of 0", () => {
    const ids = [A.id, B.id].sort(Buffer.compare);
    const bytes = forfeitTx(ORG, 3, ids);
    const tx = decodeTx(bytes);
    assert.equal(tx.body.kind, TxKind.Forfeit);
    assert.equal(bytes.length, 22 + 4 + 2 + 20 * 2 + 1);
    assert.equal(hex(bytes), `010f${hex(ORG)}000000030002${ids.map(hex).join("")}00`);
    assert.equal(hex(encodeTx(tx)), hex(bytes));
    assert.deepEqual(signatureCount(TxKind.Forfeit), [0, 0]);
    assert.deepEqual(signerIds(tx.body), []);
  });

  it("refuses no candidate, an unsorted or repeated list, more than the limit, a signature", () => {
    const [lo, hi] = [A.id, B.id].sort(Buffer.compare) as [Buffer, Buffer];
    assert.throws(() => forfeitTx(ORG, 0, []), /1-3000 candidates, got 0/);
    assert.throws(() => forfeitTx(ORG, 0, [hi, lo]), /strictly ascending/);
    assert.throws(() => forfeitTx(ORG, 0, [lo, lo]), /strictly ascending/);
    assert.throws(() => forfeitTx(ORG, 2 ** 32, [lo]), /cycle must be an integer/);
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const id = Buffer.alloc(20);
        id.writeUInt32BE(i + 1, 16);
        return id;
      });
    const most = forfeitTx(ORG, 0, many(TX_LIMITS.forfeitCandidates));
    assert.ok(most.length < 65_536, "within a proposal's limit per transaction");
    assert.equal(decodeTx(most).body.kind, TxKind.Forfeit);
    assert.throws(() => forfeitTx(ORG, 0, many(TX_LIMITS.forfeitCandidates + 1)), /1-3000 candidates/);
    const over = Buffer.from(most);
    over.writeUInt16BE(TX_LIMITS.forfeitCandidates + 1, 26);
    const tooMany = Buffer.concat([over.subarray(0, -1), Buffer.alloc(20, 0xff), Buffer.from([0])]);
    assert.throws(
      () => decodeTx(tooMany),
      (e: unknown) => e instanceof DecodeError && /at most 3000/.test(e.message),
    );
    const signed = Buffer.concat([
      forfeitTx(ORG, 0, [lo]).subarray(0, -1),
      Buffer.from([1]),
      Buffer.alloc(96),
    ]);
    assert.throws(() => decodeTx(signed), /carries 0-0 signatures, got 1/);
  });

  it("is due in exactly one pulse per cycle: the first after the reveal window", () => {
    for (const length of [4, 5, 10, 1800]) {
      const due = new Map<number, number>();
      for (let p = 0; p <= 4 * length; p++) {
        const c = forfeitCycle(p, length);
        if (c !== undefined) due.set(c, p);
      }
      assert.deepEqual(
        [...due],
        [0, 1, 2, 3].map((c) => [c, schedule(c, length).revealLast + 1]),
      );
    }
  });
});

describe("forfeit: rule", () => {
  it("takes minDeposit of each withheld deposit to the organization's account, once; sums unchanged", async () => {
    const chain = await withholding();
    const withheld = drawn(chain);
    assert.deepEqual(withheld.map(hex), [hex(A.id)], "A stood and withheld; B revealed");
    const before = {
      a: chain.account(A)!,
      b: chain.account(B)!,
      org: chain.amount(ORG),
      sum: chain.root().sum,
    };
    const forfeit = forfeitTx(ORG, 0, withheld);
    const out = await run(chain, [forfeit, forfeit], withheld);
    assert.deepEqual(verdicts(out), ["OK", "DUPLICATE"], "a cycle is charged once");
    const a = chain.account(A)!;
    assert.deepEqual([a.deposit, a.amount], [before.a.deposit - MIN, before.a.amount - MIN]);
    assert.equal(a.amount - a.deposit, before.a.amount - before.a.deposit, "what A can spend is unchanged");
    assert.equal(a.updated, DUE, "A's data changed");
    assert.equal(chain.amount(ORG), before.org + MIN);
    assert.deepEqual(chain.account(B), before.b, "B revealed: untouched");
    assert.equal(out.root.sum, before.sum, "a forfeit moves tokens, it issues none");
    assert.equal(out.issued, 0n);
    assert.deepEqual(
      out.receipts[0]!.proofs.map((p) => hex(p.id)),
      [ORG, A.id].map(hex),
    );
    // The next pulse: the same forfeit is out of its pulse, and takes nothing more.
    await one(chain, forfeit, "FORFEIT_PULSE", withheld);
    assert.equal(chain.account(A)!.deposit, before.a.deposit - MIN);
  });

  it("goes after the reward and before every acting transaction", async () => {
    const chain = await withholding({ ...PARAMS, miningReward: 10n });
    const withheld = drawn(chain);
    const t = chain.txs;
    // A spends all it can in the same pulse: the forfeit took from the deposit, not from that.
    const all = chain.amount(A) - chain.account(A)!.deposit;
    const batch = [
      t.transfer(A, C, all, chain.nonce(A), { cosign: C }),
      forfeitTx(ORG, 0, withheld),
      rewardTx(ORG, DUE, [S.id]),
    ];
    const out = await run(chain, batch, withheld, { committee: [S.id] });
    assert.deepEqual(
      out.results.map((r) => (r.ok ? r.position : r.reason)),
      [2, 1, 0],
    );
    assert.deepEqual([chain.amount(A), chain.account(A)!.deposit], [150n - MIN, 150n - MIN]);
  });

  it("a forfeit alone changes nothing for skipUnchanged, even when it takes", async () => {
    const chain = await withholding();
    const withheld = drawn(chain);
    const root = summaryJson(chain.root());
    const out = await run(chain, [forfeitTx(ORG, 0, withheld)], withheld, { skipUnchanged: true });
    assert.deepEqual([verdicts(out), out.committed, summaryJson(chain.root())], [["OK"], false, root]);
    chain.next--;
    const real = await run(
      chain,
      [forfeitTx(ORG, 0, withheld), chain.txs.setPolicy(B, 1, chain.nonce(B))],
      withheld,
      {
        skipUnchanged: true,
      },
    );
    assert.deepEqual([verdicts(real), real.committed], [["OK", "OK"], true]);
  });

  it("takes the whole deposit when it is below minDeposit, and nothing from an empty one", () => {
    // States the ledger never holds at a forfeit (deposits are locked in the window): the pure transition.
    const org: OrgInfo = { id: ORG, params: PARAMS };
    const base = (deposit: bigint) => ({
      amount: 500n,
      nonce: 0n,
      frozen: 0n,
      deposit,
      role: Role.Member,
      candidate: true,
      policy: 0 as const,
      vote: null,
      commitment: Buffer.alloc(32),
      reveal: null,
      updated: 1,
    });
    const view = new MapView(org)
      .set(ORG, { ...base(0n), candidate: false, role: Role.None })
      .set(A.id, base(30n));
    view.set(B.id, base(0n));
    const ids = [A.id, B.id].sort(Buffer.compare);
    const t = transition(view, DUE, okItems([forfeitTx(ORG, 0, ids)]), { withheld: ids });
    assert.ok(t.results[0]!.ok);
    const after = new Map(t.changes.map((c) => [hex(c.id), c.after]));
    assert.deepEqual([after.get(hex(A.id))!.deposit, after.get(hex(A.id))!.amount], [0n, 470n]);
    assert.equal(after.get(hex(ORG))!.amount, 530n);
    assert.equal(after.has(hex(B.id)), false, "nothing to take: B is not changed");
  });

  it("FORFEIT_PULSE: in any other pulse, or of another cycle", async () => {
    const early = await withholding(PARAMS, S0.revealLast);
    await one(early, forfeitTx(ORG, 0, [A.id]), "FORFEIT_PULSE", [A.id]);
    const chain = await withholding();
    const withheld = drawn(chain);
    await one(chain, forfeitTx(ORG, 1, withheld), "FORFEIT_PULSE", withheld);
    await one(chain, forfeitTx(ORG, 0, withheld), "FORFEIT_PULSE", withheld);
    await one(chain, forfeitTx(ORG, 0xffffffff, withheld), "FORFEIT_PULSE", withheld);
  });

  it("NO_WITHHELD: a pulse applied without the list refuses every forfeit", async () => {
    const chain = await withholding();
    const out = await one(chain, forfeitTx(ORG, 0, [A.id]), "NO_WITHHELD", null);
    const r = out.results[0]!;
    assert.ok(!r.ok && /without its withheld reveals/.test(r.message));
  });

  it("FORFEIT_CANDIDATES: not exactly the list the pulse is given", async () => {
    // Each on a chain of its own: a rejected forfeit still takes its pulse, and the next is too late.
    const lists: [Buffer[], (chain: Chain) => readonly Buffer[]][] = [
      [[B.id], drawn],
      [[A.id, B.id].sort(Buffer.compare), drawn],
      [[A.id, C.id].sort(Buffer.compare), drawn],
      [[A.id], () => []], // given an empty list: no one withheld
    ];
    for (const [wrong, given] of lists) {
      const chain = await withholding();
      await one(chain, forfeitTx(ORG, 0, wrong), "FORFEIT_CANDIDATES", given(chain));
    }
  });

  it("WRONG_ORG: a forfeit of another organization", async () => {
    const chain = await withholding();
    await one(chain, forfeitTx(cast.otherOrgKey.id, 0, drawn(chain)), "WRONG_ORG", drawn(chain));
  });

  it("DEPOSIT: no release in a reveal window, so a withheld reveal cannot escape its forfeit", async () => {
    const chain = await withholding(PARAMS, S0.revealFirst);
    const t = chain.txs;
    // A withdraws (the commitment goes) and tries to take its deposit out before the forfeit.
    const out6 = await run(chain, [t.candidacy(A, false, chain.nonce(A)), t.reveal(B, 0, 4)], null);
    assert.deepEqual(verdicts(out6), ["OK", "OK"]);
    await one(chain, t.release(A, 150, chain.nonce(A)), "DEPOSIT", null);
    assert.equal(chain.next, DUE);
    const withheld = drawn(chain);
    assert.deepEqual(withheld.map(hex), [hex(A.id)], "A stood at the snapshot: it still withheld");
    const out = await run(chain, [t.release(A, 150, chain.nonce(A)), forfeitTx(ORG, 0, withheld)], withheld);
    assert.deepEqual(verdicts(out), ["DEPOSIT", "OK"], "the forfeit first: 50 left to release");
    await one(chain, t.release(A, 150 - Number(MIN), chain.nonce(A)), "OK", null);
    assert.equal(chain.account(A)!.deposit, 0n);
  });

  it("sees exactly the reject reasons REASONS_SEEN.forfeit lists", () => {
    assertReasonsSeen("forfeit", seen);
  });
});

/** Runs one forfeit alone, expecting `want`; a rejection changes nothing. */
async function one(chain: Chain, tx: Buffer, want: string, withheld: readonly Buffer[] | null) {
  const before = summaryJson(chain.root());
  const out = await run(chain, [tx], withheld);
  assert.deepEqual(verdicts(out), [want]);
  if (want !== "OK") {
    assert.deepEqual(summaryJson(out.root), before, "a rejection changes nothing");
    assert.equal(out.accountsChanged, 0);
  }
  return out;
}
