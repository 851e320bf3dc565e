/**
 * The world of the ledger properties (test/ledger-properties-*.test.ts): a fixed cast made once,
 * random genesis holdings and pulses of random operations, conservation checks, one-transaction
 * pulses whose rejections must leave the root alone, and random mixed runs on a society. Every
 * pulse these helpers apply has its receipts checked.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { PulseOutcome } from "../../src/ledger/ledger.js";
import { type Chain, MIN_DEPOSIT, openOrg, society, verdict } from "./ledger-chain.js";
import { buildBatch, type Op, opArb } from "./ledger-random.js";
import { checkReceipts, summaryJson } from "./ledger-receipts.js";
import { makeCast, orgParams } from "./ledger-signers.js";

export const cast = makeCast(9);
export const S = cast.supervisor;
export const ORG = cast.orgKey.id;
export const USERS = cast.users;
/** Indices of the users in `cast.all` (0 is the organization's key, 1 the supervisor). */
export const USER_IDX = fc.integer({ min: 2, max: cast.all.length - 1 });
export const SUPPLY = 1_000_000n;
export const ACTORS = cast.all.length;

/** Genesis holdings of the users: some nothing, some little, some much. */
export const holdings = fc.array(
  fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 100n }), fc.bigInt({ min: 1n, max: 2000n })),
  { minLength: USERS.length, maxLength: USERS.length },
);

/** Batches of random operations over several pulses. */
export const pulsesOf = (op: fc.Arbitrary<Op>, maxOps = 16) =>
  fc.array(fc.array(op, { maxLength: maxOps }), { minLength: 1, maxLength: 6 });

export const MIXED = opArb({ actors: ACTORS, mutations: true });

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
export function checkConservation(chain: Chain, out: PulseOutcome): void {
  assert.equal(out.root.sum, SUPPLY, `root sum at pulse ${out.pulse}`);
  const t = totals(chain);
  assert.equal(t.sum, out.root.sum, "Σ account amounts = root sum");
  assert.equal(t.count, out.root.count, "accounts with a leaf = root count");
}

/** One verdict, for a pulse of one transaction, and the root must not move if it is a rejection. */
export async function single(chain: Chain, bytes: Uint8Array): Promise<string> {
  const before = chain.ledger.head === undefined ? undefined : summaryJson(chain.root());
  const out = await chain.pulse([bytes]);
  checkReceipts(chain.ledger, out, [bytes]);
  const v = verdict(out.results[0]!);
  if (v !== "OK" && before !== undefined)
    assert.deepEqual(summaryJson(out.root), before, `${v} changed the root`);
  return v;
}

/** Users each holding `amount` at genesis. */
export const richOrg = (amount = 1000n) =>
  openOrg(
    cast,
    orgParams(S, { supply: SUPPLY, minDeposit: MIN_DEPOSIT, distribution: USERS.map((u) => [u, amount]) }),
  );

/** Random mixed pulses on a society; `check` runs after each pulse. */
export async function mixedRuns(
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
