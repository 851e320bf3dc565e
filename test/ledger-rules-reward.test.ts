/**
 * The mining reward (issue 7 item 5): the reward transaction's encoding (no signature, and only for
 * this kind), and its rule: for the pulse being applied, to exactly the committee the pulse is given,
 * `miningReward` split equally (the remainder to the first) from what the organization's account can
 * spend, applied before every acting transaction. Each reason a rejection gives is recorded (see
 * helpers/ledger-reasons.ts).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { PulseOutcome } from "../src/ledger/ledger.js";
import { TxKind } from "../src/ledger/tx.js";
import { decodeTx, encodeTx, rewardTx, signatureCount, signerIds } from "../src/ledger/tx-codec.js";
import { DecodeError } from "../src/util/bytes.js";
import { type Chain, openOrg, verdicts } from "./helpers/ledger-chain.js";
import { assertReasonsSeen } from "./helpers/ledger-reasons.js";
import { checkReceipts, summaryJson } from "./helpers/ledger-receipts.js";
import { A, B, C, cast, D, E, ORG, PARAMS, recorder, S } from "./helpers/ledger-rules-world.js";
import { hex, Txs } from "./helpers/ledger-signers.js";

const { seen, note } = recorder();
const REWARD = 100n;
/** The committee the pulses are applied with, in drawn order: B gets the remainder. */
const COMMITTEE = [B.id, A.id, C.id];

/** The rules world (ORG holds 7,200 after genesis) paying `reward` per pulse. */
const world = (reward = REWARD, params = PARAMS): Promise<Chain> =>
  openOrg(cast, { ...params, miningReward: reward });

/** Applies the next pulse with `committee` (null: none), records its reasons, checks its receipts. */
async function run(
  chain: Chain,
  batch: readonly Buffer[],
  committee: readonly Buffer[] | null = COMMITTEE,
  skipUnchanged = false,
): Promise<PulseOutcome> {
  const out = await chain.ledger.applyPulse(chain.next++, batch, {
    ...(committee === null ? {} : { committee }),
    skipUnchanged,
  });
  note(verdicts(out));
  if (out.committed) checkReceipts(chain.ledger, out, batch);
  return out;
}

/** Runs one reward alone, expecting a rejection that changes nothing. */
async function refused(chain: Chain, tx: Buffer, want: string, committee?: readonly Buffer[] | null) {
  const before = summaryJson(chain.root());
  const out = await run(chain, [tx], committee === undefined ? COMMITTEE : committee);
  assert.deepEqual(verdicts(out), [want]);
  assert.deepEqual(summaryJson(out.root), before, "a rejection changes nothing");
  assert.equal(out.accountsChanged, 0);
  return out;
}

describe("reward: encoding", () => {
  it("org, u64 pulse, u16 count and the ids, then a signature count of 0; the id is SHA-256 of the body", () => {
    const bytes = rewardTx(ORG, 7, COMMITTEE);
    const tx = decodeTx(bytes);
    assert.equal(tx.body.kind, TxKind.Reward);
    assert.equal(bytes.length, 22 + 8 + 2 + 20 * 3 + 1);
    assert.equal(hex(bytes), `010e${hex(ORG)}${"0".repeat(15)}7${"0003"}${COMMITTEE.map(hex).join("")}00`);
    assert.deepEqual(tx.signatures, []);
    assert.equal(hex(encodeTx(tx)), hex(bytes));
    assert.deepEqual(signatureCount(TxKind.Reward), [0, 0]);
    assert.deepEqual(signerIds(tx.body), []);
  });

  it("zero signatures are valid for a reward only, and a reward carries none", () => {
    const reward = rewardTx(ORG, 7, COMMITTEE);
    const withOne = Buffer.concat([reward.subarray(0, -1), Buffer.from([1]), Buffer.alloc(96, 1)]);
    assert.throws(() => decodeTx(withOne), /carries 0-0 signatures, got 1/);
    const leave = new Txs(ORG).leave(A, 1);
    const bare = Buffer.concat([leave.subarray(0, leave.length - 97), Buffer.from([0])]);
    assert.throws(() => decodeTx(bare), /carries 1-1 signatures, got 0/);
    assert.throws(
      () =>
        encodeTx({
          body: { kind: TxKind.Reward, org: ORG, pulse: 7, recipients: COMMITTEE },
          signatures: [{ publicKey: Buffer.alloc(32), signature: Buffer.alloc(64) }],
        }),
      /carries 0-0 signatures, got 1/,
    );
  });

  it("refuses no recipient, an id of another length, a pulse above 2^53 - 1", () => {
    assert.throws(() => rewardTx(ORG, 7, []), /1-65535 recipients, got 0/);
    assert.throws(() => rewardTx(ORG, 7, [Buffer.alloc(19)]), /recipient \(an account id\) must be 20 bytes/);
    assert.throws(() => rewardTx(ORG, 2 ** 53, COMMITTEE), /pulse number/);
    const noOne = Buffer.concat([rewardTx(ORG, 7, [A.id]).subarray(0, 30), Buffer.from([0, 0, 0])]);
    assert.throws(
      () => decodeTx(noOne),
      (e: unknown) => e instanceof DecodeError && /at least one/.test(e.message),
    );
  });
});

describe("reward: rule", () => {
  it("pays miningReward from the organization's account, split equally, the remainder to the first", async () => {
    const chain = await world();
    const before = { org: chain.amount(ORG), a: chain.amount(A), b: chain.amount(B), c: chain.amount(C) };
    const sum = chain.root().sum;
    const out = await run(chain, [rewardTx(ORG, chain.next, COMMITTEE)]);
    assert.deepEqual(verdicts(out), ["OK"]);
    assert.equal(chain.amount(ORG), before.org - 100n);
    assert.equal(chain.amount(B), before.b + 34n, "the first gets 33 and the remainder 1");
    assert.equal(chain.amount(A), before.a + 33n);
    assert.equal(chain.amount(C), before.c + 33n);
    assert.equal(out.root.sum, sum, "a reward moves tokens, it issues none");
    assert.equal(out.issued, 0n);
    assert.equal(out.accountsChanged, 4);
    // The receipt shows the organization's account and every recipient (checkReceipts checked the proofs).
    assert.deepEqual(
      out.receipts[0]!.proofs.map((p) => hex(p.id)),
      [ORG, ...COMMITTEE].map(hex),
    );
    // No nonce and no data changed: only amounts.
    assert.equal(chain.account(B)!.nonce, 0n);
    assert.equal(chain.account(ORG)!.updated, 0);
  });

  it("a recipient with no leaf gets one; a reward credited is spendable from the next pulse on", async () => {
    const chain = await world();
    const t = chain.txs;
    const committee = [D.id, E.id];
    const first = await run(
      chain,
      [t.transfer(D, A, 1, 1, { cosign: A }), rewardTx(ORG, chain.next, committee)],
      committee,
    );
    assert.deepEqual(verdicts(first), ["INSUFFICIENT_FUNDS", "OK"]);
    assert.deepEqual([chain.amount(D), chain.amount(E)], [50n, 50n]);
    const next = await run(
      chain,
      [t.transfer(D, A, 50, 1, { cosign: A }), rewardTx(ORG, chain.next, committee)],
      committee,
    );
    assert.deepEqual(verdicts(next), ["OK", "OK"]);
    assert.deepEqual([chain.amount(D), chain.amount(E)], [50n, 100n]);
  });

  it("goes before every acting transaction, wherever it is in the batch", async () => {
    const chain = await world();
    const t = chain.txs;
    const all = chain.amount(ORG);
    const distribute = t.distribute(S, D, all, 1);
    const out = await run(chain, [distribute, rewardTx(ORG, chain.next, COMMITTEE)]);
    assert.deepEqual(verdicts(out), ["INSUFFICIENT_FUNDS", "OK"]);
    const position = (i: number) => {
      const r = out.results[i]!;
      return r.ok ? r.position : -1;
    };
    assert.equal(position(1), 0);
    const rest = await run(chain, [t.distribute(S, D, all - REWARD, 1)]);
    assert.deepEqual(verdicts(rest), ["OK"]);
    assert.equal(chain.amount(ORG), 0n);
  });

  it("pays what the organization's account can spend when it holds less, split the same way; 0 when empty", async () => {
    const chain = await world();
    const t = chain.txs;
    await run(chain, [t.distribute(S, D, chain.amount(ORG) - 50n, 1)]);
    assert.equal(chain.amount(ORG), 50n);
    const [a, b, c] = [chain.amount(A), chain.amount(B), chain.amount(C)];
    const out = await run(chain, [rewardTx(ORG, chain.next, COMMITTEE)]);
    assert.deepEqual(verdicts(out), ["OK"]);
    assert.deepEqual([chain.amount(B) - b, chain.amount(A) - a, chain.amount(C) - c], [18n, 16n, 16n]);
    assert.equal(chain.amount(ORG), 0n);
    // Empty: accepted, nothing moves; alone it is no change, so skipUnchanged commits nothing.
    const root = summaryJson(chain.root());
    const empty = await run(chain, [rewardTx(ORG, chain.next, COMMITTEE)]);
    assert.deepEqual(verdicts(empty), ["OK"]);
    assert.equal(empty.accountsChanged, 0);
    assert.deepEqual(summaryJson(empty.root), root);
    const head = chain.ledger.head;
    const skipped = await run(chain, [rewardTx(ORG, chain.next, COMMITTEE)], COMMITTEE, true);
    assert.deepEqual([verdicts(skipped), skipped.committed, chain.ledger.head], [["OK"], false, head]);
    chain.next--; // the pulse was not taken
  });

  it("a reward alone changes nothing for skipUnchanged, even when it pays", async () => {
    const chain = await world();
    const head = chain.ledger.head;
    const out = await run(chain, [rewardTx(ORG, chain.next, COMMITTEE)], COMMITTEE, true);
    assert.deepEqual([verdicts(out), out.committed, chain.ledger.head], [["OK"], false, head]);
    chain.next--;
    const withMore = await run(
      chain,
      [rewardTx(ORG, chain.next, COMMITTEE), chain.txs.leave(A, 1)],
      COMMITTEE,
      true,
    );
    assert.deepEqual([verdicts(withMore), withMore.committed], [["OK", "NOT_MEMBER"], false]);
    chain.next--;
    const real = await run(
      chain,
      [rewardTx(ORG, chain.next, COMMITTEE), chain.txs.apply(A, 1)],
      COMMITTEE,
      true,
    );
    assert.deepEqual([verdicts(real), real.committed], [["OK", "OK"], true]);
  });

  it("NO_REWARD: the organization pays none (miningReward 0)", async () => {
    const chain = await world(0n);
    await refused(chain, rewardTx(ORG, chain.next, COMMITTEE), "NO_REWARD", COMMITTEE);
  });

  it("REWARD_PULSE: a reward for another pulse than the one applied", async () => {
    const chain = await world();
    await refused(chain, rewardTx(ORG, chain.next - 1, COMMITTEE), "REWARD_PULSE");
    await refused(chain, rewardTx(ORG, chain.next + 1, COMMITTEE), "REWARD_PULSE");
  });

  it("REWARD_RECIPIENTS: not exactly the committee in drawn order", async () => {
    const chain = await world();
    for (const wrong of [
      [A.id, B.id, C.id],
      [B.id, A.id],
      [B.id, A.id, C.id, D.id],
      [B.id, A.id, D.id],
    ])
      await refused(chain, rewardTx(ORG, chain.next, wrong), "REWARD_RECIPIENTS");
  });

  it("NO_COMMITTEE: a pulse applied without its committee refuses every reward", async () => {
    const chain = await world();
    const out = await refused(chain, rewardTx(ORG, chain.next, COMMITTEE), "NO_COMMITTEE", null);
    const r = out.results[0]!;
    assert.ok(!r.ok && /without its committee/.test(r.message));
  });

  it("WRONG_ORG: a reward of another organization", async () => {
    const chain = await world();
    await refused(chain, rewardTx(cast.otherOrgKey.id, chain.next, COMMITTEE), "WRONG_ORG");
  });

  it("DUPLICATE: one reward per pulse (its body is fixed by the pulse and the committee)", async () => {
    const chain = await world();
    const reward = rewardTx(ORG, chain.next, COMMITTEE);
    const org = chain.amount(ORG);
    const out = await run(chain, [reward, reward]);
    assert.deepEqual(verdicts(out), ["OK", "DUPLICATE"]);
    assert.equal(chain.amount(ORG), org - REWARD);
  });

  it("sees exactly the reject reasons REASONS_SEEN.reward lists", () => {
    assertReasonsSeen("reward", seen);
  });
});
