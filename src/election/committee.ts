/**
 * The committee of each election cycle, computed from the ledger (docs/PROTOCOL.md §12). Cycle 0 is
 * kept by the genesis committee (the supervisor alone when the genesis names none). In cycle c the committee of cycle c+1 is drawn: the
 * candidates standing at the snapshot pulse, each weighted by its deposit and the votes for it
 * then, take part if they opened the commitment they held at the snapshot in the reveal window; the
 * seed mixes the root at the window's last pulse with those reveals. A candidate that did not reveal
 * is left out (it cannot wait to see the seed and then choose to be in), and the forfeit of the pulse
 * after the window takes part of its deposit (`withheld`). If no one takes part, the committee of
 * cycle c continues into c+1.
 */
import type { Account, Reveal } from "../ledger/account.js";
import { type OrgParams, TX_LIMITS } from "../ledger/tx.js";
import type { ElectionSource } from "./accounts.js";
import { schedule } from "./cycle.js";
import { commitment, drawCommittee, drawSeed, type Weighted } from "./draw.js";
import { candidateWeights } from "./weights.js";

/** A reveal counted in a draw: the candidate, its secret and the commitment it held at the snapshot. */
export interface CountedReveal {
  readonly id: Buffer;
  readonly secret: Buffer;
  readonly commitment: Buffer;
}

/** The committee drawn in one cycle, and everything needed to check the draw. */
export interface Committee {
  /** The cycle whose schedule drew it. */
  readonly cycle: number;
  /** The cycle it keeps the books of: cycle + 1. */
  readonly serves: number;
  /** Account ids in drawn order: the first is round 0's proposer (the chief). */
  readonly members: readonly Buffer[];
  /** True when no candidate took part and these are the previous cycle's members. */
  readonly carried: boolean;
  /** The pulse whose state gave the candidates and weights. */
  readonly snapshot: number;
  /** The pulse whose root went into the seed: the reveal window's last. */
  readonly seedPulse: number;
  readonly seed: Buffer;
  /** The candidates that took part (stood at the snapshot and revealed), by id, with their weights. */
  readonly weights: readonly Weighted[];
  /** Their reveals, by id. */
  readonly reveals: readonly CountedReveal[];
  /**
   * The candidates that stood at the snapshot with a commitment and did not open it in the window,
   * by id: what the cycle's forfeit names (at most TX_LIMITS.forfeitCandidates, the first by id).
   */
  readonly withheld: readonly Buffer[];
}

/**
 * The committee drawn in `cycle` (it serves cycle + 1). Needs the snapshot and seed pulses retained
 * and committed; throws RangeError before the seed pulse, or without an organization.
 */
export function committeeFor(src: ElectionSource, cycle: number): Committee {
  const drawn = draw(src, cycle);
  if (drawn.members.length > 0) return drawn;
  return { ...drawn, members: committeeOf(src, cycle), carried: true };
}

/** The committee of cycle 0: the genesis committee in its order, or the supervisor alone if it names none. */
export function genesisCommittee(p: Pick<OrgParams, "committee" | "supervisor">): readonly Buffer[] {
  return p.committee.length > 0 ? p.committee : [p.supervisor];
}

/** The members of the committee that keeps the books in `cycle`: the genesis committee in cycle 0. */
export function committeeOf(src: ElectionSource, cycle: number): readonly Buffer[] {
  const org = src.org;
  if (org === undefined) throw new RangeError("the organization has no genesis yet");
  // Back through the cycles whose draws had no one, iteratively: a long idle stretch must not overflow the stack.
  for (let c = cycle - 1; c >= 0; c--) {
    const members = draw(src, c).members;
    if (members.length > 0) return members;
  }
  return genesisCommittee(org.params);
}

/** The inputs of one draw, as read from the ledger (or written in a vector). */
export interface DrawInput {
  readonly cycle: number;
  readonly committeeSize: number;
  readonly minDeposit: bigint;
  /** Every account at the snapshot pulse (each once). */
  readonly snapshot: Iterable<{ readonly id: Buffer; readonly account: Account }>;
  /** A candidate's last reveal as it stands after the seed pulse, or null. */
  readonly revealAt: (id: Buffer) => Reveal | null;
  /** The root hash after the seed pulse. */
  readonly root: Uint8Array;
}

/**
 * The draw from its inputs: pure, so vectors can pin it without a ledger. No members if no one took
 * part. Who withheld comes from the same pass that finds who took part: one rule for both.
 */
export function drawFrom(
  input: DrawInput,
): Pick<Committee, "members" | "seed" | "weights" | "reveals" | "withheld"> {
  const atSnapshot = new Map<string, { id: Buffer; account: Account }>();
  for (const e of input.snapshot) atSnapshot.set(e.id.toString("hex"), e);
  const standing = candidateWeights(atSnapshot.values(), input.minDeposit).sort((a, b) =>
    Buffer.compare(a.id, b.id),
  );
  const weights: Weighted[] = [];
  const reveals: CountedReveal[] = [];
  const withheld: Buffer[] = [];
  for (const w of standing) {
    const held = atSnapshot.get(w.id.toString("hex"))!.account.commitment;
    if (held === null) continue;
    const last = input.revealAt(w.id);
    // The rule accepts a reveal only inside the window, so a reveal of this cycle was made in it; it
    // counts only if it opens the commitment of the snapshot (not one declared after it).
    if (last === null || last.cycle !== input.cycle || !commitment(last.secret).equals(held)) {
      withheld.push(w.id);
      continue;
    }
    weights.push(w);
    reveals.push({ id: w.id, secret: last.secret, commitment: held });
  }
  const seed = drawSeed(input.root, reveals);
  return {
    members: drawCommittee(weights, input.committeeSize, seed),
    seed,
    weights,
    reveals,
    withheld: withheld.slice(0, TX_LIMITS.forfeitCandidates),
  };
}

/** One cycle's draw on its own: no members if no candidate took part. */
export function draw(src: ElectionSource, cycle: number): Committee {
  const org = src.org;
  if (org === undefined) throw new RangeError("the organization has no genesis yet");
  const p = org.params;
  const s = schedule(cycle, p.electionCycle);
  if (src.head === undefined || src.head < s.revealLast)
    throw new RangeError(
      `the draw of cycle ${cycle} needs pulse ${s.revealLast}; the ledger is at ${src.head ?? "no pulse"}`,
    );
  const drawn = drawFrom({
    cycle,
    committeeSize: p.committeeSize,
    minDeposit: p.minDeposit,
    snapshot: src.accountsAt(s.snapshot),
    revealAt: (id) => src.account(id, s.revealLast)?.reveal ?? null,
    root: src.rootAt(s.revealLast).hash,
  });
  return {
    cycle,
    serves: cycle + 1,
    carried: false,
    snapshot: s.snapshot,
    seedPulse: s.revealLast,
    ...drawn,
  };
}
