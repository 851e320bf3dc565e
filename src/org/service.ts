/**
 * The organization's life on the network, for this node: it answers peers' requests (server.ts), and
 * either keeps the books of its own organization (publishes its records, announces each final pulse
 * on the pulse topic, takes transactions from the tx topic, handles join applications) or follows an
 * organization it joined (membership.ts). It sees the network through `OrgHost`, the ledger and the
 * bookkeeper through narrow slices, and speaks to the rest of the node on the bus.
 */

import { NodeMessageKind } from "../crypto/domain.js";
import type { Signer } from "../crypto/ed25519.js";
import { NetError, signGroupMessage } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import type { Tx } from "../ledger/tx.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { decodeHeartbeat, verifyHeartbeat } from "../pulse/heartbeat.js";
import { Approvals } from "./approvals.js";
import { Bookkeeping } from "./bookkeeping.js";
import type { CertifiedPulse } from "./committee-chain.js";
import { askPayee, findOrg, groupTopic, type OrgView, pulseTopic, sendDirect } from "./discovery.js";
import { Inbox, type Message } from "./inbox.js";
import { applyToJoin } from "./joining.js";
import { Membership } from "./membership.js";
import { RecordPublisher } from "./publishing.js";
import { Replica } from "./replica.js";
import { orgServer } from "./server.js";

import type { OrgServiceDeps } from "./service-types.js";

export type { OrgBus, OrgHost, OrgServiceDeps } from "./service-types.js";

const REPUBLISH_MS = 30 * 60_000;
const RETRY_MS = 5000;

/** The node's organization on the network. */
export class OrgService {
  readonly name = "org-net";
  private member: Membership | undefined;
  /** Applications and approvals (this node as the organization's supervisor). */
  readonly approvals: Approvals;
  private readonly inbox: Inbox;
  private readonly stop$ = new AbortController();
  private readonly bookkeeping: Bookkeeping;
  private readonly records: RecordPublisher;
  private readonly timers = new Set<NodeJS.Timeout>();
  private offBus: (() => void)[] = [];
  private keeping = false;
  private joinQueue: Promise<unknown> = Promise.resolve();
  private readonly replica: Replica;

  constructor(private readonly d: OrgServiceDeps) {
    this.records = new RecordPublisher({
      host: d.host,
      node: d.keys.node,
      log: d.log,
      stopping: this.stop$.signal,
    });
    this.inbox = new Inbox({
      host: d.host,
      roleOf: (id) => this.roleOf(id),
      emit: (m) => d.bus.emit("msg.received", m),
    });
    this.bookkeeping = new Bookkeeping(d);
    this.replica = new Replica(
      {
        net: d.host,
        node: d.keys.node,
        ledger: d.ledger,
        committee: (p) => d.committee?.(p) ?? [],
        ...(d.withheld === undefined ? {} : { withheld: d.withheld }),
        ...(d.replayed === undefined ? {} : { replayed: d.replayed }),
        log: d.log,
      },
      this.stop$.signal,
    );
    this.approvals = new Approvals({
      ledger: d.ledger,
      bookkeeper: d.bookkeeper,
      nonces: d.nonces,
      key: (id) => d.keys.get(id),
      put: (key, rec, signal) => this.records.put(key, rec, signal),
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
      received: (m) => this.inbox.deliver({ ...m, group: false }),
    });
    await this.d.host.handleRequests((bytes, _peer, signal) => server(bytes, signal));
    if (this.d.ledger.org !== undefined) this.keepBooks();
    else if (this.d.keep !== undefined)
      void this.replica.replicate(this.d.keep, RETRY_MS).then((ok) => ok && this.keepBooks());
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

  /** Replays the final pulses this node lacks from a bookkeeper (one catch-up at a time). */
  catchUp(): Promise<number> {
    return this.replica.catchUp(this.d.ledger.org?.id);
  }

  /** This node keeps its organization's books: announce its pulses, take gossiped transactions, publish its records. */
  private keepBooks(): void {
    this.keeping = true;
    const org = this.d.ledger.org!.id;
    this.offBus.push(...this.bookkeeping.start());
    this.inbox.followGroup(org);
    const publish = async () => {
      const o = this.d.ledger.org!;
      const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
      const orgKey = await this.d.orgKey(o.id).catch(() => undefined);
      // Both, each on its own: one that fails does not keep the other from being stored.
      const orgOk = orgKey === undefined || (await this.records.publishOrg(o.id, o.params, orgKey, signal));
      const ok = (await this.records.publishSelf(o.id, signal)) && orgOk;
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

  /** Messages received, oldest first (the last 1,000). */
  messages(): readonly Message[] {
    return this.inbox.list();
  }

  private roleOf(id: Buffer): Promise<Role> {
    if (this.d.ledger.org !== undefined) return Promise.resolve(this.d.ledger.account(id)?.role ?? Role.None);
    if (this.member === undefined) return Promise.resolve(Role.None);
    return this.member.role(id, AbortSignal.any([this.stop$.signal, AbortSignal.timeout(10_000)]));
  }

  // ---- the member's side ----

  private restoreMembership(): void {
    const attempt = () =>
      this.serial(async () => {
        if (this.member !== undefined) return;
        try {
          const m = await Membership.load(
            this.memberDeps(),
            AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]),
          );
          if (m !== undefined) this.follow(m);
        } catch (err) {
          if (this.stop$.signal.aborted) return;
          this.d.log.warn({ err }, "cannot reach the organization this node joined yet; retrying");
          this.schedule(attempt, RETRY_MS);
        }
      });
    void attempt();
  }

  /** Runs joins and the restore one at a time: two at once would make two memberships. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.joinQueue.then(fn);
    this.joinQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private memberDeps() {
    return {
      net: this.d.host,
      node: this.d.keys.node,
      key: (id: string) => this.d.keys.get(id),
      file: this.d.membershipFile,
      onPulse: (f: CertifiedPulse) =>
        this.d.bus.emit("org.pulse", {
          pulse: f.pulse,
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
  /** Follows `m` from now on: its topics, then state sync; a watchdog resyncs when it goes quiet. */
  private follow(m: Membership): void {
    this.member = m;
    this.d.host.subscribe(
      pulseTopic(m.org),
      (data) => {
        if (data[1] === NodeMessageKind.Heartbeat) {
          const h = decodeHeartbeat(data);
          if (!verifyHeartbeat(data) || !h.org.equals(m.org))
            throw new Error("not this organization's heartbeat");
          // Only a later slot from the committee is news: a replayed heartbeat is not forwarded again.
          return m.heartbeat(h.signer, h.slot, h.pulse);
        }
        if (data[1] !== NodeMessageKind.Certificate) throw new Error("not a certificate or a heartbeat");
        // An older pulse is genuine but not news, and one of an unknown committee waits for its
        // chain: ignored, not forwarded.
        const c = m.checkCertificate(data);
        return c !== undefined && c.pulse > m.latest.pulse;
      },
      (_t, data) => {
        if (data[1] !== NodeMessageKind.Heartbeat) {
          const c = m.checkCertificate(data);
          if (c !== undefined) m.onCertified(c);
        }
      },
    );
    this.inbox.followGroup(m.org);
    const sync = async () => {
      const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
      const own = await m.account(this.d.keys.node.id, signal);
      this.d.log.info(
        {
          org: m.org.toString("hex"),
          pulse: own.final.pulse,
          amount: own.account?.amount ?? 0n,
          role: own.account?.role ?? 0,
        },
        "state synced with the bookkeeper; following the organization's pulses",
      );
    };
    // Certificates stop when the link to the bookkeeper is lost (it restarted, or moved): after three
    // quiet periods, ask it again (redialling it, through the DHT if it moved) and catch up.
    const period = m.params.pulsePeriodMs;
    // Checks every period; while the bookkeeper stays unreachable, less and less often (up to 30 s).
    let wait = Math.max(period, 1000);
    const watchdog = async () => {
      if (Date.now() - m.lastHeard > 3 * period)
        await sync().then(
          () => {
            wait = Math.max(period, 1000);
            m.catchUp();
          },
          (err) => {
            wait = Math.min(wait * 2, 30_000);
            this.d.log.debug({ err }, "the bookkeeper is not reachable yet");
          },
        );
      this.schedule(watchdog, wait);
    };
    void sync()
      .catch((err) => this.d.log.warn({ err }, "state sync failed; retrying"))
      .then(() => this.schedule(watchdog, Math.max(period, 1000)));
    // This node's record goes into the DHT once it is a member or guest (the supervisor's node
    // publishes it at approval too); an applicant's node waits.
    const republish = async () => {
      const signal = AbortSignal.any([this.stop$.signal, AbortSignal.timeout(30_000)]);
      const role = await m.role(this.d.keys.node.id, signal).catch(() => Role.None);
      const ok = role >= Role.Guest && (await this.records.publishSelf(m.org, signal));
      this.schedule(republish, ok ? REPUBLISH_MS : RETRY_MS);
    };
    void republish();
  }

  /** Finds organization `org` (through the DHT, or the peer `via`), applies to join, and follows it. */
  join(
    org: Buffer,
    via: string | undefined,
    signal: AbortSignal,
  ): Promise<{ org: OrgView; status: TxStatus }> {
    return this.serial(() => this.joinNow(org, via, signal));
  }

  private async joinNow(
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
    const m =
      this.member ??
      (await Membership.connect(this.memberDeps(), org, signal, via === undefined ? {} : { via }));
    let status: TxStatus;
    try {
      status = await applyToJoin({ m, node: this.d.keys.node, host: this.d.host }, via, signal);
    } catch (err) {
      // Not joined after all: nothing of it stays (a restart must not follow it).
      if (this.member === undefined) await m.discard();
      throw err;
    }
    if (this.member === undefined) this.follow(m);
    return { org: m.orgView, status };
  }

  /** An organization's public information: through the DHT and its bookkeeper's Info answer. */
  orgInfo(org: Buffer, signal: AbortSignal): Promise<OrgView> {
    return findOrg(this.d.host, this.d.keys.node, org, signal);
  }

  /** Has the payee's node countersign a transfer a local key signed (any organization this node is in). */
  countersign(bytes: Buffer, tx: Tx, signal: AbortSignal): Promise<Buffer> {
    return askPayee(this.d.host, this.orgId(), (id) => this.d.keys.get(id), bytes, tx, signal);
  }

  /** Sends a direct message from a local account to `to`'s node. */
  async send(from: Signer, to: Buffer, text: string, signal: AbortSignal): Promise<void> {
    await sendDirect(this.d.host, this.orgId(), from, to, text, signal);
  }

  /** Publishes a group message on the organization's topic. */
  async sendGroup(from: Signer, text: string): Promise<void> {
    const org = this.orgId();
    await this.d.host.publish(groupTopic(org), signGroupMessage({ org, text }, from));
  }

  /** The organization this node keeps or joined. */
  private orgId(): Buffer {
    const org = this.d.ledger.org?.id ?? this.member?.org;
    if (org === undefined)
      throw new NetError("UNAVAILABLE", "this node is in no organization: join one first");
    return org;
  }
}
