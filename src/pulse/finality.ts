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
import { decodeCertificate } from "./certificate.js";
import { type FinalityValue, PulseRound } from "./finality-round.js";
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
  /** Test only: behave as a byzantine bookkeeper. */
  readonly byzantine?: "wrong-root" | "equivocate";
}

/** Why finality refused something of this node's own. */
export class FinalityError extends CodedError<"STOPPED" | "NOT_MEMBER"> {}

/** Pulses ahead of the next one whose messages are kept until the node gets there. */
const FUTURE_PULSES = 3;
/** Messages kept for future pulses, in all. */
const FUTURE_MAX = 4096;
/** Final pulses after its own during which evidence is gossiped again with each pulse. */
const EVIDENCE_REGOSSIP_PULSES = 10;
/** Final pulses whose proposal and certificate are kept to help a lagging bookkeeper. */
const RECENT_PULSES = 256;

/** The finality service of one organization on one node. */
export class Finality {
  /** Transactions waiting for a proposal, by the hash of their bytes (insertion order = arrival). */
  private readonly pool = new Map<string, Buffer>();
  private current: PulseRound | undefined;
  private readonly future = new Map<number, Buffer[]>();
  private futureCount = 0;
  private readonly recent = new Map<number, { proposal: Buffer; certificate: Buffer }>();
  private readonly answered = new Map<number, number>();
  /** Evidence held, by its bytes, with the pulse it is about (kept for the publicity period). */
  private readonly evidence = new Map<string, { bytes: Buffer; pulse: number }>();
  private stopped = false;
  private behindAt = 0;

  constructor(private readonly opts: FinalityOptions) {}

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
      if (!this.pool.has(key)) this.pool.set(key, tx);
    }
  }

  /** A pulse slot ended: start the next pulse's rounds if there is something to finalize. */
  tick(): void {
    if (this.stopped || this.current !== undefined || this.pool.size === 0) return;
    this.begin();
  }

  /** Bytes from a peer (or a loopback of our own): a proposal, vote, certificate or evidence. */
  receive(bytes: Uint8Array): void {
    if (this.stopped) return;
    try {
      this.route(Buffer.from(bytes));
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, "finality message dropped");
    }
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
      pool: () => [...this.pool.values()].slice(0, this.opts.maxBatch ?? 20_000),
      refuse: (txs, prepared) => {
        for (const tx of txs) this.pool.delete(PulseRound.txKey(tx));
        this.opts.onRefused?.(txs, prepared);
      },
      decided: (d, proposalBytes) => this.finish(d, proposalBytes),
      evidence: (ev) => this.keepEvidence(ev, true),
    });
    this.current = round;
    round.start();
    const waiting = this.future.get(pulse) ?? [];
    this.futureCount -= waiting.length;
    this.future.delete(pulse);
    for (const m of waiting) this.receive(m);
    return round;
  }

  private finish(d: Decided, proposalBytes: Buffer): void {
    for (const tx of d.proposal.txs) this.pool.delete(PulseRound.txKey(tx));
    this.recent.set(d.pulse, { proposal: proposalBytes, certificate: d.certificate });
    this.regossipEvidence(d.pulse);
    for (const k of this.recent.keys()) if (k <= d.pulse - RECENT_PULSES) this.recent.delete(k);
    const old = this.current;
    this.current = undefined;
    void old?.close();
    this.opts.onDecided(d);
    // A peer's messages for the next pulse may already be here.
    if (this.future.has(this.nextPulse)) this.begin();
  }

  private route(b: Buffer): void {
    const kind = b[1];
    if (kind === 0x47) {
      this.keepEvidence(b, false);
      return;
    }
    const pulse = kind === 0x49 ? decodeCertificate(b).pulse : readPulse(b);
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
      const list = this.future.get(pulse) ?? [];
      list.push(b);
      this.future.set(pulse, list);
      this.futureCount++;
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
    if (this.answered.size > RECENT_PULSES) this.answered.delete(this.answered.keys().next().value!);
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

/** The pulse of a vote or proposal (both start with a vote's fields: format, kind, org, pulse). */
function readPulse(b: Buffer): number {
  // Vote: u8 1 | u8 0x46 | org[20] | u64 pulse; proposal: u8 1 | u8 0x48 | vote...
  const at = b[1] === 0x48 ? 2 + 22 : 22;
  if (b.length < at + 8) throw new RangeError("message too short");
  const p = b.readBigUInt64BE(at);
  if (p > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("pulse out of range");
  return Number(p);
}

export type { FinalityValue };
