/** The Tendermint engine's inputs, outputs and options (the engine: tendermint.ts). */

/** A value's id: 64 hex digits of its hash, or null for nil (a vote for nothing). */
export type ValueId = string | null;

/** The steps of a round. */
export type RoundStep = "propose" | "prevote" | "precommit";

/** A proposal whose signature the host verified. */
export interface ProposalIn<V> {
  readonly round: number;
  /** The round in which the proposer saw 2f+1 prevotes for the value, or -1. */
  readonly validRound: number;
  readonly id: string;
  readonly value: V;
  readonly signer: string;
  /** Whatever the host needs later (the signed bytes), handed back in actions. */
  readonly raw?: unknown;
}

/** A prevote or precommit whose signature the host verified. */
export interface VoteIn {
  readonly step: "prevote" | "precommit";
  readonly round: number;
  readonly id: ValueId;
  readonly signer: string;
  readonly raw?: unknown;
}

/** What the engine asks of its host. */
export type Action<V> =
  /** This node proposes in `round` but has no value to carry over: build one and call propose(). */
  | { readonly type: "build"; readonly round: number }
  /** Sign and send this proposal (and feed it back through onProposal). */
  | {
      readonly type: "proposal";
      readonly round: number;
      readonly validRound: number;
      readonly id: string;
      readonly value: V;
    }
  /** Sign and send this vote (and feed it back through onVote). */
  | {
      readonly type: "vote";
      readonly step: "prevote" | "precommit";
      readonly round: number;
      readonly id: ValueId;
    }
  /** Check the value (re-execute it) and call validated(). */
  | { readonly type: "validate"; readonly id: string; readonly value: V }
  /** Call onTimeout(step, round) after `ms`, unless the height is over by then. */
  | { readonly type: "timeout"; readonly step: RoundStep; readonly round: number; readonly ms: number }
  /**
   * This node locks on a value: persist it before the precommit that follows is signed, and hand
   * it back as `lock` after a restart (without it, a restarted bookkeeper could not re-propose the
   * value it is locked on, nor show why).
   */
  | { readonly type: "lock"; readonly lock: Lock<V> }
  /** The pulse is final: `precommits` are 2f+1 for `id` in `round` (the certificate). */
  | {
      readonly type: "decide";
      readonly round: number;
      readonly id: string;
      readonly value: V;
      /** The deciding round's proposal and 2f+1 precommits for it: the certificate. */
      readonly proposal: ProposalIn<V>;
      readonly precommits: readonly VoteIn[];
    }
  /** One signer sent two different messages for one (round, step): both, as received. */
  | {
      readonly type: "equivocation";
      readonly signer: string;
      readonly first: unknown;
      readonly second: unknown;
    };

/** Timeouts of round r: base + r * delta for each step (ms). */
export interface Timeouts {
  readonly propose: number;
  readonly proposeDelta: number;
  readonly vote: number;
  readonly voteDelta: number;
}

/** A lock that must survive a restart: the proposal locked on and the 2f+1 prevotes that justify it. */
export interface Lock<V> {
  readonly round: number;
  readonly proposal: ProposalIn<V>;
  readonly polka: readonly VoteIn[];
}

/** Options of a Height. */
export interface HeightOptions {
  /** The committee's signer ids in drawn order: round r's proposer is committee[r mod n]. */
  readonly committee: readonly string[];
  /** This node's signer id, or undefined for an observer that never votes. */
  readonly me?: string;
  readonly timeouts: Timeouts;
  /** A lock that survived a restart (from a "lock" action): never prevote against it; re-propose it. */
  readonly lock?: Lock<unknown>;
  /** Rounds further ahead than this are ignored (byzantine signers could otherwise make us keep any number). @default 1000 */
  readonly maxRoundsAhead?: number;
}

/** Quorum of n equal votes: more than two thirds. */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** Signers in a round beyond which at least one is honest (f + 1). */
export function weakQuorum(n: number): number {
  return n - quorum(n) + 1;
}
