/**
 * Properties of the ledger under random transactions (fast-check): conservation, locked funds and
 * votes within the amount, replay and expiry, organization binding of signatures, the payee's
 * consent, double spends, independence from submission order, and rejections that leave no trace.
 * Every pulse goes through Ledger.applyPulse on a MemoryKV and has its receipts checked. Keys are a
 * fixed pool made once; runs are bounded so the file takes a few seconds.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Signer } from "../src/crypto/ed25519.js";
import { Policy, Role } from "../src/ledger/account.js";
import type { PulseOutcome } from "../src/ledger/ledger.js";
import type { TxBody } from "../src/ledger/tx.js";
import { decodeTx, encodeTx, signTx } from "../src/ledger/tx-codec.js";
import {
  allOk,
  buildBatch,
  Chain,
  checkReceipts,
  genesisTx,
  hex,
  MIN_DEPOSIT,
  makeCast,
  type Op,
  type OpKind,
  opArb,
  openOrg,
  orgParams,
  outcomeJson,
  society,
  summaryJson,
  TransferModel,
  verdict,
  verdicts,
} from "./helpers/ledger-fixtures.js";

const cast = makeCast(9);
const S = cast.supervisor;
const ORG = cast.orgKey.id;
const USERS = cast.users;
/** Indices of the users in `cast.all` (0 is the organization's key, 1 the supervisor). */
const USER_IDX = fc.integer({ min: 2, max: cast.all.length - 1 });
const SUPPLY = 1_000_000n;
const ACTORS = cast.all.length;

/** Genesis holdings of the users: some nothing, some little, some much. */
const holdings = fc.array(
  fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 100n }), fc.bigInt({ min: 1n, max: 2000n })),
  { minLength: USERS.length, maxLength: USERS.length },
);

/** Batches of random operations over several pulses. */
const pulsesOf = (op: fc.Arbitrary<Op>, maxOps = 16) =>
  fc.array(fc.array(op, { maxLength: maxOps }), { minLength: 1, maxLength: 6 });

const MIXED = opArb({ actors: ACTORS, mutations: true });

/** Σ of every account's amount and the number of accounts with a leaf (only the cast can have one). */
function totals(chain: Chain): { sum: bigint; count: number } {
  let sum = 0n;
  let count = 0;
  for (const s of [...cast.all, cast.otherOrgKey]) {
    const a = chain.account(s);
    if (a === undefined) continue;
    sum += a.amount;
    count++;
  }
  return { sum, count };
}

/** Root sum = supply, Σ amounts = root sum, leaves = root count. */
function checkConservation(chain: Chain, out: PulseOutcome): void {
  assert.equal(out.root.sum, SUPPLY, `root sum at pulse ${out.pulse}`);
  const t = totals(chain);
  assert.equal(t.sum, out.root.sum, "Σ account amounts = root sum");
  assert.equal(t.count, out.root.count, "accounts with a leaf = root count");
}

/** A deterministic shuffle (Fisher-Yates on mulberry32 from `seed`). */
function shuffle<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Verdicts keyed by the submitted bytes, so also by transaction id: copies of one body (same id)
 * with other signatures are told apart, identical bytes submitted twice make a multiset.
 */
function verdictsByBytes(out: PulseOutcome, batch: readonly Uint8Array[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [i, r] of out.results.entries()) {
    const k = `${r.txId === undefined ? "undecodable" : hex(r.txId)}:${hex(batch[i]!)}`;
    const v = r.ok ? `OK@${r.position}` : r.reason;
    m.set(k, [...(m.get(k) ?? []), v].sort());
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One verdict, for a pulse of one transaction, and the root must not move if it is a rejection. */
async function single(chain: Chain, bytes: Uint8Array): Promise<string> {
  const before = chain.ledger.head === undefined ? undefined : summaryJson(chain.root());
  const out = await chain.pulse([bytes]);
  checkReceipts(chain.ledger, out, [bytes]);
  const v = verdict(out.results[0]!);
  if (v !== "OK" && before !== undefined)
    assert.deepEqual(summaryJson(out.root), before, `${v} changed the root`);
  return v;
}

/** Users each holding `amount` at genesis. */
const richOrg = (amount = 1000n) =>
  openOrg(
    cast,
    orgParams(S, { supply: SUPPLY, minDeposit: MIN_DEPOSIT, distribution: USERS.map((u) => [u, amount]) }),
  );

describe("ledger properties", () => {
  it("1. conservation: any transfers keep root sum = supply and Σ accounts = root sum; verdicts match a model", async (t) => {
    let accepted = 0;
    let rejected = 0;
    const kinds: OpKind[] = ["transfer", "transfer", "transfer", "transfer", "policy"];
    await fc.assert(
      fc.asyncProperty(
        holdings,
        pulsesOf(opArb({ actors: ACTORS, kinds, mutations: true })),
        async (amounts, pulses) => {
          const dist = USERS.map((u, i) => [u, amounts[i]!] as const).filter(([, a]) => a > 0n);
          const chain = await openOrg(cast, orgParams(S, { supply: SUPPLY, distribution: dist }));
          const model = new TransferModel(
            ORG,
            cast.all.map((s) => s.id),
            (id) => chain.account(id),
          );
          for (const ops of pulses) {
            const pulse = chain.next;
            const batch = buildBatch(chain, cast, ops);
            const out = await chain.pulse(batch);
            const want = model.pulse(pulse, batch);
            assert.deepEqual(
              out.results.map((r) => r.ok),
              want,
              `verdicts ${verdicts(out)}`,
            );
            checkConservation(chain, out);
            for (const s of cast.all) {
              assert.equal(chain.amount(s), model.amount(s.id));
              assert.equal(chain.account(s)?.nonce ?? 0n, model.nonce(s.id));
            }
            checkReceipts(chain.ledger, out, batch);
            for (const ok of want) ok ? accepted++ : rejected++;
          }
          await chain.close();
        },
      ),
      { numRuns: 60 },
    );
    t.diagnostic(`${accepted} accepted, ${rejected} rejected`);
    assert.ok(accepted > 50 && rejected > 50, `accepted ${accepted}, rejected ${rejected}`);
  });

  /** Random mixed pulses on a society; `check` runs after each pulse. */
  async function mixedRuns(
    op: fc.Arbitrary<Op>,
    numRuns: number,
    check: (chain: Chain, out: PulseOutcome, batch: readonly Buffer[]) => void,
    start: fc.Arbitrary<bigint[]> = holdings,
  ): Promise<void> {
    await fc.assert(
      fc.asyncProperty(start, pulsesOf(op), async (amounts, pulses) => {
        const chain = await society(cast, amounts);
        for (const ops of pulses) {
          const batch = buildBatch(chain, cast, ops);
          const out = await chain.pulse(batch);
          checkReceipts(chain.ledger, out, batch);
          checkConservation(chain, out);
          check(chain, out, batch);
        }
        await chain.close();
      }),
      { numRuns },
    );
  }

  it("2. no negative balance: after each pulse every amount >= deposit + frozen; candidates keep their deposit", async (t) => {
    let locked = 0;
    await mixedRuns(MIXED, 40, (chain) => {
      for (const s of cast.all) {
        const a = chain.account(s);
        if (a === undefined) continue;
        assert.ok(a.amount >= 0n);
        assert.ok(a.amount >= a.deposit + a.frozen, `${hex(s.id)}: ${a.amount} < ${a.deposit} + ${a.frozen}`);
        if (a.candidate)
          assert.ok(
            a.deposit >= MIN_DEPOSIT && a.role >= Role.Member,
            "a candidate is a member with a deposit",
          );
        if (a.deposit > 0n) locked++;
      }
    });
    t.diagnostic(`${locked} account-pulses with a deposit`);
    assert.ok(locked > 0, "some deposits were pledged");
  });

  it("3. a replayed transaction is refused (NONCE) and an expired one too (EXPIRED)", async () => {
    await fc.assert(
      fc.asyncProperty(
        USER_IDX,
        USER_IDX,
        fc.bigInt({ min: 1n, max: 999n }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (p, q, amount, ttl, replayAfter, lateBy) => {
          fc.pre(p !== q);
          const [P, Q] = [cast.all[p]!, cast.all[q]!];
          const chain = await richOrg();
          const t = chain.txs;
          const tx = t.transfer(P, Q, amount, 1, { cosign: Q, expiry: chain.next + ttl });
          assert.equal(await single(chain, tx), "OK");
          for (let i = 1; i < replayAfter; i++) await chain.pulse([]);
          // Before its expiry a replay fails on the nonce; after it, on the expiry (checked first).
          assert.equal(await single(chain, tx), replayAfter <= ttl ? "NONCE" : "EXPIRED");
          assert.equal(chain.amount(Q), 1000n + amount, "paid once");
          const late = t.transfer(P, Q, 1, 2, { cosign: Q, expiry: chain.next - lateBy });
          assert.equal(await single(chain, late), "EXPIRED");
          const onTime = t.transfer(P, Q, 1, 2, { cosign: Q, expiry: chain.next });
          assert.equal(await single(chain, onTime), "OK", "the same with a live expiry passes");
          await chain.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("4. a transaction for organization A fails in B's ledger (WRONG_ORG); relabelled for B, its signature fails", async () => {
    const kinds = ["transfer", "pledge", "policy", "apply", "candidacy"] as const;
    const params = orgParams(S, { supply: SUPPLY, distribution: USERS.map((u) => [u, 1000n]) });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kinds),
        USER_IDX,
        USER_IDX,
        fc.bigInt({ min: 1n, max: 1000n }),
        async (kind, actor, other, amount) => {
          fc.pre(kind !== "transfer" || actor !== other);
          // flag: a countersigned transfer, an AcceptAll policy, a candidacy withdrawal (valid for anyone).
          const op: Op = {
            kind,
            actor,
            other,
            amount,
            flag: kind === "transfer" ? 1 : 0,
            nonceDelta: 0,
            expiryDelta: 5,
            mutation: "none",
          };
          const a = await openOrg(cast, params);
          const b = await Chain.open(cast.otherOrgKey.id);
          assert.equal(await single(b, genesisTx(cast.otherOrgKey, params)), "OK");
          const forA = buildBatch(a, cast, [op])[0]!;
          assert.equal(await single(a, forA), "OK", "valid where it was signed");
          assert.equal(await single(b, forA), "WRONG_ORG");
          const tx = decodeTx(forA);
          const bodyB = { ...tx.body, org: cast.otherOrgKey.id } as TxBody;
          const relabelled = encodeTx({ body: bodyB, signatures: tx.signatures });
          assert.equal(await single(b, relabelled), "BAD_SIGNATURE");
          // Control: the very same body signed for B passes in B (and not in A).
          const signers = kind === "transfer" ? [cast.all[actor]!, cast.all[other]!] : [cast.all[actor]!];
          const forB = signTx(bodyB, signers).bytes;
          assert.equal(await single(b, forB), "OK", "signed for B, it passes in B");
          assert.equal(await single(a, forB), "WRONG_ORG");
          await a.close();
          await b.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it("5. a transfer with only the payer's signature needs the payee's AcceptAll policy (else PAYEE_SIGNATURE)", async () => {
    await fc.assert(
      fc.asyncProperty(
        USER_IDX,
        USER_IDX,
        fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 1n, max: 100n })), { minLength: 1, maxLength: 5 }),
        async (p, q, steps) => {
          fc.pre(p !== q);
          const [P, Q] = [cast.all[p]!, cast.all[q]!];
          const chain = await richOrg();
          const t = chain.txs;
          let paid = 0n;
          assert.equal(
            await single(chain, t.transfer(P, Q, 1, 1)),
            "PAYEE_SIGNATURE",
            "Countersign by default",
          );
          for (const [acceptAll, amount] of steps) {
            const policy = acceptAll ? Policy.AcceptAll : Policy.Countersign;
            assert.equal(await single(chain, t.setPolicy(Q, policy, chain.nonce(Q))), "OK");
            const n = chain.nonce(P);
            const v = await single(chain, t.transfer(P, Q, amount, n));
            assert.equal(v, acceptAll ? "OK" : "PAYEE_SIGNATURE");
            // The same body countersigned (same id) passes whatever the policy.
            if (!acceptAll)
              assert.equal(await single(chain, t.transfer(P, Q, amount, n, { cosign: Q })), "OK");
            paid += amount;
            assert.equal(chain.amount(Q), 1000n + paid);
          }
          await chain.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  describe("6. double spends", () => {
    const overspend = fc
      .bigInt({ min: 2n, max: 1000n })
      .chain((s) => fc.tuple(fc.constant(s), fc.bigInt({ min: 1n, max: s })))
      .chain(([s, a1]) => fc.tuple(fc.constant(s), fc.constant(a1), fc.bigInt({ min: s - a1 + 1n, max: s })));

    it("two transfers from one payer that together exceed what it can spend: only the first in canonical order passes", async () => {
      const [P, Q1, Q2] = USERS as [Signer, Signer, Signer];
      await fc.assert(
        fc.asyncProperty(
          overspend,
          fc.bigInt({ min: 0n, max: 500n }),
          fc.boolean(),
          fc.boolean(),
          async ([s, a1, a2], deposit, sameNonce, swap) => {
            // P holds s + deposit and pledges the deposit: it can spend s.
            const dist: [Signer, bigint][] = [
              [P, s + deposit],
              [Q1, 5n],
            ];
            const chain = await openOrg(cast, orgParams(S, { supply: SUPPLY, distribution: dist }));
            const t = chain.txs;
            let n = 1;
            if (deposit > 0n) allOk(await chain.pulse([t.pledge(P, deposit, n++)]));
            const tx1 = t.transfer(P, Q1, a1, n, { cosign: Q1 });
            const tx2 = t.transfer(P, Q2, a2, sameNonce ? n : n + 1, { cosign: Q2 });
            const batch = swap ? [tx2, tx1] : [tx1, tx2];
            const out = await chain.pulse(batch);
            checkReceipts(chain.ledger, out, batch);
            checkConservation(chain, out);
            const [id1, id2] = [decodeTx(tx1).id, decodeTx(tx2).id];
            // Lower nonce first; with equal nonces the lower id.
            const firstWins = !sameNonce || Buffer.compare(id1, id2) < 0;
            const got = new Map(out.results.map((r, i) => [batch[i] === tx1 ? 1 : 2, verdict(r)]));
            const loser = sameNonce ? "NONCE" : "INSUFFICIENT_FUNDS";
            assert.deepEqual([got.get(1), got.get(2)], firstWins ? ["OK", loser] : [loser, "OK"]);
            assert.equal(chain.amount(P), s + deposit - (firstWins ? a1 : a2));
            assert.equal(chain.account(P)?.deposit, deposit);
            await chain.close();
          },
        ),
        { numRuns: 60 },
      );
    });

    it("funds received in a pulse cannot be spent in the same pulse, and can in the next", async () => {
      const [P, R, Q] = USERS as [Signer, Signer, Signer];
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 0n, max: 500n }),
          fc.bigInt({ min: 1n, max: 500n }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.boolean(),
          async (b, r, frac, swap) => {
            // Spend x in 1..b+r: affordable in this pulse only if x <= b, what R held at its start.
            const x = 1n + BigInt(Math.floor(Number(b + r - 1n) * frac));
            const dist: [Signer, bigint][] = [[P, 1000n]];
            if (b > 0n) dist.push([R, b]);
            const chain = await openOrg(cast, orgParams(S, { supply: SUPPLY, distribution: dist }));
            const t = chain.txs;
            const receive = t.transfer(P, R, r, 1, { cosign: R });
            const spend = t.transfer(R, Q, x, 1, { cosign: Q });
            const batch = swap ? [spend, receive] : [receive, spend];
            const out = await chain.pulse(batch);
            checkReceipts(chain.ledger, out, batch);
            const v = verdict(out.results[batch.indexOf(spend)]!);
            assert.equal(verdict(out.results[batch.indexOf(receive)]!), "OK");
            assert.equal(v, x <= b ? "OK" : "INSUFFICIENT_FUNDS", `held ${b}, received ${r}, spends ${x}`);
            if (v !== "OK") assert.equal(await single(chain, spend), "OK", "spendable from the next pulse");
            assert.equal(chain.amount(R), b + r - x);
            await chain.close();
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe("7. votes never exceed the balance", () => {
    it("after any pledges, candidacies, votes and transfers, every vote weighs at most the amount", async (t) => {
      let votes = 0;
      const kinds: OpKind[] = [
        "vote",
        "vote",
        "vote",
        "pledge",
        "release",
        "candidacy",
        "transfer",
        "transfer",
      ];
      // Votes come from members and guests (indices 2-8), mostly for the society's candidates (users
      // 0 and 1: indices 2 and 3), weigh little: else nearly all fail and few accounts ever vote.
      const op = opArb({
        actors: ACTORS,
        kinds: [...kinds, "leave", "setRole"],
        mutations: true,
        maxAmount: 150n,
      }).map((o) =>
        o.kind === "vote"
          ? {
              ...o,
              actor: 2 + (o.actor % 7),
              other: o.flag % 4 !== 0 ? 2 + (o.flag % 2) : o.other,
              amount: o.amount === 0n ? 0n : 1n + (o.amount % 50n),
            }
          : o,
      );
      // Small holdings, so that votes, spends and balances are of a size and spends cut into votes.
      const small = fc.array(fc.bigInt({ min: 0n, max: 150n }), {
        minLength: USERS.length,
        maxLength: USERS.length,
      });
      await mixedRuns(
        op,
        40,
        (chain) => {
          for (const s of cast.all) {
            const a = chain.account(s);
            if (a?.vote == null) continue;
            votes++;
            assert.ok(a.vote.weight > 0n, "a vote of 0 is no vote");
            assert.ok(a.vote.weight <= a.amount, `${hex(s.id)} votes ${a.vote.weight} with ${a.amount}`);
            assert.ok(a.role >= Role.Guest, "only members and guests have a vote");
          }
        },
        small,
      );
      t.diagnostic(`${votes} account-pulses with a vote`);
      assert.ok(votes > 40, `votes seen ${votes}`);
    });

    it("a spend below a vote lowers it to the amount left (none at 0); what comes in does not raise it", async () => {
      const [C, , V, Q] = USERS as [Signer, Signer, Signer, Signer];
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 1000n }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), fc.boolean()), {
            minLength: 1,
            maxLength: 4,
          }),
          async (held, wFrac, steps) => {
            const amounts = USERS.map((_, i) => (i === 2 ? held : 100n));
            const chain = await society(cast, amounts);
            const t = chain.txs;
            const w = 1n + BigInt(Math.floor(Number(held - 1n) * wFrac));
            let weight: bigint | null = w;
            const vote = t.vote(V, C, w, chain.nonce(V));
            let first = true;
            for (const [xFrac, withVote, incoming] of steps) {
              const amount = chain.amount(V);
              const x = BigInt(Math.floor(Number(amount) * xFrac)); // 0: no spend this pulse
              const batch: Buffer[] = [];
              // The vote goes in the first pulse, alone or with the first spend (lower nonce: first).
              if (first && !withVote) allOk(await chain.pulse([vote]));
              if (first && withVote) batch.push(vote);
              first = false;
              const n = chain.nonce(V) + BigInt(batch.length);
              if (x > 0n) batch.push(t.transfer(V, Q, x, n, { cosign: Q }));
              if (incoming) batch.push(t.transfer(Q, V, 7, chain.nonce(Q), { cosign: V }));
              allOk(await chain.pulse(batch));
              const left = amount - x;
              if (weight !== null) weight = left === 0n ? null : weight < left ? weight : left;
              assert.equal(chain.amount(V), left + (incoming ? 7n : 0n));
              assert.equal(chain.account(V)?.vote?.weight ?? null, weight, `held ${amount}, spent ${x}`);
            }
            await chain.close();
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  it("8. the outcome does not depend on submission order: same root, same verdict per tx id (and per bytes), same receipts", async () => {
    await fc.assert(
      fc.asyncProperty(
        holdings,
        pulsesOf(MIXED, 20),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        async (amounts, pulses, seeds) => {
          const one = await society(cast, amounts);
          const two = await society(cast, amounts);
          for (const [i, ops] of pulses.entries()) {
            const batch = buildBatch(one, cast, ops);
            const shuffled = shuffle(batch, seeds[i]!);
            const x = await one.pulse(batch);
            const y = await two.pulse(shuffled);
            assert.deepEqual(summaryJson(y.root), summaryJson(x.root));
            assert.deepEqual(verdictsByBytes(y, shuffled), verdictsByBytes(x, batch));
            assert.deepEqual(outcomeJson(y).receipts, outcomeJson(x).receipts);
          }
          await one.close();
          await two.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it("9. a rejected transaction changes nothing: the batch without its rejections gives the same root", async (t) => {
    let dropped = 0;
    await fc.assert(
      fc.asyncProperty(holdings, pulsesOf(MIXED, 20), async (amounts, pulses) => {
        const full = await society(cast, amounts);
        const kept = await society(cast, amounts);
        for (const ops of pulses) {
          const batch = buildBatch(full, cast, ops);
          const x = await full.pulse(batch);
          const accepted = batch.filter((_, i) => x.results[i]!.ok);
          dropped += batch.length - accepted.length;
          const y = await kept.pulse(accepted);
          assert.ok(
            y.results.every((r) => r.ok),
            "what was accepted alongside rejections is accepted alone",
          );
          assert.deepEqual(summaryJson(y.root), summaryJson(x.root));
          assert.deepEqual(outcomeJson(y).receipts, outcomeJson(x).receipts);
        }
        for (const s of cast.all) assert.deepEqual(kept.account(s), full.account(s));
        await full.close();
        await kept.close();
      }),
      { numRuns: 30 },
    );
    t.diagnostic(`${dropped} rejections dropped`);
    assert.ok(dropped > 100, `rejections dropped ${dropped}`);
  });

  it("receipts of every kind verify against their pulse's root and show the parties' leaves", async (t) => {
    const kinds = new Set<number>();
    // mixedRuns runs checkReceipts on every pulse; this notes which kinds it saw receipts for.
    await mixedRuns(MIXED, 20, (_chain, out, batch) => {
      const byId = new Map(
        batch.flatMap((b) => {
          try {
            const tx = decodeTx(b);
            return [[hex(tx.id), tx.body.kind] as const];
          } catch {
            return [];
          }
        }),
      );
      for (const r of out.receipts) kinds.add(byId.get(hex(r.txId))!);
    });
    t.diagnostic(`receipts for kinds ${[...kinds].sort((a, b) => a - b)}`);
    assert.ok(kinds.size >= 7, `receipts seen for kinds ${[...kinds]}`);
  });
});
