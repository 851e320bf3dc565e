/**
 * Properties of the ledger's funds under random transactions (fast-check): conservation (with a
 * reference model of transfers), locked funds within the amount, double spends, and votes within
 * the balance. Every pulse goes through Ledger.applyPulse on a MemoryKV and has its receipts
 * checked. Keys are a fixed pool made once; runs are bounded so the file takes a few seconds.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Signer } from "../src/crypto/ed25519.js";
import { Role } from "../src/ledger/account.js";
import { decodeTx } from "../src/ledger/tx-codec.js";
import { allOk, MIN_DEPOSIT, openOrg, society, verdict, verdicts } from "./helpers/ledger-chain.js";
import { TransferModel } from "./helpers/ledger-model.js";
import {
  ACTORS,
  cast,
  checkConservation,
  holdings,
  MIXED,
  mixedRuns,
  ORG,
  pulsesOf,
  S,
  SUPPLY,
  single,
  USERS,
} from "./helpers/ledger-properties-world.js";
import { buildBatch, type OpKind, opArb } from "./helpers/ledger-random.js";
import { checkReceipts } from "./helpers/ledger-receipts.js";
import { hex, orgParams } from "./helpers/ledger-signers.js";

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
});
