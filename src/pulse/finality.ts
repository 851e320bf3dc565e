/**
 * The committee's finality of pulses: the Tendermint engine (tendermint.ts) driven with real
 * messages, the ledger and the sign guard. A pulse is final when 2f+1 of the cycle's committee
 * precommit one proposal, whose batch every bookkeeper re-applied (Ledger.prepare) to the root it
 * claims; the precommits make its certificate (certificate.ts).
 *
 * Order of things that must not be reordered: a lock is written (fsync) before the precommit that
 * follows it is signed; every signature passes the sign guard (fsync) before it leaves the
 * process. A restart resumes at the last round the guard recorded, re-sends what it signed there,
 * and keeps its lock, so it never votes against what it said before the crash.
 *
 * Transport is the host's: `broadcast` sends to every committee member and observer (gossip), and
 * whatever arrives goes to `receive`. Peers' bytes are decoded and checked here; anything wrong is
 * dropped and logged, never thrown.
 */
import type { Signer } from "../crypto/ed25519.js";
import type { Ledger, PreparedPulse, PulseOutcome } from "../ledger/ledger.js";
import type { Logger } from "../node/log.js";
import { CodedError } from "../util/errors.js";
import { checkConsensusMessage } from "./finality-check.js";
import { type FinalityValue, PulseRound } from "./finality-round.js";
import { NextCommittee } from "./next-committee.js";
import type { DecodedProposal } from "./proposal.js";
import type { SignGuard } from "./sign-guard.js";
import type { Timeouts } from "./tendermint.js";
import { checkEvidence } from "./votes.js";

/** Where finality messages go: every committee member and observer of the organization. */
export interface FinalityTransport {
  broadcast(bytes: Buffer): void;
}

/** A final pulse, committed. */
export interface Decided {
  readonly pulse: number;
  readonly round: number;
  readonly proposal: DecodedProposal;
  readonly outcome: PulseOutcome;
  /** Encoded certificate (kind 0x49): 2f+1 precommits of the committee. */
  readonly certificate: Buffer;
}

/** Options of a Finality service. */
export interface FinalityOptions {
  readonly ledger: Ledger;
  readonly signer: Signer;
  readonly guard: SignGuard;
  /** The committee that finalizes `pulse`: account ids in drawn order (the first is round 0's proposer). */
  readonly committee: (pulse: number) => readonly Buffer[];
  /** Each member's deposit bounding the transfers it proposes in a pulse (committee order); undefined: no bound. */
  readonly deposits?: (pulse: number) => readonly bigint[] | undefined;
  /**
   * The candidates whose withheld reveals the forfeit of `pulse` charges (ascending ids), or
   * undefined when none is due in it (CommitteeBook.withheld). Without it no forfeit is made or required.
   */
  readonly withheld?: (pulse: number) => readonly Buffer[] | undefined;
  readonly transport: FinalityTransport;
  readonly log: Logger;
  /** Where this node's lock is kept across restarts. */
  readonly lockPath: string;
  /** Every final pulse, after it is committed. */
  readonly onDecided: (d: Decided) => void;
  /** Transactions this node, as proposer, found would change nothing now: refused, with their results. */
  readonly onRefused?: (txs: readonly Buffer[], outcome: PreparedPulse) => void;
  /** Messages of a pulse past the next one arrived: this node is behind (the host catches up). At most every 2 s. */
  readonly onBehind?: () => void;
  /** Equivocation evidence found or received (kind 0x47), checked. */
  readonly onEvidence?: (evidence: Buffer) => void;
  /** @default 2000/500 propose, 1000/500 prevote and precommit */
  readonly timeouts?: Timeouts;
  /** How often this node repeats what it said in the current round (ms). @default 1000 */
  readonly resendMs?: number;
  /** Most transactions in one proposal. @default 20000 */
  readonly maxBatch?: number;
  /** Gossips a transaction to the other bookkeepers again (one that waited in the pool for a while). */
  readonly relay?: (tx: Buffer) => void;
  /** Test only: behave as a byzantine bookkeeper. */
  readonly byzantine?: "wrong-root" | "equivocate";
}

/** Why finality refused something of this node's own. */
export class FinalityError extends CodedError<"STOPPED" | "NOT_MEMBER"> {}

/** Pulses ahead of the next one whose messages are kept until the node gets there. */
const FUTURE_PULSES = 3;
/** Messages kept for future pulses, in all, and their bytes. */
const FUTURE_MAX = 4096;
const FUTURE_MAX_BYTES = 16 * 1024 * 1024;
/** Transactions of the pool prepared at a slot's end to tell whether a round should start. */
const PRECHECK_TXS = 64;
/**
 * Final pulses a pooled transaction waits out before it is gossiped to the other bookkeepers again
 * (after 4, 8, 16... of them): pulses that keep leaving it out suggest the proposers lack it. Counted
 * in pulses, not slots: under a backlog pulses are slow, and copies must not add to the load.
 */
const RELAY_AFTER_PULSES = 4;
/** Transactions gossiped again per final pulse at most. */
const RELAY_PER_PULSE = 256;
/** Final pulses after its own during which evidence is gossiped again with each pulse. */
const EVIDENCE_REGOSSIP_PULSES = 10;
/** Final pulses whose proposal and certificate are kept to help a lagging bookkeeper (a proposal is at most 1 MiB). */
const RECENT_PULSES = 32;

/** The finality service of one organization on one node. */
export class Finality {
  /** Transactions waiting for a proposal, by the hash of their bytes (insertion order = arrival), with the slots they waited. */
  private readonly pool = new Map<string, { tx: Buffer; age: number }>();
  private current: PulseRound | undefined;
  private readonly future = new Map<number, Buffer[]>();
  private futureCount = 0;
  private futureBytes = 0;
  private ticking = false;
  private readonly recent = new Map<number, { proposal: Buffer; certificate: Buffer }>();
  private readonly answered = new Map<number, number>();
  /** Evidence held, by its bytes, with the pulse it is about (kept for the publicity period). */
  private readonly evidence = new Map<string, { bytes: Buffer; pulse: number }>();
  private stopped = false;
  private behindAt = 0;
  /** The committee each value names for the pulse after it, cached by cycle. */
  private readonly next: NextCommittee;

  constructor(private readonly opts: FinalityOptions) {
    this.next = new NextCommittee(opts.ledger, opts.committee);
  }

  /** The next pulse's round state, for status. */
  get status(): { pulse: number; round: number; step: string; pool: number } | undefined {
    const c = this.current;
    if (c === undefined) return undefined;
    const s = c.state;
    return { pulse: c.pulse, round: s?.round ?? 0, step: s?.step ?? "propose", pool: this.pool.size };
  }

  /** Transactions waiting for a proposal. */
  get pending(): number {
    return this.pool.size;
  }

  /** Evidence held (kept for the publicity period by the caller's pruning). */
  get evidenceHeld(): readonly Buffer[] {
    return [...this.evidence.values()].map((e) => e.bytes);
  }

  /** The certificate of a recent final pulse, if kept. */
  certificate(pulse: number): Buffer | undefined {
    return this.recent.get(pulse)?.certificate;
  }

  /** Adds transactions (encoded) to the pool of the next proposal. */
  offer(txs: readonly Buffer[]): void {
    for (const tx of txs) {
      const key = PulseRound.txKey(tx);
      if (!this.pool.has(key)) this.pool.set(key, { tx, age: 0 });
    }
  }

  /**
   * A pulse slot ended: start the next pulse's rounds if the pool would change the state. A pool that
   * would not (every transaction refused now) is refused here, so that no round starts for nothing.
   */
  tick(): void {
    if (this.stopped || this.ticking) return;
    this.startIfReady();
  }

  /** After a final pulse: what it left out ages, and what waited long is gossiped again. */
  private age(): void {
    let relayed = 0;
    // Again after RELAY_AFTER_PULSES, then each time the wait doubles.
    for (const e of this.pool.values()) {
      e.age++;
      if (e.age >= RELAY_AFTER_PULSES && (e.age & (e.age - 1)) === 0 && relayed++ < RELAY_PER_PULSE)
        this.opts.relay?.(e.tx);
    }
  }

  /** Starts the next pulse's rounds if none runs and the pool would change the state. */
  private startIfReady(): void {
    if (this.stopped || this.ticking || this.current !== undefined || this.pool.size === 0) return;
    this.ticking = true;
    void this.precheck()
      .catch((err) => this.opts.log.error({ err }, "checking the pool failed"))
      .finally(() => {
        this.ticking = false;
      });
  }

  private async precheck(): Promise<void> {
    const pulse = this.nextPulse;
    // The pool's first transactions are enough to tell: the proposer prepares the whole pool anyway.
    const txs = this.poolTxs().slice(0, PRECHECK_TXS);
    const prepared = await this.opts.ledger.prepare(pulse, txs, { proofs: false, skipUnchanged: true });
    prepared.discard();
    if (this.stopped || this.current !== undefined || this.nextPulse !== pulse) return;
    if (prepared.changed) this.begin();
    else {
      for (const tx of txs) this.pool.delete(PulseRound.txKey(tx));
      this.opts.onRefused?.(txs, prepared);
    }
  }

  private poolTxs(): Buffer[] {
    const out: Buffer[] = [];
    const max = this.opts.maxBatch ?? 20_000;
    for (const e of this.pool.values()) {
      if (out.length >= max) break;
      out.push(e.tx);
    }
    return out;
  }

  /**
   * Checks a consensus message whole before anything is done with it (the gossip validator calls it
   * too): finality-check.ts. Throws unless it holds; returns its pulse.
   */
  check(bytes: Uint8Array): number {
    return checkConsensusMessage(bytes, this.orgId(), this.opts.committee);
  }

  /** Bytes from a peer (or a loopback of our own): a proposal, vote, certificate or evidence. */
  receive(bytes: Uint8Array): void {
    if (this.stopped) return;
    try {
      const b = Buffer.from(bytes);
      this.route(b, this.check(b));
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, "finality message dropped");
    }
  }

  /**
   * Pulses were committed by catching up (replica.ts), not by these rounds: the pulse in progress, if
   * now final, is dropped, and so are the pool's transactions those pulses carried.
   */
  replayed(txs: readonly Buffer[]): void {
    for (const tx of txs) this.pool.delete(PulseRound.txKey(tx));
    const c = this.current;
    if (c !== undefined && c.pulse < this.nextPulse) {
      this.current = undefined;
      void c.close();
    }
    for (const [k, list] of this.future)
      if (k < this.nextPulse) {
        this.dropFuture(k, list);
      }
    if (this.current === undefined && this.future.has(this.nextPulse) && !this.stopped) this.begin();
  }

  /** A round that ended without a final pulse of its own (its commit failed): the next tick or message starts again. */
  private abandoned(round: PulseRound): void {
    if (this.current === round) this.current = undefined;
  }

  private dropFuture(k: number, list: readonly Buffer[]): void {
    this.future.delete(k);
    this.futureCount -= list.length;
    for (const b of list) this.futureBytes -= b.length;
  }

  /** Stops timers; what is in flight is dropped (a restart resumes from the guard and the lock). */
  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.current;
    this.current = undefined;
    if (c !== undefined) await c.close();
  }

  private get nextPulse(): number {
    const head = this.opts.ledger.head;
    return head === undefined ? 0 : head + 1;
  }

  private begin(): PulseRound {
    const pulse = this.nextPulse;
    const committee = this.opts.committee(pulse);
    const round = new PulseRound({
      ...this.opts,
      pulse,
      committee,
      nextCommittee: (prepared) => this.next.hashAfter(prepared),
      pool: () => this.poolTxs(),
      abandoned: () => this.abandoned(round),
      refuse: (txs, prepared) => {
        for (const tx of txs) this.pool.delete(PulseRound.txKey(tx));
        this.opts.onRefused?.(txs, prepared);
      },
      decided: (d, proposalBytes) => this.finish(d, proposalBytes),
      evidence: (ev) => this.keepEvidence(ev, true),
    });
    this.current = round;
    round.start();
    for (const [k, list] of this.future) if (k < pulse) this.dropFuture(k, list);
    const waiting = this.future.get(pulse) ?? [];
    this.dropFuture(pulse, waiting);
    for (const m of waiting) this.receive(m);
    return round;
  }

  private finish(d: Decided, proposalBytes: Buffer): void {
    for (const tx of d.proposal.txs) this.pool.delete(PulseRound.txKey(tx));
    this.age();
    this.recent.set(d.pulse, { proposal: proposalBytes, certificate: d.certificate });
    this.regossipEvidence(d.pulse);
    for (const k of this.recent.keys()) if (k <= d.pulse - RECENT_PULSES) this.recent.delete(k);
    const old = this.current;
    this.current = undefined;
    void old?.close();
    this.opts.onDecided(d);
    // A peer's messages for the next pulse may already be here; else, under load, the pool is not
    // left to wait for the next slot's end: the pulse after a slow one starts at once.
    if (this.stopped) return;
    if (this.future.has(this.nextPulse)) this.begin();
    else this.startIfReady();
  }

  /** A checked message (check()) about `pulse`. */
  private route(b: Buffer, pulse: number): void {
    const kind = b[1];
    if (kind === 0x47) {
      this.keepEvidence(b, false);
      return;
    }
    const next = this.nextPulse;
    if (pulse < next) {
      this.helpBehind(pulse);
      return;
    }
    if (pulse > next) {
      // Peers speak of a later pulse: `next` is final without us.
      if (Date.now() - this.behindAt > 2000) {
        this.behindAt = Date.now();
        this.opts.onBehind?.();
      }
      if (pulse > next + FUTURE_PULSES || this.futureCount >= FUTURE_MAX) return;
      if (this.futureBytes + b.length > FUTURE_MAX_BYTES) return;
      const list = this.future.get(pulse) ?? [];
      list.push(b);
      this.future.set(pulse, list);
      this.futureCount++;
      this.futureBytes += b.length;
      return;
    }
    (this.current ?? this.begin()).receive(b);
  }

  /** A peer is behind (it spoke of a pulse we finalized): show it how that pulse ended, once a second at most. */
  private helpBehind(pulse: number): void {
    const r = this.recent.get(pulse);
    const now = Date.now();
    if (r === undefined || (this.answered.get(pulse) ?? 0) + 1000 > now) return;
    this.answered.set(pulse, now);
    for (const k of this.answered.keys()) if (!this.recent.has(k)) this.answered.delete(k);
    this.opts.transport.broadcast(r.proposal);
    this.opts.transport.broadcast(r.certificate);
  }

  /**
   * Evidence is said again with each final pulse while it is recent (a node that joined since, or
   * missed it, hears it), and dropped after the publicity period.
   */
  private regossipEvidence(pulse: number): void {
    const publicity = this.opts.ledger.org?.params.publicityPeriod ?? 0;
    for (const [k, e] of this.evidence) {
      if (e.pulse + publicity < pulse) this.evidence.delete(k);
      else if (e.pulse + EVIDENCE_REGOSSIP_PULSES >= pulse) this.opts.transport.broadcast(e.bytes);
    }
  }

  private keepEvidence(ev: Buffer, ours: boolean): void {
    const e = checkEvidence(ev);
    if (!e.org.equals(this.orgId())) return;
    if (!this.opts.committee(e.pulse).some((id) => id.equals(e.signer))) return;
    const key = ev.toString("base64");
    if (this.evidence.has(key)) return;
    // One piece per signer and (pulse, round, step) is proof enough: more would only grow the store.
    for (const x of this.evidence.values()) {
      const y = checkEvidence(x.bytes);
      if (y.signer.equals(e.signer) && y.pulse === e.pulse && y.round === e.round && y.step === e.step)
        return;
    }
    this.evidence.set(key, { bytes: ev, pulse: e.pulse });
    this.opts.log.warn({ signer: e.signer.toString("hex"), pulse: e.pulse, round: e.round }, "equivocation");
    if (ours) this.opts.transport.broadcast(ev);
    this.opts.onEvidence?.(ev);
  }

  private orgId(): Buffer {
    const org = this.opts.ledger.org;
    if (org === undefined) throw new FinalityError("STOPPED", "no organization");
    return org.id;
  }
}

export type { FinalityValue };
