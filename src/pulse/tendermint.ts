/**
 * The finality of one pulse among a committee: Tendermint's algorithm ("The latest gossip on BFT
 * consensus", Buchman, Kwon and Milosevic 2018, Algorithm 1), as a pure state machine. It does no
 * I/O, keeps no clock and signs nothing: inputs are verified messages, validation results and
 * expired timeouts; outputs are actions for its host (sign and send a vote, build or check a
 * proposal, schedule a timeout, finalize). The same code runs in the daemon and, thousands of seeds
 * at a time, in the deterministic simulation (test/consensus-sim.test.ts).
 *
 * Why it is safe: a bookkeeper that precommits a value locks on it and afterwards prevotes only for
 * it, unless it sees 2f+1 prevotes for another value in a later round than its lock. A value that is
 * final had 2f+1 precommits, so at least f+1 honest bookkeepers are locked on it and no other value
 * can gather 2f+1 prevotes again. The round's proposer is the r-th bookkeeper in drawn order, so a
 * missing chief is replaced by the next round's proposer; timeouts grow with the round so that,
 * once messages flow, a round long enough for everyone comes.
 *
 * Every bookkeeper weighs the same (the draw already weighed them): quorum q = floor(2n/3) + 1 of
 * n; f + 1 = n - q + 1 messages of a later round show that an honest one is there.
 */
import { MAX_PROPOSALS_PER_ROUND, Round, type Tally } from "./tendermint-round.js";
import {
  type Action,
  type HeightOptions,
  type Lock,
  type ProposalIn,
  quorum,
  type RoundStep,
  type ValueId,
  type VoteIn,
  weakQuorum,
} from "./tendermint-types.js";

export * from "./tendermint-types.js";

/** Equivocating slots reported per pulse at most. */
const MAX_REPORTED = 1024;

/** The consensus for one pulse number. */
export class Height<V> {
  private round = -1;
  private step: RoundStep = "propose";
  private lockedRound = -1;
  private lockedId: string | null = null;
  private validRound = -1;
  private validValue: { id: string; value: V } | undefined;
  private readonly rounds = new Map<number, Round<V>>();
  private readonly validity = new Map<string, boolean | "pending">();
  private readonly members: Set<string>;
  private readonly q: number;
  private readonly weak: number;
  private out: Action<V>[] = [];
  private decision: { round: number; id: string } | undefined;
  /** Slots (signer, round, step) whose equivocation was reported. */
  private readonly reported = new Set<string>();

  constructor(private readonly opts: HeightOptions) {
    if (opts.committee.length === 0) throw new RangeError("a committee has at least one member");
    this.members = new Set(opts.committee);
    if (this.members.size !== opts.committee.length) throw new RangeError("committee members repeat");
    this.q = quorum(opts.committee.length);
    this.weak = weakQuorum(opts.committee.length);
    const lock = opts.lock as Lock<V> | undefined;
    if (lock !== undefined) {
      const { round, proposal } = lock;
      this.lockedRound = round;
      this.lockedId = proposal.id;
      // Locking means 2f+1 prevoted the value in that round: it is also the valid value.
      this.validRound = round;
      this.validValue = { id: proposal.id, value: proposal.value };
      this.validity.set(proposal.id, true);
      const r = this.at(round);
      r.proposal = proposal;
      r.proposals.set(proposal.id, proposal);
      for (const v of lock.polka) r.prevotes.add(v, true);
    }
  }

  /** The round's proposer. */
  proposer(round: number): string {
    return this.opts.committee[round % this.opts.committee.length]!;
  }

  /** Where the height is (for status and logs). */
  get state(): { round: number; step: RoundStep; lockedRound: number; validRound: number; decided: boolean } {
    return {
      round: this.round,
      step: this.step,
      lockedRound: this.lockedRound,
      validRound: this.validRound,
      decided: this.decision !== undefined,
    };
  }

  /** The decision, once there is one. */
  get decided(): { round: number; id: string } | undefined {
    return this.decision;
  }

  /** Starts round 0 (or the round a restart resumes at). */
  start(round = 0): Action<V>[] {
    if (this.round < 0) this.startRound(round);
    return this.run();
  }

  /** This node's value for `round`, after a "build" action. */
  propose(round: number, id: string, value: V): Action<V>[] {
    if (
      this.decision === undefined &&
      round === this.round &&
      this.step === "propose" &&
      this.isMe(this.proposer(round))
    ) {
      // Our own value is valid: the host built it on our state.
      this.validity.set(id, true);
      this.out.push({ type: "proposal", round, validRound: -1, id, value });
    }
    return this.run();
  }

  /** A proposal received (or our own, fed back after signing). Ignored unless from the round's proposer. */
  onProposal(p: ProposalIn<V>): Action<V>[] {
    if (!this.acceptRound(p.round) || p.signer !== this.proposer(p.round)) return [];
    if (p.validRound < -1 || p.validRound >= p.round) return [];
    const r = this.at(p.round);
    r.heard.add(p.signer);
    if (r.proposal === undefined) r.proposal = p;
    else if (r.proposal.id !== p.id || r.proposal.validRound !== p.validRound)
      this.equivocation(`${p.signer}/${p.round}/propose`, p.signer, r.proposal.raw, p.raw);
    if (!r.proposals.has(p.id) && r.proposals.size < MAX_PROPOSALS_PER_ROUND) r.proposals.set(p.id, p);
    return this.run();
  }

  /** A prevote or precommit received (or our own, fed back after signing). */
  onVote(v: VoteIn): Action<V>[] {
    if (!this.acceptRound(v.round) || !this.members.has(v.signer)) return [];
    const r = this.at(v.round);
    r.heard.add(v.signer);
    const had = (v.step === "prevote" ? r.prevotes : r.precommits).add(
      v,
      v.id !== null && r.proposals.has(v.id),
    );
    if (had !== undefined) this.equivocation(`${v.signer}/${v.round}/${v.step}`, v.signer, had.raw, v.raw);
    return this.run();
  }

  /** Reports a signer's two messages for one slot, once per slot: one piece of evidence is proof enough. */
  private equivocation(slot: string, signer: string, first: unknown, second: unknown): void {
    if (this.reported.has(slot) || this.reported.size >= MAX_REPORTED) return;
    this.reported.add(slot);
    this.out.push({ type: "equivocation", signer, first, second });
  }

  /** The host's verdict on a value after a "validate" action. */
  validated(id: string, ok: boolean): Action<V>[] {
    if (this.validity.get(id) === "pending") this.validity.set(id, ok);
    return this.run();
  }

  /** A timeout scheduled by an action expired. */
  onTimeout(step: RoundStep, round: number): Action<V>[] {
    if (this.decision !== undefined || round !== this.round) return [];
    if (step === "propose" && this.step === "propose") {
      // The proposal came and is being re-applied: its verdict decides the prevote, not the clock.
      const p = this.rounds.get(round)?.proposal;
      if (p === undefined || this.validity.get(p.id) !== "pending") this.vote("prevote", null);
    } else if (step === "prevote" && this.step === "prevote") this.vote("precommit", null);
    else if (step === "precommit") this.startRound(round + 1);
    return this.run();
  }

  /**
   * Messages to send again, since a peer may have missed them (gossip drops, restarts): every
   * proposal and vote held for the current and the previous round, whoever signed it (a peer still
   * in the previous round moves on only when it sees what moved us); the proposal and 2f+1 prevotes
   * that justify the valid round (a later proposer re-proposing that value needs everyone to see
   * them); once decided, the deciding proposal and precommits, so a late peer finishes too. Each
   * message keeps its signature (`raw`), so relaying is safe. This node's own votes of older rounds
   * are the host's to resend (it has them signed, in the sign guard).
   */
  resend(): { proposals: ProposalIn<V>[]; votes: VoteIn[] } {
    const proposals: ProposalIn<V>[] = [];
    const votes: VoteIn[] = [];
    const all = (t: Tally) => {
      for (const id of t.values()) votes.push(...t.votesFor(id));
    };
    for (const k of [this.round - 1, this.round]) {
      const r = this.rounds.get(k);
      if (r === undefined) continue;
      proposals.push(...r.proposals.values());
      all(r.prevotes);
      all(r.precommits);
    }
    const justify = (round: number, id: string, tally: "prevotes" | "precommits") => {
      const r = this.rounds.get(round);
      const p = r?.proposals.get(id);
      if (r === undefined || p === undefined || round >= this.round - 1) return;
      proposals.push(p);
      votes.push(...r[tally].votesFor(id));
    };
    if (this.validValue !== undefined) justify(this.validRound, this.validValue.id, "prevotes");
    if (this.decision !== undefined) justify(this.decision.round, this.decision.id, "precommits");
    return { proposals, votes };
  }

  private isMe(id: string): boolean {
    return this.opts.me !== undefined && id === this.opts.me;
  }

  private acceptRound(round: number): boolean {
    if (!Number.isInteger(round) || round < 0) return false;
    return round <= Math.max(this.round, 0) + (this.opts.maxRoundsAhead ?? 1000);
  }

  private at(round: number): Round<V> {
    let r = this.rounds.get(round);
    if (r === undefined) {
      r = new Round<V>();
      this.rounds.set(round, r);
    }
    return r;
  }

  private timeout(step: RoundStep, round: number): void {
    const t = this.opts.timeouts;
    const ms = step === "propose" ? t.propose + round * t.proposeDelta : t.vote + round * t.voteDelta;
    this.out.push({ type: "timeout", step, round, ms });
  }

  private startRound(round: number): void {
    this.round = round;
    this.step = "propose";
    // Rounds before the new one matter only for proposals' valid rounds and late decisions; older
    // than the lock and the valid round, nothing reads them.
    const keepFrom = Math.min(round - 1, ...[this.lockedRound, this.validRound].filter((x) => x >= 0));
    for (const k of this.rounds.keys()) if (k < keepFrom && k !== this.decision?.round) this.rounds.delete(k);
    if (this.isMe(this.proposer(round))) {
      const same = this.rounds.get(round)?.proposals.get(this.validValue?.id ?? "");
      if (this.validValue !== undefined && this.validRound < round)
        this.out.push({ type: "proposal", round, validRound: this.validRound, ...this.validValue });
      else if (this.validValue !== undefined && same?.signer === this.opts.me)
        // A restart locked in this very round, on our own proposal: the same proposal again.
        this.out.push({ type: "proposal", round, validRound: same!.validRound, ...this.validValue });
      else this.out.push({ type: "build", round });
    }
    this.timeout("propose", round);
  }

  private vote(step: "prevote" | "precommit", id: ValueId): void {
    this.step = step;
    if (this.opts.me !== undefined && this.members.has(this.opts.me))
      this.out.push({ type: "vote", step, round: this.round, id });
  }

  /** Whether `id` is valid: true/false once known; asks the host the first time. */
  private valid(p: ProposalIn<V>): boolean | undefined {
    const v = this.validity.get(p.id);
    if (v === undefined) {
      this.validity.set(p.id, "pending");
      this.out.push({ type: "validate", id: p.id, value: p.value });
      return undefined;
    }
    return v === "pending" ? undefined : v;
  }

  /** Applies the rules until none fires; returns and clears the actions. */
  private run(): Action<V>[] {
    if (this.round >= 0) while (this.decision === undefined && this.fire()) {}
    const out = this.out;
    this.out = [];
    return out;
  }

  /** One rule that fires, in the paper's order; false when none does. */
  private fire(): boolean {
    // Decide: a proposal of any round with 2f+1 precommits for it.
    for (const [k, r] of this.rounds)
      for (const p of r.proposals.values()) {
        if (r.precommits.count(p.id) < this.q || this.valid(p) !== true) continue;
        this.decision = { round: k, id: p.id };
        const precommits = r.precommits.votesFor(p.id);
        this.out.push({ type: "decide", round: k, id: p.id, value: p.value, proposal: p, precommits });
        return false;
      }
    // Skip ahead: f + 1 signers in a later round.
    let ahead = -1;
    for (const [k, r] of this.rounds) if (k > this.round && r.heard.size >= this.weak && k > ahead) ahead = k;
    if (ahead >= 0) {
      this.startRound(ahead);
      return true;
    }
    const r = this.at(this.round);
    const p = r.proposal;
    if (this.step === "propose" && p !== undefined) {
      if (p.validRound === -1) {
        const ok = this.valid(p);
        if (ok === undefined) return false;
        this.vote("prevote", ok && (this.lockedRound === -1 || this.lockedId === p.id) ? p.id : null);
        return true;
      }
      const vr = this.rounds.get(p.validRound);
      if (vr !== undefined && vr.prevotes.count(p.id) >= this.q) {
        const ok = this.valid(p);
        if (ok === undefined) return false;
        this.vote(
          "prevote",
          ok && (this.lockedRound <= p.validRound || this.lockedId === p.id) ? p.id : null,
        );
        return true;
      }
    }
    if (this.step === "prevote" && !r.prevoteTimeoutSet && r.prevotes.total >= this.q) {
      r.prevoteTimeoutSet = true;
      this.timeout("prevote", this.round);
      return true;
    }
    // At most one value of a round can have 2f+1 prevotes (two quorums share an honest signer).
    const polka = [...r.proposals.values()].find((x) => r.prevotes.count(x.id) >= this.q);
    if (polka !== undefined && this.step !== "propose" && !r.polkaSeen) {
      const p = polka;
      const ok = this.valid(p);
      if (ok === true) {
        r.polkaSeen = true;
        if (this.step === "prevote") {
          this.lockedRound = this.round;
          this.lockedId = p.id;
          this.out.push({
            type: "lock",
            lock: { round: this.round, proposal: p, polka: r.prevotes.votesFor(p.id) },
          });
          this.vote("precommit", p.id);
        }
        this.validRound = this.round;
        this.validValue = { id: p.id, value: p.value };
        return true;
      }
    }
    if (this.step === "prevote" && r.prevotes.count(null) >= this.q) {
      this.vote("precommit", null);
      return true;
    }
    if (!r.precommitTimeoutSet && r.precommits.total >= this.q) {
      r.precommitTimeoutSet = true;
      this.timeout("precommit", this.round);
      return true;
    }
    return false;
  }
}
