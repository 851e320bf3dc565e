/**
 * The pulse service. Transactions received during a pulse slot are decoded at once (a bad one is
 * refused to its sender) and made final at the slot's end in one of two ways:
 *  - alone (no organization yet, or no committee finality given): their signatures are verified in
 *    small batches as they arrive, so the work spreads over the slot, and the slot is applied;
 *  - with the committee (`finality`, finality.ts): the slot's transactions join the pool of the
 *    next proposal, and verdicts come when a pulse is final (`decided`), whoever proposed it.
 * The pulse number grows only when the state changed; a slot that changed nothing gets a signed
 * heartbeat instead (heartbeat.ts).
 */
import { hash } from "node:crypto";
import { type CheckedBatch, Ledger } from "../ledger/ledger.js";
import type { TxResult } from "../ledger/state-machine.js";
import { type Tx, TxKind } from "../ledger/tx.js";
import { decodeTx } from "../ledger/tx-codec.js";
import { summaryJson } from "../smt/proof.js";
import { DecodeError } from "../util/bytes.js";
import { type BookkeeperOptions, type FinalPulse, SubmitError } from "./bookkeeper-types.js";
import { PulseClock, systemTime, type Tick } from "./clock.js";
import { signHeartbeat } from "./heartbeat.js";
import { SlotSet } from "./slot-set.js";
import { type TxStatus, Verdicts, verdictsOf } from "./verdicts.js";

export {
  type BookkeeperOptions,
  type FinalityPort,
  type FinalPulse,
  type PulseEmitter,
  SubmitError,
} from "./bookkeeper-types.js";
export type { TxStatus };

/** The pulse service. */
export class Bookkeeper {
  readonly name = "pulse";
  private readonly clock: PulseClock;
  /** Received, not yet handed to the verifier. */
  private unchecked: Tx[] = [];
  /** Handed to the verifier; applied at the end of the slot. */
  private checks: Promise<CheckedBatch>[] = [];
  /** The slot's transactions (unchecked or checking): copies by their whole bytes, and ids. */
  private slot = new SlotSet();
  /** The batch being applied (its copies and ids). */
  private inFlight = new SlotSet();
  /** With a committee: the slot's transactions as received, and those handed to finality awaiting a final pulse. */
  private raw: Buffer[] = [];
  private readonly proposed = new SlotSet();
  /** The last slot closed (closeNow closes one early: its end then needs no heartbeat). */
  private lastClosed = -1;
  private readonly verdicts: Verdicts;
  private flushTimer: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  private stopped = true;
  private lastFinal: { pulse: number; at: number } | undefined;

  constructor(private readonly opts: BookkeeperOptions) {
    this.verdicts = new Verdicts(opts.verdictMemory ?? 100_000);
    this.clock = new PulseClock(
      opts.periodMs,
      (t) => this.onTick(t),
      (err) => opts.log.error({ err }, "pulse tick failed"),
      opts.time ?? systemTime,
    );
  }

  start(): void {
    this.stopped = false;
    this.clock.start();
  }

  /** Stops the clock and waits for the pulse being written; transactions not yet applied are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.stop();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.settled();
    const dropped = this.slot.copies;
    if (dropped > 0) this.opts.log.info({ dropped }, "stopped with transactions not yet applied");
    // Let outstanding checks settle so no verifier call outlives the service.
    await Promise.allSettled(this.checks);
    this.unchecked = [];
    this.checks = [];
    this.raw = [];
    this.verdicts.wake([...this.slot.ids.keys(), ...this.proposed.ids.keys()]);
    this.slot = new SlotSet();
  }

  /**
   * Closes the current slot now instead of at its end (a founder's genesis need not wait for the
   * boundary). Does nothing while a pulse is being applied: the next tick takes the transactions.
   */
  async closeNow(): Promise<void> {
    if (this.stopped || this.applying !== undefined) return this.settled();
    this.close(this.clock.current());
    return this.settled();
  }

  /** Resolves when no pulse is being applied (tests and shutdown wait on it). */
  async settled(): Promise<void> {
    while (this.applying !== undefined) await this.applying;
  }

  /** Transactions waiting for a pulse (this slot's and the one being applied). */
  get pending(): number {
    return this.slot.copies + this.inFlight.copies + this.proposed.copies;
  }

  /** The clock's current slot. */
  get currentSlot(): number {
    return this.clock.current();
  }

  /** The last pulse this service made final, and when (ms since the epoch). */
  get last(): { pulse: number; at: number } | undefined {
    return this.lastFinal;
  }

  /**
   * Queues an encoded transaction for the end of this slot. Refuses at once (SubmitError) what can
   * never apply here: bytes that do not decode, another organization's transaction, a full queue.
   */
  submit(bytes: Uint8Array, from: "local" | "gossip" = "local"): TxStatus {
    if (this.stopped) throw new SubmitError("STOPPED", "the node is stopping");
    let tx: Tx;
    try {
      tx = decodeTx(bytes);
    } catch (err) {
      if (err instanceof DecodeError)
        throw new SubmitError("DECODE", `the transaction does not decode: ${err.message}`);
      throw err;
    }
    const txId = tx.id.toString("hex");
    // A copy is the same only if its signatures are too: a broken copy must not shadow a good one.
    const copy = hash("sha256", bytes, "base64");
    if (this.slot.has(copy) || this.inFlight.has(copy) || this.proposed.has(copy))
      return { txId, state: "pending" };
    const org = this.opts.ledger.org;
    // The pulse's proposer makes the reward and the forfeit (finality-round.ts); one submitted would only wait forever.
    if (tx.body.kind === TxKind.Reward || tx.body.kind === TxKind.Forfeit)
      throw new SubmitError(
        "DECODE",
        "a reward or forfeit transaction is made by the committee's proposer, not submitted",
      );
    if (tx.body.kind === TxKind.Genesis) {
      if (org !== undefined)
        throw new SubmitError("ORG_EXISTS", `this node already keeps organization ${org.id.toString("hex")}`);
    } else if (org === undefined) throw new SubmitError("NO_ORG", "this node has no organization yet");
    else if (!tx.body.org.equals(org.id))
      throw new SubmitError(
        "WRONG_ORG",
        `the transaction is for organization ${tx.body.org.toString("hex")}`,
      );
    const found = this.opts.ledger.findTx(tx.id);
    if (found !== undefined) return { txId, state: "accepted", pulse: found.pulse };
    if (this.pending >= (this.opts.maxPending ?? 100_000))
      throw new SubmitError("BUSY", "too many transactions are waiting for a pulse; try again shortly");
    this.slot.add(copy, txId);
    this.verdicts.forget(txId);
    if (this.committee) {
      // The committee re-applies every proposal (signatures included): no early check here.
      const own = Buffer.from(bytes);
      this.raw.push(own);
      if (from === "local") this.opts.relay?.(own);
      return { txId, state: "pending" };
    }
    this.unchecked.push(tx);
    if (this.unchecked.length >= (this.opts.chunk ?? 256)) this.flushChecks();
    else this.flushTimer ??= setTimeout(() => this.flushChecks(), 20);
    return { txId, state: "pending" };
  }

  /** A transaction's status by id (64 hex digits). */
  status(txId: string): TxStatus {
    if (this.slot.ids.has(txId) || this.inFlight.ids.has(txId) || this.proposed.ids.has(txId))
      return { txId, state: "pending" };
    const v = this.verdicts.get(txId);
    if (v?.state === "accepted") return v;
    // The ledger's index first: a rejected later copy never hides an accepted transaction.
    const found = this.opts.ledger.findTx(Buffer.from(txId, "hex"));
    if (found !== undefined) return { txId, state: "accepted", pulse: found.pulse };
    return v ?? { txId, state: "unknown" };
  }

  /**
   * The verdict on a pending transaction, when it comes (`unknown` if its pulse failed or the
   * service stopped first); rejects if `signal` aborts first.
   */
  verdict(txId: string, signal: AbortSignal): Promise<TxStatus> {
    const now = this.status(txId);
    if (now.state !== "pending") return Promise.resolve(now);
    return this.verdicts.wait(txId, signal);
  }

  /** With a committee: whether this slot goes to it (an organization exists to finalize for). */
  private get committee(): boolean {
    return this.opts.finality !== undefined && this.opts.ledger.org !== undefined;
  }

  /**
   * A pulse the committee made final (proposed by any of its members): its verdicts, for the
   * transactions submitted here and on the bus, and the pulse on the bus.
   */
  decided(d: FinalPulse): void {
    for (const tx of d.txs) this.proposed.remove(hash("sha256", tx, "base64"));
    const slot = this.clock.current();
    const { verdicts, rejected } = verdictsOf(
      d.outcome.results,
      d.pulse,
      slot,
      (id) => this.opts.ledger.findTx(id)?.pulse,
    );
    for (const v of verdicts.values()) {
      this.verdicts.settle(v);
      // An earlier pulse's acceptance was announced then: not again (nor counted twice).
      if (v.state === "rejected" || v.pulse === d.pulse) this.opts.bus.emit("tx.verdict", v);
    }
    this.lastFinal = { pulse: d.pulse, at: Date.now() };
    this.opts.bus.emit("pulse.final", {
      pulse: d.pulse,
      root: summaryJson(d.outcome.root),
      slot,
      accepted: d.outcome.receipts.length,
      rejected,
      applyMs: 0,
    });
    // As after a pulse made alone: retention drops old versions, in small steps, off this call.
    this.opts.ledger
      .pruneAll()
      .catch((err) => this.opts.log.error({ err, pulse: d.pulse }, "pruning after the pulse failed"));
  }

  /** Transactions this node would have proposed that change nothing now: refused, with their results. */
  refused(txs: readonly Buffer[], results: readonly TxResult[]): void {
    for (const tx of txs) this.proposed.remove(hash("sha256", tx, "base64"));
    const head = this.opts.ledger.head ?? 0;
    const { verdicts } = verdictsOf(
      results,
      head,
      this.clock.current(),
      (id) => this.opts.ledger.findTx(id)?.pulse,
    );
    for (const v of verdicts.values()) {
      this.verdicts.settle(v);
      if (v.state === "rejected") this.opts.bus.emit("tx.verdict", v);
    }
  }

  private flushChecks(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.unchecked.length === 0) return;
    const batch = this.unchecked;
    this.unchecked = [];
    const check = this.opts.ledger.checkDecoded(batch);
    // Awaited at the end of the slot; until then a failure must not count as unhandled.
    check.catch(() => undefined);
    this.checks.push(check);
  }

  private onTick(t: Tick): void {
    if (t.missed > 0)
      this.opts.log.warn({ missed: t.missed }, "pulse slots missed (the event loop was late)");
    // The tick starts slot `index`: the one that ended is index - 1.
    const ended = t.index - 1;
    // Closed early by closeNow, and nothing came since: nothing to apply and no heartbeat owed.
    if (ended <= this.lastClosed && this.slot.copies === 0) return;
    this.close(ended);
  }

  private close(slot: number): void {
    // A pulse still being written takes the next slot's transactions along with it at the next tick.
    if (this.applying !== undefined) return;
    this.lastClosed = Math.max(this.lastClosed, slot);
    this.applying = this.closeSlot(slot)
      .catch((err) => {
        this.opts.log.error({ err }, "the pulse could not be applied; its transactions are dropped");
        this.verdicts.wake([...this.inFlight.ids.keys()].filter((id) => !this.slot.ids.has(id)));
      })
      .finally(() => {
        this.inFlight = new SlotSet();
        this.applying = undefined;
      });
  }

  private async closeSlot(slot: number): Promise<void> {
    if (this.committee) return this.offerSlot(slot);
    const t0 = performance.now();
    this.flushChecks();
    const checks = this.checks;
    this.checks = [];
    this.inFlight = this.slot;
    this.slot = new SlotSet();
    const { ledger, bus } = this.opts;
    if (checks.length === 0) {
      this.heartbeat(slot, 0);
      return;
    }
    const batch = Ledger.mergeChecked(await Promise.all(checks));
    const pulse = ledger.head === undefined ? 0 : ledger.head + 1;
    const out = await ledger.applyPulse(pulse, batch, { proofs: false, skipUnchanged: true });
    // From here every verdict is known: nobody should see these as pending any more.
    this.inFlight = new SlotSet();
    const { verdicts, rejected } = verdictsOf(out.results, pulse, slot, (id) => ledger.findTx(id)?.pulse);
    for (const v of verdicts.values()) {
      this.verdicts.settle(v);
      // An earlier pulse's acceptance was announced then: not again (nor counted twice).
      if (v.state === "rejected" || v.pulse === pulse) bus.emit("tx.verdict", v);
    }
    if (!out.committed) {
      this.heartbeat(slot, rejected);
      return;
    }
    this.lastFinal = { pulse, at: Date.now() };
    bus.emit("pulse.final", {
      pulse,
      root: summaryJson(out.root),
      slot,
      accepted: out.receipts.length,
      rejected,
      applyMs: performance.now() - t0,
    });
    try {
      await ledger.pruneAll();
    } catch (err) {
      this.opts.log.error({ err, pulse }, "pruning after the pulse failed (the pulse itself is final)");
    }
  }

  /** With a committee: the slot's transactions go to the next proposal; a quiet slot gets its heartbeat. */
  private async offerSlot(slot: number): Promise<void> {
    const batch = this.raw;
    this.raw = [];
    this.proposed.merge(this.slot);
    this.slot = new SlotSet();
    this.opts.finality!.offer(batch);
    this.opts.finality!.tick();
    if (this.proposed.copies === 0) this.heartbeat(slot, 0);
  }

  private heartbeat(slot: number, rejected: number): void {
    const { ledger, signer, bus } = this.opts;
    const org = ledger.org;
    const head = ledger.head;
    if (org === undefined || head === undefined) return;
    const rootHash = Buffer.from(ledger.rootAt().hash);
    const hb = signHeartbeat({ org: org.id, slot, pulse: head, rootHash }, signer);
    bus.emit("pulse.heartbeat", {
      pulse: head,
      slot,
      rootHash: rootHash.toString("hex"),
      rejected,
      heartbeat: hb.toString("hex"),
    });
  }
}
