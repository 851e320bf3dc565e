/**
 * The transactions a member node follows until their verdicts, and the receipts of those a local
 * account is party to: its own submissions, and transfers to it that it countersigned. After each
 * pulse a bounded batch is asked about (own first, round-robin), so a peer that has this node
 * countersign many transfers cannot crowd out its own.
 */
import type { Signer } from "../crypto/ed25519.js";
import { NetError, Op } from "../dht/wire.js";
import type { Tx } from "../ledger/tx.js";
import { isActing, TxKind } from "../ledger/tx.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import type { CertifiedPulse } from "./committee-chain.js";
import { type CheckedReceipt, checkReceipt, decodeStatus } from "./protocol.js";

/** What following needs: asking the bookkeeper, the local keys, the organization. */
export interface FollowedDeps {
  ask(op: Op, body: Uint8Array, signal: AbortSignal, signer: Signer): Promise<Buffer>;
  key(id: string): Signer | undefined;
  readonly node: Signer;
  /** Checks a proof of finality (a certificate of the pulse's committee). */
  certified(bytes: Uint8Array): Promise<CertifiedPulse>;
  latestPulse(): number;
  onVerdict?(s: TxStatus): void;
  /** Aborted when the node stops. */
  readonly stopping: AbortSignal;
}

interface Entry {
  /** The local party whose key asks for the receipt; undefined: the verdict only. */
  readonly party: Buffer | undefined;
  readonly expiry: number;
}

const MAX_OWN = 10_000;
const MAX_INCOMING = 1_000;
const MAX_KEPT = 10_000;
/** Followed transactions asked about per pass (peers' countersigned ones get a small share), and at once. */
const PER_PULSE = 512;
const INCOMING_PER_PULSE = 32;
const AT_ONCE = 16;
/** Pulses past a transaction's expiry after which it is given up (its pulse may be pruned). */
const GIVE_UP_PULSES = 100;
/** The furthest expiry followed: tx_transfer's own limit; for a peer's transfer, much less. */
const MAX_EXPIRY_AHEAD = 100_000;
const MAX_INCOMING_EXPIRY_AHEAD = 1_000;

/** Followed transactions, their verdicts and receipts. */
export class Followed {
  private readonly own = new Map<string, Entry>();
  private readonly incoming = new Map<string, Entry>();
  private readonly receipts = new Map<string, CheckedReceipt>();
  private readonly verdicts = new Map<string, TxStatus>();
  private readonly waiters = new Map<string, Set<(s: TxStatus) => void>>();
  private running: Promise<void> = Promise.resolve();
  private again = false;

  constructor(private readonly d: FollowedDeps) {}

  /** Follows a transaction this node submitted (or one a caller waits for). */
  track(tx: Tx): void {
    this.add(this.own, MAX_OWN, tx);
  }

  /** Follows a transfer to a local account that this node countersigned for a peer. */
  trackIncoming(tx: Tx): void {
    this.add(this.incoming, MAX_INCOMING, tx);
  }

  private add(map: Map<string, Entry>, max: number, tx: Tx): void {
    if (!isActing(tx.body)) return;
    const k = tx.id.toString("hex");
    if (this.verdicts.has(k) || this.own.has(k) || this.incoming.has(k)) return;
    const ahead = map === this.own ? MAX_EXPIRY_AHEAD : MAX_INCOMING_EXPIRY_AHEAD;
    if (tx.body.expiry > this.d.latestPulse() + ahead) return;
    const parties = [tx.body.actor, ...(tx.body.kind === TxKind.Transfer ? [tx.body.to] : [])];
    const party = parties.find((p) => this.d.key(p.toString("hex")) !== undefined);
    // The oldest incoming one makes room; one's own are never pushed out.
    if (map.size >= max) {
      if (map === this.own) return;
      map.delete(map.keys().next().value!);
    }
    map.set(k, { party, expiry: tx.body.expiry });
  }

  /** True while a followed transaction waits for its verdict. */
  pending(txId: string): boolean {
    return (this.own.has(txId) || this.incoming.has(txId)) && !this.verdicts.has(txId);
  }

  /** After a pulse: ask about a batch of followed transactions (one pass at a time; pulses that
   * come during a pass make one more pass, not one each). */
  afterPulse(): void {
    if (this.again) return;
    this.again = true;
    this.running = this.running.then(() => {
      this.again = false;
      return this.askBatch();
    });
  }

  private async askBatch(): Promise<void> {
    const pulse = this.d.latestPulse();
    const batch: [string, Entry, Map<string, Entry>][] = [];
    for (const [map, share] of [
      [this.own, PER_PULSE - INCOMING_PER_PULSE],
      [this.incoming, INCOMING_PER_PULSE],
    ] as const) {
      let n = 0;
      for (const [k, e] of map) {
        if (n++ >= share) break;
        batch.push([k, e, map]);
      }
    }
    for (const [k, e, map] of batch) {
      // To the back of its queue; given up long after its expiry.
      map.delete(k);
      if (pulse <= e.expiry + GIVE_UP_PULSES) map.set(k, e);
      else this.settle({ txId: k, state: "unknown" });
    }
    let next = 0;
    const worker = async () => {
      while (next < batch.length && !this.d.stopping.aborted) {
        const [k, e, map] = batch[next++]!;
        if (!map.has(k)) continue;
        const signal = AbortSignal.any([this.d.stopping, AbortSignal.timeout(10_000)]);
        try {
          // One request when it was applied: its receipt, which is its verdict too. A peer's transfer
          // asks its status first, so one that never comes costs the bookkeeper one request a pass.
          if (e.party !== undefined && (map === this.own || this.verdicts.get(k)?.state === "accepted")) {
            try {
              await this.receipt(k, signal);
              continue;
            } catch (err) {
              if (!(err instanceof NetError && err.code === "NOT_FOUND")) throw err;
            }
          }
          const s = await this.status(k, signal);
          if (s.state === "accepted") {
            if (e.party === undefined) map.delete(k);
            else await this.receipt(k, signal);
            continue;
          }
          if (s.state === "rejected" || (s.state === "unknown" && pulse > e.expiry)) {
            map.delete(k);
            this.settle(s);
          }
        } catch {
          // The next pulse asks again.
        }
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
  }

  /** A transaction's status as the bookkeeper sees it (a verdict known here is answered here). */
  async status(txId: string, signal: AbortSignal): Promise<TxStatus> {
    const local = this.verdicts.get(txId);
    if (local !== undefined) return local;
    const s = decodeStatus(await this.d.ask(Op.Status, Buffer.from(txId, "hex"), signal, this.d.node));
    // "unknown" here may only mean "not arrived yet": waiters keep waiting for a verdict.
    if (s.state === "accepted" || s.state === "rejected") this.settle(s);
    return s;
  }

  /** The checked receipt of a transaction a local account is party to (fetched once, then kept). */
  async receipt(txId: string, signal: AbortSignal): Promise<CheckedReceipt> {
    const hit = this.receipts.get(txId);
    if (hit !== undefined) return hit;
    const party = this.own.get(txId)?.party ?? this.incoming.get(txId)?.party ?? this.d.node.id;
    const signer = this.d.key(party.toString("hex")) ?? this.d.node;
    const body = await this.d.ask(Op.Receipt, Buffer.from(txId, "hex"), signal, signer);
    const r = await checkReceipt(body, Buffer.from(txId, "hex"), this.d.certified, [signer.id]);
    if (this.receipts.size >= MAX_KEPT) this.receipts.delete(this.receipts.keys().next().value!);
    this.receipts.set(txId, r);
    this.own.delete(txId);
    this.incoming.delete(txId);
    this.settle({ txId, state: "accepted", pulse: r.final.pulse });
    return r;
  }

  /** Records a verdict and wakes its waiters; `unknown` only wakes them. */
  settle(s: TxStatus): void {
    if (s.state === "pending") return;
    if (s.state !== "unknown" && !this.verdicts.has(s.txId)) {
      if (this.verdicts.size >= MAX_KEPT) this.verdicts.delete(this.verdicts.keys().next().value!);
      this.verdicts.set(s.txId, s);
      this.d.onVerdict?.(s);
    }
    for (const w of this.waiters.get(s.txId) ?? []) w(s);
    this.waiters.delete(s.txId);
  }

  /** Resolves with the transaction's verdict (or `unknown` if `signal` aborts first). */
  verdict(txId: string, signal: AbortSignal): Promise<TxStatus> {
    const done = this.verdicts.get(txId);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => {
      let set = this.waiters.get(txId);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(txId, set);
      }
      const waiting = set;
      const w = (s: TxStatus) => {
        signal.removeEventListener("abort", abort);
        resolve(s);
      };
      const abort = () => {
        waiting.delete(w);
        if (waiting.size === 0) this.waiters.delete(txId);
        resolve({ txId, state: "unknown" });
      };
      waiting.add(w);
      if (signal.aborted) abort();
      else signal.addEventListener("abort", abort, { once: true });
    });
  }

  /** Stops waiting: every waiter hears `unknown`. */
  close(): void {
    for (const [txId, set] of this.waiters) for (const w of set) w({ txId, state: "unknown" });
    this.waiters.clear();
  }
}
