/**
 * Properties of which transactions the ledger accepts and what that leaves (fast-check): replay and
 * expiry, organization binding of signatures, the payee's consent, independence from submission
 * order, rejections that leave no trace, and receipts of every kind. Every pulse goes through
 * Ledger.applyPulse on a MemoryKV and has its receipts checked. Keys are a fixed pool made once;
 * runs are bounded so the file takes a few seconds.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Policy } from "../src/ledger/account.js";
import type { PulseOutcome } from "../src/ledger/ledger.js";
import type { TxBody } from "../src/ledger/tx.js";
import { decodeTx, encodeTx, signTx } from "../src/ledger/tx-codec.js";
import { Chain, openOrg, society } from "./helpers/ledger-chain.js";
import {
  cast,
  holdings,
  MIXED,
  mixedRuns,
  pulsesOf,
  richOrg,
  S,
  SUPPLY,
  single,
  USER_IDX,
  USERS,
} from "./helpers/ledger-properties-world.js";
import { buildBatch, type Op } from "./helpers/ledger-random.js";
import { outcomeJson, summaryJson } from "./helpers/ledger-receipts.js";
import { genesisTx, hex, orgParams } from "./helpers/ledger-signers.js";

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

describe("ledger properties", () => {
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
