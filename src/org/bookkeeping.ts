/**
 * The network side of keeping an organization's books: each final pulse's certificate is announced
 * on the pulse topic, each heartbeat too; transactions gossiped on the tx topic by members go to the
 * bookkeeper; and the server answers peers from the books through `books()`.
 */

import { NodeMessageKind } from "../crypto/domain.js";
import type { Signer } from "../crypto/ed25519.js";
import { decodeTxBatch, MAX_BATCH_BYTES, MAX_BATCH_TXS, NetError, signTxBatch } from "../dht/wire.js";
import { schedule } from "../election/cycle.js";
import { Role } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { isActing, TxKind } from "../ledger/tx.js";
import { decodeTx } from "../ledger/tx-codec.js";
import type { Bookkeeper } from "../pulse/bookkeeper.js";
import type { PulseEvents } from "../pulse/events.js";
import { type CommitteeLink, genesisProof } from "./committee-chain.js";
import { consensusTopic, pulseTopic, txTopic } from "./discovery.js";
import type { PulseRecord } from "./protocol.js";
import { verifiedTx } from "./protocol.js";
import type { Books } from "./server.js";

/** What bookkeeping needs from the node. */
export interface BookkeepingDeps {
  readonly host: {
    publish(topic: string, data: Uint8Array): Promise<void>;
    subscribe(
      topic: string,
      check: (data: Uint8Array) => void,
      on: (topic: string, data: Uint8Array) => void,
    ): void;
  };
  readonly keys: { readonly node: Signer };
  readonly ledger: Pick<
    Ledger,
    "org" | "head" | "genesisBytes" | "account" | "prove" | "findTx" | "rootAt" | "batchAt" | "certificateAt"
  >;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "status">;
  /** The committee keeping the books at a pulse (bookkeepers may read final pulses to catch up). */
  readonly committee?: (pulse: number) => readonly Buffer[];
  /** The committee's finality of this node, whose messages travel on the consensus topic. */
  readonly consensus?: ConsensusPort;
  readonly bus: {
    on<K extends keyof PulseEvents>(event: K, fn: (payload: PulseEvents[K]) => void): () => void;
  };
  readonly log: { debug(o: object, m: string): void };
}

/** What bookkeeping connects to the consensus topic. */
export interface ConsensusPort {
  /** Throws unless the message is whole, signed and from the committee of its pulse (the topic's validator). */
  check(bytes: Uint8Array): void;
  /** A message from the topic. */
  receive(bytes: Uint8Array): void;
  /** Where this node's messages go from now on: `send` publishes on the topic; `relay` gossips a transaction. */
  connect(send: (bytes: Buffer) => void, relay: (tx: Buffer) => void): void;
}

/** Kinds carried on the consensus topic: vote, evidence, proposal, certificate. */
const CONSENSUS_KINDS = new Set([0x46, 0x47, 0x48, 0x49]);
/** How long a bookkeeper gathers transactions to relay into one batch (ms). */
const BATCH_MS = 50;
/** How far a relayed batch's time may be from the receiver's clock (ms). */
const BATCH_SKEW_MS = 5 * 60_000;
/** Transactions of non-members taken from gossip per second (each may write a leaf, as an application does). */
const OUTSIDER_TXS_PER_SECOND = 10;

/**
 * The books as the request server reads them: a ledger, where transactions go, and each pulse's
 * proof of finality; undefined while the ledger has no organization.
 */
export function booksOf(
  ledger: Pick<Ledger, "org" | "head" | "genesisBytes" | "account" | "prove" | "findTx">,
  queue: Pick<Bookkeeper, "submit" | "status">,
  proof: (pulse: number) => Buffer,
  more: Pick<Books, "pulses" | "keeper" | "committees"> = {},
): Books | undefined {
  const org = ledger.org;
  const head = ledger.head;
  if (org === undefined || head === undefined) return undefined;
  return {
    org,
    head,
    genesis: () => ledger.genesisBytes()!,
    account: (id, pulse) => ledger.account(id, pulse),
    prove: (id, pulse) => ledger.prove(id, pulse),
    findTx: (id) => ledger.findTx(id),
    submit: (bytes) => queue.submit(bytes),
    status: (txId) => queue.status(txId),
    final: (pulse = head) => proof(pulse),
    ...more,
  };
}

/** Most bytes of final pulses, or of committee links, in one answer (a response is at most 2 MiB). */
const ANSWER_BYTES = 1536 * 1024;

/** Final pulses from `from` on, with their certificates, as many as fit an answer (one at least). */
export function finalPulses(
  ledger: Pick<Ledger, "head" | "batchAt" | "certificateAt">,
  from: number,
  count: number,
): PulseRecord[] {
  const out: PulseRecord[] = [];
  let bytes = 0;
  const head = ledger.head ?? -1;
  for (let p = Math.max(from, 1); p <= head && out.length < count; p++) {
    const txs = ledger.batchAt(p);
    const certificate = ledger.certificateAt(p);
    // A pulse kept without them (made before certificates) ends what can be shown.
    if (txs === undefined || certificate === undefined) break;
    const size = certificate.length + txs.reduce((n, t) => n + t.length + 4, 16);
    if (out.length > 0 && bytes + size > ANSWER_BYTES) break;
    bytes += size;
    out.push({ pulse: p, certificate, txs });
  }
  return out;
}

/**
 * Committee links from cycle `from` on (at most `count`): each cycle's committee, by `committee` of
 * its first pulse, with the certificate of the previous cycle's last pulse, which binds it. Stops at
 * the first cycle whose previous last pulse is not final here (or kept without its certificate).
 */
export function committeeLinks(
  ledger: Pick<Ledger, "org" | "head" | "certificateAt">,
  committee: (pulse: number) => readonly Buffer[],
  from: number,
  count: number,
): CommitteeLink[] {
  const length = ledger.org?.params.electionCycle;
  const out: CommitteeLink[] = [];
  if (length === undefined || ledger.head === undefined) return out;
  let bytes = 0;
  for (let c = Math.max(from, 1); c < from + count; c++) {
    const last = schedule(c - 1, length).last;
    const certificate = last <= ledger.head ? ledger.certificateAt(last) : undefined;
    if (certificate === undefined) break;
    let members: readonly Buffer[];
    try {
      members = committee(schedule(c, length).first);
    } catch {
      break; // a committee this node cannot tell (its draw no longer readable): the chain stops here
    }
    // As an answer of final pulses: one link at least, then no further than fits.
    bytes += certificate.length + 24 * members.length + 16;
    if (out.length > 0 && bytes > ANSWER_BYTES) break;
    out.push({ cycle: c, members, certificate });
  }
  return out;
}

/** The bookkeeper's announcements and the books as peers read them. */
export class Bookkeeping {
  private budget = { second: 0, used: 0 };

  constructor(private readonly d: BookkeepingDeps) {}

  /** Transactions waiting to be relayed in the next batch, and their bytes. */
  private relaying: { txs: Buffer[]; bytes: number; timer: NodeJS.Timeout | undefined } = {
    txs: [],
    bytes: 0,
    timer: undefined,
  };

  /** Whether `id` is in the committee of the next pulse. */
  private isKeeper(id: Buffer): boolean {
    const { committee, ledger } = this.d;
    if (committee === undefined || ledger.head === undefined) return false;
    try {
      return committee(ledger.head + 1).some((k) => k.equals(id));
    } catch {
      return false;
    }
  }

  /**
   * Relays a transaction queued here to the other bookkeepers: a committee member gathers them for
   * BATCH_MS into one batch it signs (one gossip message, one gossip signature, instead of one per
   * transaction); any other node publishes it alone. Only transactions whose signatures hold go.
   */
  private relay(tx: Buffer): void {
    const org = this.d.ledger.org!.id;
    const publish = (data: Uint8Array) =>
      void this.d.host
        .publish(txTopic(org), data)
        .catch((err) => this.d.log.debug({ err }, "publish failed"));
    try {
      verifiedTx(tx);
    } catch {
      return;
    }
    if (!this.isKeeper(this.d.keys.node.id)) {
      publish(tx);
      return;
    }
    const r = this.relaying;
    if (r.txs.length >= MAX_BATCH_TXS || r.bytes + tx.length > MAX_BATCH_BYTES) this.flush();
    this.relaying.txs.push(tx);
    this.relaying.bytes += tx.length;
    if (this.relaying.timer === undefined) {
      this.relaying.timer = setTimeout(() => this.flush(), BATCH_MS);
      this.relaying.timer.unref();
    }
  }

  private flush(): void {
    const r = this.relaying;
    clearTimeout(r.timer);
    this.relaying = { txs: [], bytes: 0, timer: undefined };
    if (r.txs.length === 0) return;
    const org = this.d.ledger.org!.id;
    const batch = signTxBatch({ org, txs: r.txs }, this.d.keys.node);
    void this.d.host.publish(txTopic(org), batch).catch((err) => this.d.log.debug({ err }, "publish failed"));
  }

  private outsiderBudget(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.budget.second) this.budget = { second, used: 0 };
    return this.budget.used++ < OUTSIDER_TXS_PER_SECOND;
  }

  /** Starts announcing and taking gossiped transactions; returns what unsubscribes from the bus. */
  start(): (() => void)[] {
    const { ledger, host, bookkeeper } = this.d;
    const org = ledger.org!.id;
    const publish = (data: Uint8Array) =>
      host.publish(pulseTopic(org), data).catch((err) => this.d.log.debug({ err }, "publish failed"));
    /**
     * A gossiped transaction's checks. `vouched`: relayed by a committee member, which checked its
     * signatures before it signed the batch: no role needed, and the signatures are left to the
     * ledger's re-application (on the verification threads) instead of this thread, once per node.
     */
    const checkTx = (data: Uint8Array, vouched: boolean) => {
      // Signatures too, unless vouched for: a forged transaction must not be forwarded, nor fill the queue.
      const tx = vouched ? decodeTx(data) : verifiedTx(data);
      if (tx.body.kind === TxKind.Genesis || !tx.body.org.equals(org))
        throw new Error("not for this organization");
      // A reward or forfeit is put in a batch by the pulse's proposer, never relayed.
      if (!isActing(tx.body)) throw new Error("a reward or forfeit transaction is not gossiped");
      // Members' transactions, and a few of others' (applications) unless a bookkeeper vouches for them.
      if (
        !vouched &&
        (ledger.account(tx.body.actor)?.role ?? Role.None) < Role.Member &&
        !this.outsiderBudget()
      )
        throw new Error("only members' transactions are taken from gossip beyond a small budget");
    };
    const submit = (data: Uint8Array) => {
      try {
        bookkeeper.submit(data, "gossip");
      } catch (err) {
        this.d.log.debug({ err }, "a gossiped transaction was refused");
      }
    };
    host.subscribe(
      txTopic(org),
      (data) => {
        if (data[1] !== NodeMessageKind.TxBatch) return checkTx(data, false);
        // A batch relayed by a member of the committee: signed by it, recent, every transaction valid.
        const b = decodeTxBatch(data);
        if (!b.org.equals(org)) throw new Error("a batch for another organization");
        if (Math.abs(Date.now() - b.timeMs) > BATCH_SKEW_MS) throw new Error("a stale transaction batch");
        if (!this.isKeeper(b.signer)) throw new Error("a batch not relayed by a bookkeeper of the committee");
        for (const tx of b.txs) checkTx(tx, true);
      },
      (_t, data) => {
        if (data[1] !== NodeMessageKind.TxBatch) return submit(data);
        for (const tx of decodeTxBatch(data).txs) submit(tx);
      },
    );
    const consensus = this.d.consensus;
    if (consensus !== undefined) {
      host.subscribe(
        consensusTopic(org),
        (data) => {
          // Checked whole before it is delivered or forwarded: signatures, organization, committee.
          if (data.length < 2 || data[0] !== 1 || !CONSENSUS_KINDS.has(data[1]!))
            throw new Error("not a consensus message");
          consensus.check(data);
        },
        (_t, data) => consensus.receive(data),
      );
      consensus.connect(
        (b) =>
          void host
            .publish(consensusTopic(org), b)
            .catch((err) => this.d.log.debug({ err }, "publish failed")),
        (tx) => this.relay(tx),
      );
    }
    return [
      this.d.bus.on("pulse.final", (p) => {
        // Every bookkeeper announces: one that is down must not leave members without the pulse.
        const certificate = ledger.certificateAt(p.pulse);
        if (certificate !== undefined) void publish(certificate);
      }),
      this.d.bus.on("pulse.heartbeat", (h) => void publish(Buffer.from(h.heartbeat, "hex"))),
    ];
  }

  /** The books as the request server reads them, or undefined while this node keeps none. */
  books(): Books | undefined {
    const { ledger, committee } = this.d;
    return booksOf(ledger, this.d.bookkeeper, (pulse) => this.proof(pulse), {
      pulses: (from, count) => finalPulses(ledger, from, count),
      committees:
        committee === undefined ? undefined : (from, count) => committeeLinks(ledger, committee, from, count),
      keeper: (id) =>
        committee !== undefined &&
        ledger.head !== undefined &&
        committee(ledger.head + 1).some((k) => k.equals(id)),
    });
  }

  /** A final pulse's proof: its certificate, or for pulse 0, the genesis pulse, its number (NOT_FOUND for neither). */
  private proof(pulse: number): Buffer {
    const certificate = this.d.ledger.certificateAt(pulse);
    if (certificate !== undefined) return certificate;
    if (pulse === 0) return genesisProof(0);
    throw new NetError("NOT_FOUND", `pulse ${pulse} has no certificate here`);
  }
}
