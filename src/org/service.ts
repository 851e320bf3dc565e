/**
 * The organization's life on the network, for this node: it answers peers' requests (server.ts), and
 * either keeps the books of its own organization (publishes its records, announces each final pulse
 * on the pulse topic, takes transactions from the tx topic, handles join applications) or follows an
 * organization it joined (membership.ts). It sees the network through `OrgHost`, the ledger and the
 * bookkeeper through narrow slices, and speaks to the rest of the node on the bus.
 */

import { hash } from "node:crypto";
import { NodeMessageKind } from "../crypto/domain.js";
import type { Signer } from "../crypto/ed25519.js";
import {
  type DhtRecord,
  memberRecordKey,
  orgRecordKey,
  signMemberRecord,
  signOrgRecord,
} from "../dht/records.js";
import {
  decodeGroupMessage,
  decodeResponse,
  encodeList,
  NetError,
  Op,
  type PulseFinal,
  REQUEST_SKEW_MS,
  signGroupMessage,
  signRequest,
} from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { type Tx, TxKind } from "../ledger/tx.js";
import { signTx } from "../ledger/tx-codec.js";
import type { Bookkeeper, TxStatus } from "../pulse/bookkeeper.js";
import type { PulseEvents } from "../pulse/events.js";
import { decodeHeartbeat, verifyHeartbeat } from "../pulse/heartbeat.js";
import type { NonceBook } from "../pulse/nonces.js";
import { ClockCache } from "../util/clock-cache.js";
import { Approvals } from "./approvals.js";
import { Bookkeeping } from "./bookkeeping.js";
import {
  askPayee,
  checkInfo,
  findBookkeeper,
  groupTopic,
  type NetPort,
  type OrgView,
  pulseTopic,
  sendDirect,
} from "./discovery.js";
import type { OrgEvents } from "./events.js";
import { Membership } from "./membership.js";
import { decodeStatus } from "./protocol.js";
import { orgServer, type Received } from "./server.js";

/** What the service needs of the libp2p host. */
export interface OrgHost extends NetPort {
  putRecord(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void>;
  handleRequests(
    handler: (bytes: Uint8Array, peer: string, signal: AbortSignal) => Promise<Uint8Array>,
  ): Promise<void>;
  subscribe(
    topic: string,
    check: (data: Uint8Array) => unknown,
    on: (topic: string, data: Uint8Array) => void,
  ): void;
  recordParts(): { peerId: Uint8Array; addrs: Uint8Array[] };
  readonly peerCount: number;
}

/** A bus the service emits on. */
export interface OrgBus {
  emit<K extends keyof (OrgEvents & PulseEvents)>(event: K, payload: (OrgEvents & PulseEvents)[K]): void;
  on<K extends keyof PulseEvents>(event: K, fn: (payload: PulseEvents[K]) => void): () => void;
}

/** What the service needs from the node. */
export interface OrgServiceDeps {
  readonly host: OrgHost;
  readonly keys: { readonly node: Signer; get(id: string): Signer | undefined };
  /** The key of an organization this node founded (it signs the organization's DHT record). */
  orgKey(org: Buffer): Promise<Signer | undefined>;
  readonly ledger: Pick<Ledger, "org" | "head" | "genesisBytes" | "account" | "prove" | "findTx" | "rootAt">;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "status" | "verdict" | "currentSlot">;
  readonly bus: OrgBus;
  readonly nonces: NonceBook;
  /** Where a joined organization is remembered. */
  readonly membershipFile: string;
  readonly autoApprove: "off" | "guest" | "member";
  readonly autoCountersign: boolean;
  readonly log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    debug(o: object, m: string): void;
  };
}

const INBOX = 1000;
const REPUBLISH_MS = 30 * 60_000;
const RETRY_MS = 5000;

/** The node's organization on the network. */
export class OrgService {
  readonly name = "org-net";
  private member: Membership | undefined;
  /** Applications and approvals (this node as the organization's supervisor). */
  readonly approvals: Approvals;
  private readonly inbox: (Received & { group: boolean })[] = [];
  private readonly stop$ = new AbortController();
  private readonly bookkeeping: Bookkeeping;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Group messages seen (by hash), so that a replay is not delivered twice. */
  private readonly groupSeen = new ClockCache<true>(1024 * 1024);
  private offBus: (() => void)[] = [];
  private keeping = false;

  constructor(private readonly d: OrgServiceDeps) {
    this.bookkeeping = new Bookkeeping(d);
    this.approvals = new Approvals({
      ledger: d.ledger,
      bookkeeper: d.bookkeeper,
      nonces: d.nonces,
      key: (id) => d.keys.get(id),
      put: (key, rec, signal) => this.put(key, rec, signal),
      autoApprove: d.autoApprove,
      log: d.log,
      stopping: this.stop$.signal,
    });
  }

  async start(): Promise<void> {
    const server = orgServer({
      books: () => this.bookkeeping.books(),
      joined: () => this.member,
      key: (id) => this.d.keys.get(id),
      autoCountersign: this.d.autoCountersign,
      applied: (a) => {
        this.approvals.applied(a);
        this.d.bus.emit("org.application", { account: a.account.toString("hex"), txId: a.txId });
      },
      received: (m) => this.deliver({ ...m, group: false }),
    });
    await this.d.host.handleRequests((bytes, _peer, signal) => server(bytes, signal));
    if (this.d.ledger.org !== undefined) this.keepBooks();
    else {
      // An organization founded later (at start, or by org_create) is kept from its first pulse on.
      const off = this.d.bus.on("pulse.final", () => {
        if (this.keeping || this.d.ledger.org === undefined) return;
        off();
        this.keepBooks();
      });
      this.offBus.push(off);
      this.restoreMembership();
    }
  }

  async stop(): Promise<void> {
    this.stop$.abort();
    for (const t of this.timers) clearTimeout(t);
    for (const off of this.offBus) off();
    this.member?.close();
  }

  /** Peers with an open connection. */
  peers(): number {
    return this.d.host.peerCount;
  }

  /** The organization this node joined (not the one it keeps), if any. */
  joined(): Membership | undefined {
    return this.member;
  }

  /** This node keeps its organization's books: announce its pulses, take gossiped transactions, publish its records. */
  private keepBooks(): void {
    this.keeping = true;
    const org = this.d.ledger.org!.id;
    this.offBus.push(...this.bookkeeping.start());
    this.followGroup(org);
    const publish = async () => {
      const o = this.d.ledger.org!;
      const orgKey = await this.d.orgKey(o.id).catch(() => undefined);
      const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
      let ok = true;
      if (orgKey !== undefined) {
        const rec = signOrgRecord(
          {
            org: o.id,
            seq: BigInt(Date.now()),
            name: o.params.name,
            pulsePeriodMs: o.params.pulsePeriodMs,
            supervisor: o.params.supervisor,
          },
          orgKey,
        );
        ok = await this.put(orgRecordKey(o.id), rec, signal);
      }
      ok = (await this.publishSelf(o.id, signal)) && ok;
      this.schedule(publish, ok ? REPUBLISH_MS : RETRY_MS);
    };
    void publish();
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.stop$.signal.aborted) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private async put(key: Uint8Array, rec: Uint8Array, signal: AbortSignal): Promise<boolean> {
    try {
      await this.d.host.putRecord(key, rec, signal);
      return true;
    } catch (err) {
      if (!this.stop$.signal.aborted) this.d.log.debug({ err }, "a DHT record could not be stored yet");
      return false;
    }
  }

  /** Publishes this node's member record for `org`. */
  private publishSelf(org: Buffer, signal: AbortSignal): Promise<boolean> {
    const parts = this.d.host.recordParts();
    const rec = signMemberRecord(
      { org, account: this.d.keys.node.id, seq: BigInt(Date.now()), ...parts },
      this.d.keys.node,
    );
    return this.put(memberRecordKey(org, this.d.keys.node.id), rec, signal);
  }

  private publish(topic: string, data: Uint8Array): void {
    this.d.host.publish(topic, data).catch((err) => this.d.log.debug({ err, topic }, "publish failed"));
  }

  private deliver(m: Received & { group: boolean }): void {
    this.inbox.push(m);
    if (this.inbox.length > INBOX) this.inbox.shift();
    this.d.bus.emit("msg.received", m);
  }

  /** Messages received, oldest first (the last 1,000). */
  messages(): readonly (Received & { group: boolean })[] {
    return this.inbox;
  }

  private followGroup(org: Buffer): void {
    this.d.host.subscribe(
      groupTopic(org),
      async (data) => {
        const m = decodeGroupMessage(data);
        if (!m.org.equals(org)) throw new Error("another organization's message");
        if (Math.abs(Date.now() - m.timeMs) > REQUEST_SKEW_MS) throw new Error("too old, or from the future");
        // A replayed copy is ignored, not delivered twice (gossipsub's own cache is shorter).
        const id = hash("sha256", data, "base64");
        if (this.groupSeen.get(id)) return false;
        if ((await this.roleOf(m.from)) < Role.Member) throw new Error("only members send group messages");
        this.groupSeen.set(id, true, 64);
      },
      (_t, data) => {
        const m = decodeGroupMessage(data);
        this.deliver({ from: m.from.toString("hex"), to: "", text: m.text, at: m.timeMs, group: true });
      },
    );
  }

  private roleOf(id: Buffer): Promise<Role> {
    if (this.d.ledger.org !== undefined) return Promise.resolve(this.d.ledger.account(id)?.role ?? Role.None);
    if (this.member === undefined) return Promise.resolve(Role.None);
    return this.member.role(id, AbortSignal.any([this.stop$.signal, AbortSignal.timeout(10_000)]));
  }

  // ---- the member's side ----

  private restoreMembership(): void {
    const attempt = async () => {
      try {
        const m = await Membership.load(
          this.memberDeps(),
          AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]),
        );
        if (m !== undefined) await this.follow(m);
      } catch (err) {
        if (this.stop$.signal.aborted) return;
        this.d.log.warn({ err }, "cannot reach the organization this node joined yet; retrying");
        this.schedule(attempt, RETRY_MS);
      }
    };
    void attempt();
  }

  private memberDeps() {
    return {
      net: this.d.host,
      node: this.d.keys.node,
      key: (id: string) => this.d.keys.get(id),
      file: this.d.membershipFile,
      onPulse: (f: PulseFinal) =>
        this.d.bus.emit("org.pulse", {
          pulse: f.pulse,
          slot: f.slot,
          root: {
            hash: Buffer.from(f.root.hash).toString("hex"),
            sum: f.root.sum.toString(),
            count: f.root.count,
          },
        }),
      onVerdict: (s: TxStatus) => {
        if (s.state === "accepted" || s.state === "rejected") this.d.bus.emit("tx.verdict", s);
      },
    };
  }

  /** State sync, then follow the pulses: this node's own accounts at the latest pulse, proven. */
  private async follow(m: Membership): Promise<void> {
    const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
    const own = await m.account(this.d.keys.node.id, signal);
    this.member = m;
    this.d.host.subscribe(
      pulseTopic(m.org),
      (data) => {
        if (data[1] === NodeMessageKind.Heartbeat) {
          const h = decodeHeartbeat(data);
          if (!verifyHeartbeat(data) || !h.signer.equals(m.bookkeeper) || !h.org.equals(m.org))
            throw new Error("not the bookkeeper's heartbeat");
          return h.pulse >= m.latest.pulse;
        }
        // An older statement is genuine but not news: ignored, not forwarded.
        return m.checkStatement(data).pulse > m.latest.pulse;
      },
      (_t, data) => {
        if (data[1] !== NodeMessageKind.Heartbeat) m.onStatement(m.checkStatement(data));
      },
    );
    this.followGroup(m.org);
    this.d.log.info(
      {
        org: m.org.toString("hex"),
        pulse: own.final.pulse,
        amount: own.account?.amount ?? 0n,
        role: own.account?.role ?? 0,
      },
      "state synced with the bookkeeper; following the organization's pulses",
    );
    // This node's record goes into the DHT once it is a member or guest (the supervisor's node
    // publishes it at approval too); an applicant's node waits.
    const republish = async () => {
      const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
      const role = await m.role(this.d.keys.node.id, signal).catch(() => Role.None);
      const ok = role >= Role.Guest && (await this.publishSelf(m.org, signal));
      this.schedule(republish, ok ? REPUBLISH_MS : RETRY_MS);
    };
    void republish();
  }

  /** Finds organization `org` (through the DHT, or the peer `via`), applies to join, and follows it. */
  async join(
    org: Buffer,
    via: string | undefined,
    signal: AbortSignal,
  ): Promise<{ org: OrgView; status: TxStatus }> {
    if (this.d.ledger.org !== undefined)
      throw new NetError(
        "REFUSED",
        `this node keeps organization ${this.d.ledger.org.id.toString("hex")}; a node is in one organization`,
      );
    if (this.member !== undefined && !this.member.org.equals(org))
      throw new NetError(
        "REFUSED",
        `this node already joined organization ${this.member.org.toString("hex")}`,
      );
    const targets = via !== undefined ? [via] : await findBookkeeper(this.d.host, org, signal);
    const m = this.member ?? (await Membership.connect(this.memberDeps(), org, targets, signal));
    const me = this.d.keys.node;
    const own = await m.account(me.id, signal);
    const { bytes } = signTx(
      {
        kind: TxKind.Apply,
        org,
        actor: me.id,
        nonce: (own.account?.nonce ?? 0n) + 1n,
        expiry: m.latest.pulse + 20,
        note: "",
      },
      [me],
    );
    const rec = signMemberRecord(
      { org, account: me.id, seq: BigInt(Date.now()), ...this.d.host.recordParts() },
      me,
    );
    // Through `via` when given (a member forwards the application to the bookkeeper), else direct.
    const application = signRequest({ org, op: Op.Apply, body: encodeList([bytes, rec]) }, me);
    const answer =
      via !== undefined
        ? await this.d.host.request(via, application, signal)
        : await m.forward(application, signal);
    const status = decodeStatus(decodeResponse(answer));
    if (this.member === undefined) await this.follow(m);
    return { org: { org, params: m.params, genesis: m.info()[0], latest: m.latest }, status };
  }

  /** An organization's public information: through the DHT and its bookkeeper's Info answer. */
  async orgInfo(org: Buffer, signal: AbortSignal): Promise<{ view: OrgView; record: DhtRecord | undefined }> {
    if (this.member?.org.equals(org)) {
      const [g, f] = this.member.info();
      return { view: checkInfo(encodeList([g, f]), org), record: undefined };
    }
    const record = await this.d.host.getRecord(orgRecordKey(org), signal);
    const targets = await findBookkeeper(this.d.host, org, signal);
    let last: unknown;
    for (const t of targets) {
      try {
        return { view: await Membership.info(this.d.host, this.d.keys.node, org, t, signal), record };
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /** Has the payee's node countersign a transfer a local key signed (any organization this node is in). */
  countersign(bytes: Buffer, tx: Tx, signal: AbortSignal): Promise<Buffer> {
    const org = this.d.ledger.org?.id ?? this.member?.org;
    if (org === undefined) throw new NetError("UNAVAILABLE", "this node is in no organization");
    return askPayee(this.d.host, org, (id) => this.d.keys.get(id), bytes, tx, signal);
  }

  /** Sends a direct message from a local account to `to`'s node. */
  async send(from: Signer, to: Buffer, text: string, signal: AbortSignal): Promise<void> {
    const org = this.d.ledger.org?.id ?? this.member?.org;
    if (org === undefined)
      throw new NetError("UNAVAILABLE", "messages go between members: join an organization first");
    await sendDirect(this.d.host, org, from, to, text, signal);
  }

  /** Publishes a group message on the organization's topic. */
  async sendGroup(from: Signer, text: string): Promise<void> {
    const org = this.d.ledger.org?.id ?? this.member?.org;
    if (org === undefined) throw new NetError("UNAVAILABLE", "this node is in no organization");
    await this.d.host.publish(groupTopic(org), signGroupMessage({ org, text }, from));
  }
}
