/**
 * A candidate's weight at the snapshot pulse: its deposit plus the votes for it, each vote counted
 * at most up to its voter's amount then (a vote's weight was checked against the balance when cast;
 * the balance may have fallen since). Only accounts that are candidates with at least the minimum
 * deposit and the role member or supervisor stand.
 */
import { type Account, Role } from "../ledger/account.js";
import type { Weighted } from "./draw.js";

/** The weights of the standing candidates among `accounts` (each account once). */
export function candidateWeights(
  accounts: Iterable<{ readonly id: Buffer; readonly account: Account }>,
  minDeposit: bigint,
): Weighted[] {
  const standing = new Map<string, { id: Buffer; weight: bigint }>();
  const votes: { candidate: string; weight: bigint }[] = [];
  for (const { id, account: a } of accounts) {
    if (a.candidate && a.role >= Role.Member && a.deposit >= minDeposit)
      standing.set(id.toString("hex"), { id, weight: a.deposit });
    if (a.vote !== null)
      votes.push({
        candidate: a.vote.candidate.toString("hex"),
        // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
        weight: a.vote.weight < a.amount ? a.vote.weight : a.amount,
      });
  }
  for (const v of votes) {
    const c = standing.get(v.candidate);
    if (c !== undefined) c.weight += v.weight;
  }
  return [...standing.values()];
}
