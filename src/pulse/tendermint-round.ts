/** What the Tendermint engine holds of one round: its proposals and its two tallies of votes. */
import type { ProposalIn, ValueId, VoteIn } from "./tendermint-types.js";

/** Values of no proposal one signer may have counted in one tally: equivocation is seen, memory stays bounded. */
const MAX_VALUES_PER_SIGNER = 4;
/** Proposals kept per round: the proposer's first, and conflicting ones a certificate may need. */
export const MAX_PROPOSALS_PER_ROUND = 4;

/**
 * The prevotes or precommits of one round. A signer counts once towards each value it voted for:
 * an equivocating signer may count for two values, which is safe (two quorums of 2f+1 share at
 * least one honest signer, and an honest one never signs two values) and keeps honest nodes that saw
 * its votes in different orders able to agree. Totals count distinct signers.
 */
export class Tally {
  /** Each signer's first vote. */
  readonly by = new Map<string, VoteIn>();
  private readonly perValue = new Map<ValueId, Map<string, VoteIn>>();
  private readonly valuesOf = new Map<string, number>();

  /**
   * Adds a vote; returns the signer's earlier vote for another value, if any (equivocation). Past
   * a few values per signer, only votes that can matter are kept: nil and proposed values.
   */
  add(v: VoteIn, proposed: boolean): VoteIn | undefined {
    let m = this.perValue.get(v.id);
    if (m?.has(v.signer)) return undefined;
    const first = this.by.get(v.signer);
    const values = this.valuesOf.get(v.signer) ?? 0;
    if (values >= MAX_VALUES_PER_SIGNER && v.id !== null && !proposed) return first;
    if (first === undefined) this.by.set(v.signer, v);
    this.valuesOf.set(v.signer, values + 1);
    if (m === undefined) {
      m = new Map();
      this.perValue.set(v.id, m);
    }
    m.set(v.signer, v);
    return first;
  }

  count(id: ValueId): number {
    return this.perValue.get(id)?.size ?? 0;
  }

  get total(): number {
    return this.by.size;
  }

  /** The values voted for. */
  values(): IterableIterator<ValueId> {
    return this.perValue.keys();
  }

  votesFor(id: ValueId): VoteIn[] {
    return [...(this.perValue.get(id)?.values() ?? [])];
  }
}

/** All a round's messages. */
export class Round<V> {
  /** The proposer's first proposal: the one this node prevotes on. */
  proposal: ProposalIn<V> | undefined;
  /** Every proposal kept, by value id (an equivocating proposer's others may still be decided). */
  readonly proposals = new Map<string, ProposalIn<V>>();
  readonly prevotes = new Tally();
  readonly precommits = new Tally();
  /** Distinct signers heard from in this round (for the f + 1 rule). */
  readonly heard = new Set<string>();
  prevoteTimeoutSet = false;
  precommitTimeoutSet = false;
  polkaSeen = false;
}
