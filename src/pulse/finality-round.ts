/**
 * One pulse's finality on one node (finality.ts runs one at a time): the engine of that pulse, the
 * proposals it re-applied, its timers, and the order in which its actions run. Actions run one
 * after another on a single chain, since several await the disk (the guard's and the lock's fsync)
 * or the ledger, and a lock must be on disk before the precommit after it is signed.
 *
 * Two rules of the batch live here (docs/PROTOCOL.md §13.3). The reward: when the organization pays
 * a mining reward, the proposer puts the pulse's reward transaction first in its batch, and a value
 * without it is invalid; likewise the forfeit, in the pulse after a reveal window in which candidates
 * withheld (§12). The deposit bound: the transfers of a batch this node builds add up to at
 * most its deposit at the snapshot of the draw that elected it (`deposits`), and a peer's fresh
 * proposal (valid round -1) over its proposer's bound is dropped on arrival, so it gets a nil prevote
 * when the propose timeout ends. The bound is checked on the proposal, not in `validate`: validity
 * is the value's (the engine asks once per value id) and a value does not say who built it; a value
 * re-proposed in a later round carries 2f+1 prevotes of a round in which it was checked.
 * A value also names the next pulse's committee (next-committee.ts), computed on the state its batch
 * leads to: a validator that computes another prevotes nil, so a certificate hands on the right one.
 */
import { hash } from "node:crypto";
import type { PreparedPulse } from "../ledger/ledger.js";
import { encodeCertificate } from "./certificate.js";
import { fillBatch, forfeitIn, leadsTo, MAX_BATCH_BYTES, rewardIn, withoutFirst } from "./finality-batch.js";
import { engineInputs, NIL, type Raw, voteOf } from "./finality-inputs.js";
import { proposalIn, readLock, writeLock } from "./finality-lock.js";
import type { FinalityValue, PulseRoundOptions } from "./finality-round-types.js";
import { batchHashOf, decodeProposal, encodeProposal, valueIdOf } from "./proposal.js";
import { SignGuardError } from "./sign-guard.js";
import { type Action, Height, type VoteIn } from "./tendermint.js";
import { makeEvidence, Step, signVote } from "./votes.js";

export type { FinalityValue, PulseRoundOptions } from "./finality-round-types.js";

const DEFAULT_TIMEOUTS = { propose: 2000, proposeDelta: 500, vote: 1000, voteDelta: 500 };

/** One pulse's finality. */
export class PulseRound {
  /** Made by start(), once the lock is read. */
  private engine: Height<FinalityValue> | undefined;
  readonly pulse: number;
  private readonly prepared = new Map<string, PreparedPulse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** What this node signed for this pulse (re-sent until the pulse ends). */
  private readonly mine: Buffer[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** When the engine last asked for something: a round that moves needs no resending. */
  private progressAt = Date.now();
  private readonly org: Buffer;
  private readonly me: string;
  /** The pulse's reward transaction, when the organization pays one: every valid batch carries it. */
  private readonly reward: Buffer | undefined;
  /** Who withheld in the cycle whose forfeit is due in this pulse, and that forfeit: every valid batch carries it too. */
  private readonly withheld: readonly Buffer[] | undefined;
  private readonly forfeit: Buffer | undefined;

  constructor(private readonly o: PulseRoundOptions) {
    this.pulse = o.pulse;
    const org = o.ledger.org!;
    this.org = org.id;
    this.me = o.signer.id.toString("hex");
    this.reward = rewardIn(org, o.pulse, o.committee);
    this.withheld = o.withheld?.(o.pulse);
    this.forfeit = forfeitIn(org, o.pulse, this.withheld);
  }

  /** Where the engine is (undefined until started). */
  get state(): Height<FinalityValue>["state"] | undefined {
    return this.engine?.state;
  }

  /** The key of a transaction in a pool: the hash of its bytes. */
  static txKey(tx: Uint8Array): string {
    return hash("sha256", tx, "base64");
  }

  /** Starts: resumes a restart's round, lock and votes, then round 0's work. */
  start(): void {
    this.run(async () => {
      const lock = await readLock(this.o.lockPath, this.org, this.pulse);
      const records = this.o.guard.recorded(this.org, this.pulse);
      const resume = records.reduce((m, r) => Math.max(m, r.round), 0);
      const committee = this.o.committee.map((id) => id.toString("hex"));
      this.engine = new Height<FinalityValue>({
        committee,
        me: committee.includes(this.me) ? this.me : undefined,
        timeouts: this.o.timeouts ?? DEFAULT_TIMEOUTS,
        lock,
      });
      await this.handleAll(this.engine.start(resume));
      // Say again what the guard shows we said (the same content signs again; nothing new is decided).
      for (const r of records)
        if (r.step !== "propose")
          await this.vote(r.step === "prevote" ? Step.Prevote : Step.Precommit, r.round, r.content);
    });
    const every = this.o.resendMs ?? 1000;
    const t = setInterval(() => this.resend(), every);
    t.unref();
    this.timers.add(t);
  }

  /**
   * A message for this pulse, already routed here by pulse number. Decoding and signatures are
   * checked at once (a bad message throws to the caller); the engine sees it in turn.
   */
  receive(b: Buffer): void {
    const inputs = engineInputs(b, {
      org: this.org,
      pulse: this.pulse,
      committee: this.o.committee,
      boundOf: (id) => this.boundOf(id),
      log: this.o.log,
    });
    for (const input of inputs) this.feed(input);
  }

  /** Stops timers and drops prepared pulses not committed; waits for the action in progress. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.chain;
    for (const p of this.prepared.values()) p.discard();
    this.prepared.clear();
  }

  /** Gives the engine an input in turn (after the actions before it) and runs what it asks. */
  private feed(input: (e: Height<FinalityValue>) => Action<FinalityValue>[]): void {
    this.run(async () => {
      if (this.engine !== undefined && !this.closed) await this.handleAll(input(this.engine));
    });
  }

  private async handleAll(actions: Action<FinalityValue>[]): Promise<void> {
    if (actions.length > 0) this.progressAt = Date.now();
    for (const a of actions) {
      if (this.closed) return;
      // One action that fails (a build, a disk error) must not cost the ones after it (a timeout).
      try {
        await this.handle(a);
      } catch (err) {
        this.o.log.error({ err, pulse: this.pulse, action: a.type }, "a finality action failed");
      }
    }
  }

  private run(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => {
      this.o.log.error({ err, pulse: this.pulse }, "finality step failed");
    });
  }

  private async handle(a: Action<FinalityValue>): Promise<void> {
    switch (a.type) {
      case "build":
        return this.build(a.round);
      case "proposal":
        return this.propose(a.round, a.validRound, a.value);
      case "vote":
        return this.vote(
          a.step === "prevote" ? Step.Prevote : Step.Precommit,
          a.round,
          a.id === null ? NIL : Buffer.from(a.id, "hex"),
        );
      case "validate":
        return this.validate(a.id, a.value);
      case "timeout": {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.feed((e) => e.onTimeout(a.step, a.round));
        }, a.ms);
        this.timers.add(t);
        return;
      }
      case "lock":
        return writeLock(this.o.lockPath, this.org, this.pulse, a.lock);
      case "equivocation": {
        const [x, y] = [voteOf(a.first), voteOf(a.second)];
        if (x !== undefined && y !== undefined && !x.equals(y)) this.o.evidence(makeEvidence(x, y));
        return;
      }
      case "decide":
        return this.decide(a);
    }
  }

  private async build(round: number): Promise<void> {
    const reward = [this.reward, this.forfeit].filter((tx) => tx !== undefined);
    // A committee of one sends its proposal to no one: only the count bounds its batch.
    const pool = fillBatch(
      this.o.pool(),
      (this.o.maxBatch ?? 20_000) - reward.length,
      this.boundOf(this.o.signer.id),
      this.o.committee.length > 1 ? MAX_BATCH_BYTES : Number.POSITIVE_INFINITY,
    );
    if (pool.length === 0) return;
    const txs = [...reward, ...pool];
    const prepared = await this.prepare(txs);
    if (!prepared.changed) {
      // The pool's own results: the reward and forfeit were ours, not transactions anyone waits for.
      this.o.refuse(pool, withoutFirst(prepared, reward.length));
      prepared.discard();
      return;
    }
    const { sum, count } = prepared.root;
    let root = { hash: Buffer.from(prepared.root.hash), sum, count };
    // Test hook: a byzantine proposer claims a root that the batch does not lead to.
    if (this.o.byzantine === "wrong-root")
      root = { hash: Buffer.from(root.hash.map((x, i) => (i === 0 ? x ^ 1 : x))), sum, count };
    const next = this.nextOf(prepared);
    if (next === undefined) return prepared.discard();
    const value: FinalityValue = { txs, root, batchHash: batchHashOf(txs), next };
    const id = valueIdOf(this.org, this.pulse, root, value.batchHash, next).toString("hex");
    this.prepared.get(id)?.discard();
    this.prepared.set(id, prepared);
    await this.handleAll(this.engine!.propose(round, id, value));
  }

  private async propose(round: number, validRound: number, v: FinalityValue): Promise<void> {
    const bytes = encodeProposal(
      { org: this.org, pulse: this.pulse, round, validRound, root: v.root, next: v.next, txs: v.txs },
      this.o.signer,
    );
    const p = decodeProposal(bytes);
    if (!(await this.approve("propose", round, p.vote.subarray(35, 67)))) return;
    this.o.transport.broadcast(bytes);
    this.mine.push(bytes);
    await this.handleAll(this.engine!.onProposal(proposalIn(p, bytes)));
  }

  private async vote(
    step: typeof Step.Prevote | typeof Step.Precommit,
    round: number,
    value: Buffer,
  ): Promise<void> {
    const name = step === Step.Prevote ? "prevote" : "precommit";
    let content = value;
    if (!(await this.approve(name, round, value))) {
      // The guard holds another vote for this slot (signed before a restart): that one is what we said.
      const held = this.o.guard
        .recorded(this.org, this.pulse)
        .find((r) => r.round === round && r.step === name);
      if (held === undefined) return;
      content = held.content;
    }
    const bytes = signVote({ org: this.org, pulse: this.pulse, round, step, value: content }, this.o.signer);
    this.o.transport.broadcast(bytes);
    if (!this.mine.some((m) => m.equals(bytes))) this.mine.push(bytes);
    // Test hook: a byzantine bookkeeper also signs a prevote for something else, past its guard.
    if (this.o.byzantine === "equivocate" && step === Step.Prevote) {
      const other = hash("sha256", Buffer.concat([content, Buffer.from("other")]), "buffer");
      this.o.transport.broadcast(
        signVote({ org: this.org, pulse: this.pulse, round, step, value: other }, this.o.signer),
      );
    }
    await this.handleAll(
      this.engine!.onVote({
        step: name,
        round,
        id: content.equals(NIL) ? null : content.toString("hex"),
        signer: this.me,
        raw: bytes,
      }),
    );
  }

  /** Asks the guard; false when it holds a different content for the slot. */
  private async approve(
    step: "propose" | "prevote" | "precommit",
    round: number,
    content: Uint8Array,
  ): Promise<boolean> {
    try {
      await this.o.guard.approve({ org: this.org, pulse: this.pulse, round, step, content });
      return true;
    } catch (err) {
      if (err instanceof SignGuardError && err.code === "CONFLICT") return false;
      throw err;
    }
  }

  /** The deposit bounding what `id` proposes in this pulse, or undefined for none. */
  private boundOf(id: Buffer): bigint | undefined {
    const deposits = this.o.deposits?.(this.pulse);
    if (deposits === undefined) return undefined;
    const i = this.o.committee.findIndex((m) => m.equals(id));
    return i < 0 ? 0n : (deposits[i] ?? 0n);
  }

  /** This pulse's batch applied in memory (with the committee: a reward names it). */
  private prepare(txs: readonly Buffer[]): Promise<PreparedPulse> {
    return this.o.ledger.prepare(this.pulse, [...txs], {
      proofs: false,
      skipUnchanged: true,
      committee: this.o.committee,
      withheld: this.withheld,
    });
  }

  private async validate(id: string, v: FinalityValue): Promise<void> {
    let why: string | undefined;
    if (v.txs.length > (this.o.maxBatch ?? 20_000)) why = "a proposal has too many transactions";
    else if (this.reward !== undefined && !v.txs.some((tx) => tx.equals(this.reward!)))
      why = "a proposal lacks the pulse's reward";
    else if (this.forfeit !== undefined && !v.txs.some((tx) => tx.equals(this.forfeit!)))
      why = "a proposal lacks the pulse's forfeit";
    else {
      const prepared = await this.prepare(v.txs);
      if (!prepared.changed || !leadsTo(prepared, v.root)) why = "a proposal does not re-apply to its root";
      else if (this.nextOf(prepared)?.equals(v.next) !== true)
        why = "a proposal names another committee for the next pulse";
      if (why === undefined) this.prepared.set(id, prepared);
      else prepared.discard();
    }
    if (why !== undefined) this.o.log.warn({ pulse: this.pulse, value: id }, why);
    await this.handleAll(this.engine!.validated(id, why === undefined));
  }

  /** The next committee's hash after `prepared`, or undefined (logged) when it cannot be known here. */
  private nextOf(prepared: PreparedPulse): Buffer | undefined {
    try {
      return this.o.nextCommittee(prepared);
    } catch (err) {
      this.o.log.warn({ err, pulse: this.pulse }, "the next committee cannot be computed here");
      return undefined;
    }
  }

  private async decide(a: Extract<Action<FinalityValue>, { type: "decide" }>): Promise<void> {
    // A value known valid without a prepared pulse (a lock read back after a restart) is prepared now.
    const prepared = this.prepared.get(a.id) ?? (await this.prepare(a.value.txs));
    this.prepared.delete(a.id);
    if (!leadsTo(prepared, a.value.root)) {
      prepared.discard();
      return this.abandon(new Error(`the final value ${a.id} does not re-apply to its root here`));
    }
    const fromPeer = a.precommits.map((p) => p.raw as Raw).find((r) => !Buffer.isBuffer(r)) as
      | { certificate: Buffer }
      | undefined;
    const certificate =
      fromPeer?.certificate ??
      encodeCertificate({
        org: this.org,
        pulse: this.pulse,
        round: a.round,
        root: a.value.root,
        batchHash: a.value.batchHash,
        next: a.value.next,
        precommits: a.precommits.map((p) => p.raw as Buffer),
      });
    // Kept with the pulse, in its batch: a bookkeeper catching up is shown it (Op.Pulses).
    let outcome: Awaited<ReturnType<PreparedPulse["commit"]>>;
    try {
      outcome = await prepared.commit({ certificate });
    } catch (err) {
      return this.abandon(err);
    }
    const proposalBytes = a.proposal.raw as Buffer;
    this.closed = true;
    this.o.decided(
      { pulse: this.pulse, round: a.round, proposal: decodeProposal(proposalBytes), outcome, certificate },
      proposalBytes,
    );
  }

  /** Ends this round without a pulse of its own: the service starts the next one afresh. */
  private abandon(err: unknown): void {
    this.o.log.warn(
      { err, pulse: this.pulse },
      "the final pulse could not be committed here (caught up, or the disk failed)",
    );
    this.closed = true;
    this.o.abandoned?.();
  }

  private resend(): void {
    if (this.closed || this.engine === undefined) return;
    // Said again only when the round has not moved for a while: a proposal can be 1 MiB.
    if (Date.now() - this.progressAt < (this.o.resendMs ?? 1000)) return;
    const r = this.engine.resend();
    const sent = new Set<unknown>();
    const send = (raw: unknown) => {
      if (sent.has(raw)) return;
      sent.add(raw);
      const b = Buffer.isBuffer(raw) ? raw : (raw as { certificate: Buffer } | undefined)?.certificate;
      if (b !== undefined) this.o.transport.broadcast(b);
    };
    for (const p of r.proposals) send(p.raw);
    for (const v of r.votes) send(v.raw);
    for (const m of this.mine) send(m);
  }
}

export type { VoteIn };
