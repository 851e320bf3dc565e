/**
 * A node's membership of an organization whose books another node keeps (seed 3.2). It finds the
 * bookkeeper through the DHT, follows the organization's final pulses on its gossip topic, and asks
 * the bookkeeper for what this node may see: its own accounts' leaves and proofs (state sync), the
 * receipts of transactions it is a party to, roles. Everything the bookkeeper answers is checked
 * against a final pulse's certificate, signed by a quorum of that pulse's committee (committee-chain.ts).
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { Signer } from "../crypto/ed25519.js";
import { decodeList, decodeResponse, NetError, Op, signRequest } from "../dht/wire.js";
import { schedule } from "../election/cycle.js";
import { Role } from "../ledger/account.js";
import type { OrgParams, Tx } from "../ledger/tx.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { DecodeError, Reader } from "../util/bytes.js";
import { BookkeeperLink } from "./bookkeeper-link.js";
import {
  type CertifiedPulse,
  type CommitteeLink,
  decodeCommittees,
  encodeCommitteesRequest,
  UnknownCommittee,
} from "./committee-chain.js";
import { askInfo, findBookkeeper, type NetPort, type OrgView, txTopic } from "./discovery.js";
import { Followed } from "./followed.js";
import {
  type CheckedReceipt,
  checkProven,
  decodeStatus,
  encodeIds,
  type ProvenAccount,
  verifiedTx,
} from "./protocol.js";
import type { Joined } from "./server.js";

/** Options of a Membership. */
export interface MembershipDeps {
  readonly net: NetPort;
  /** The node's key: it signs the node's own requests. */
  readonly node: Signer;
  /** A local key by account id (hex). */
  key(id: string): Signer | undefined;
  /** Where the membership is kept across restarts. */
  readonly file: string;
  /** A new final pulse was accepted (after its receipts are fetched). */
  onPulse?(f: CertifiedPulse): void;
  /** A tracked transaction got its verdict. */
  onVerdict?(s: TxStatus): void;
}

/** Membership of one organization. */
export class Membership implements Joined {
  private view: OrgView;
  private readonly roles = new Map<string, { role: Role; at: number }>();
  private saves = 0;
  private readonly closed = new AbortController();
  private readonly followed: Followed;

  private readonly link: BookkeeperLink;

  private constructor(
    private readonly d: MembershipDeps,
    view: OrgView,
    targets: string[],
  ) {
    this.view = view;
    this.link = new BookkeeperLink(d.net, view.org, targets, () => this.save());
    this.followed = new Followed({
      ask: (op, body, signal, signer) => this.ask(op, body, signal, signer),
      key: d.key,
      node: d.node,
      certified: (bytes) => this.certified(bytes),
      latestPulse: () => this.view.latest.pulse,
      ...(d.onVerdict === undefined ? {} : { onVerdict: d.onVerdict }),
      stopping: this.closed.signal,
    });
  }

  /**
   * Connects to organization `org`: finds its bookkeeper (the saved addresses first, then the DHT),
   * and reads its info. Requests that carry an account's own data go only to addresses from the
   * supervisor's signed member record (or saved from one), never to `via`: a node that forwarded them
   * would read the answers. `via` (any member's node) is asked for the info when the DHT does not
   * know the bookkeeper yet.
   */
  static async connect(
    d: MembershipDeps,
    org: Buffer,
    signal: AbortSignal,
    o: { via?: string; saved?: readonly string[] } = {},
  ): Promise<Membership> {
    let targets = [...(o.saved ?? [])];
    let view: OrgView | undefined;
    let last: unknown = new NetError("UNAVAILABLE", "the bookkeeper cannot be reached");
    const tryInfo = async (list: readonly string[]) => {
      for (const t of list) {
        try {
          view = await askInfo(d.net, d.node, org, t, signal);
          return t;
        } catch (err) {
          if (signal.aborted) throw err;
          last = err;
        }
      }
      return undefined;
    };
    let first = await tryInfo(targets);
    if (first === undefined) {
      const found = await findBookkeeper(d.net, org, signal).catch((err) => {
        last = err;
        return [];
      });
      targets = found;
      first = await tryInfo(found);
      if (first === undefined && o.via !== undefined) await tryInfo([o.via]);
    }
    if (view === undefined) throw last;
    const m = new Membership(
      d,
      view,
      first === undefined ? targets : [first, ...targets.filter((x) => x !== first)],
    );
    await m.save();
    return m;
  }

  /** Reads the membership kept in `d.file`, or undefined if there is none. */
  static async load(d: MembershipDeps, signal: AbortSignal): Promise<Membership | undefined> {
    let doc: { org?: unknown; targets?: unknown };
    try {
      doc = JSON.parse(await readFile(d.file, "utf8"));
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return undefined;
      throw new Error(`${d.file}: ${(err as Error).message}`);
    }
    if (typeof doc.org !== "string" || !/^[0-9a-f]{40}$/.test(doc.org) || !Array.isArray(doc.targets))
      throw new Error(`${d.file} is not a membership file`);
    const saved = doc.targets.filter((t): t is string => typeof t === "string").slice(0, 16);
    return Membership.connect(d, Buffer.from(doc.org, "hex"), signal, { saved });
  }

  /** Forgets this membership on disk (an application that failed). */
  async discard(): Promise<void> {
    this.close();
    await rm(this.d.file, { force: true });
  }

  private async save(): Promise<void> {
    const doc = { org: this.org.toString("hex"), targets: this.link.targets.slice(0, 16) };
    // A name of its own per write: two writes at once must not rename each other's file.
    const tmp = `${this.d.file}.${process.pid}.${++this.saves}.tmp`;
    await writeFile(tmp, `${JSON.stringify(doc)}\n`, { mode: 0o600 });
    await rename(tmp, this.d.file);
  }

  get org(): Buffer {
    return this.view.org;
  }

  /** The organization as this node last checked it: its parameters, genesis, committees and latest pulse. */
  get orgView(): OrgView {
    return this.view;
  }

  /** The organization's parameters (from its genesis). */
  get params(): OrgParams {
    return this.view.params;
  }

  /** The latest final pulse this node has checked. */
  get latest(): CertifiedPulse {
    return this.view.latest;
  }

  /** Whether `id` keeps the books of the next pulse (its committee known here). */
  keeps(id: Buffer): boolean {
    return this.view.chain.keeps(id, this.view.latest.pulse + 1);
  }

  /** Committee links this node has checked, from cycle `from` on (it answers Committees with them). */
  committees(from: number, count: number): CommitteeLink[] {
    return this.view.chain.links(from, count);
  }

  /** Checks a proof of finality from the bookkeeper, learning later committees from it as needed. */
  certified(bytes: Uint8Array): Promise<CertifiedPulse> {
    return this.view.chain.check(bytes, (from, count) => this.learn(from, count));
  }

  private async learn(from: number, count: number): Promise<CommitteeLink[]> {
    const body = await this.ask(Op.Committees, encodeCommitteesRequest(from, count), this.closed.signal);
    return decodeCommittees(body);
  }

  info(): [Buffer, Buffer] {
    return [this.view.genesis, this.view.latest.bytes];
  }

  /** Signs a request with `signer` and sends it to the bookkeeper; the response's body or a NetError. */
  async ask(op: Op, body: Uint8Array, signal: AbortSignal, signer: Signer = this.d.node): Promise<Buffer> {
    return decodeResponse(await this.forward(signRequest({ org: this.org, op, body }, signer), signal));
  }

  /** Sends a request to the bookkeeper and returns the response's bytes (bookkeeper-link.ts). */
  forward(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    return this.link.forward(request, signal);
  }

  /** State sync: the accounts (local keys) at the latest pulse, proven against its certificate. */
  async account(id: Buffer, signal: AbortSignal): Promise<ProvenAccount & { final: CertifiedPulse }> {
    const signer = this.d.key(id.toString("hex"));
    if (signer === undefined)
      throw new NetError(
        "FORBIDDEN",
        "an account's leaf goes only to its owner: this node does not hold its key",
      );
    const body = await this.ask(Op.Accounts, encodeIds([id]), signal, signer);
    const [finalBytes, entry] = decodeList(body, 2, "accounts");
    if (finalBytes === undefined || entry === undefined)
      throw new DecodeError("accounts: a pulse and one entry");
    const final = await this.certified(finalBytes);
    // Genuine but old (a bookkeeper behind the others): not the account as it is now.
    if (final.pulse < this.view.latest.pulse)
      throw new NetError(
        "UNAVAILABLE",
        `the bookkeeper answered at pulse ${final.pulse}, behind pulse ${this.view.latest.pulse}; ask again`,
      );
    this.accept(final);
    return { ...checkProven(entry, id, final), final };
  }

  /** The role of an account, from the bookkeeper (cached for a few periods). */
  async role(account: Buffer, signal: AbortSignal): Promise<Role> {
    const k = account.toString("hex");
    const hit = this.roles.get(k);
    if (hit !== undefined && Date.now() - hit.at < 5 * this.params.pulsePeriodMs) return hit.role;
    const signer = this.d.key(k) ?? this.d.node;
    const r = new Reader(await this.ask(Op.Role, account, signal, signer));
    const role = r.u8("role");
    r.u64Number("pulse");
    r.end("role answer");
    if (role > Role.Supervisor) throw new DecodeError("unknown role");
    if (this.roles.size > 10_000) this.roles.clear();
    this.roles.set(k, { role: role as Role, at: Date.now() });
    return role as Role;
  }

  /** Submits a transaction to the bookkeeper and follows it for its local parties' receipts. */
  async submit(bytes: Uint8Array, signal: AbortSignal): Promise<TxStatus> {
    const tx = verifiedTx(bytes);
    let status: TxStatus;
    try {
      status = decodeStatus(await this.ask(Op.Submit, bytes, signal));
    } catch (err) {
      if (err instanceof NetError || err instanceof DecodeError || signal.aborted) throw err;
      // The bookkeeper cannot be reached directly: the organization's tx topic carries it there.
      await this.d.net.publish(txTopic(this.org), bytes);
      status = { txId: tx.id.toString("hex"), state: "pending" };
    }
    this.followed.track(tx);
    this.followed.settle(status);
    return status;
  }

  countersigned(tx: Tx): void {
    this.followed.trackIncoming(tx);
  }

  /** When the bookkeeper was last heard from (a certificate, a heartbeat or an answer), ms. */
  lastHeard = Date.now();
  private lastSlot = -1;

  /**
   * A heartbeat whose signature and organization were checked: true if it is news (a later slot, not
   * ahead of the clock, from the committee keeping the next pulse), which also counts as hearing
   * from it. Others are ignored, not refused: after a committee change the member may not know the
   * new committee yet (it is learning it).
   */
  heartbeat(signer: Buffer, slot: number, pulse: number): boolean {
    // A slot ahead of the clock would make every honest heartbeat after it look old.
    const now = Math.floor(Date.now() / this.params.pulsePeriodMs);
    if (slot <= this.lastSlot || slot > now + 1 || pulse < this.view.latest.pulse) return false;
    if (!this.keeps(signer)) return false;
    this.lastSlot = slot;
    this.lastHeard = Date.now();
    return true;
  }

  /** After a quiet spell: verdicts and receipts of what this node follows. */
  catchUp(): void {
    this.followed.afterPulse();
  }

  /** A certified pulse from gossip (checked by the topic's validator). */
  onCertified(final: CertifiedPulse): void {
    if (this.accept(final)) this.followed.afterPulse();
  }

  private accept(final: CertifiedPulse): boolean {
    this.lastHeard = Date.now();
    if (final.pulse <= this.view.latest.pulse) return false;
    this.view = { ...this.view, latest: final };
    this.d.onPulse?.(final);
    // The cycle's last pulse binds the next committee: learn it now, so that its heartbeats and its
    // first certificate are taken as they come.
    const { chain } = this.view;
    const cycle = chain.cycleOf(final.pulse);
    if (final.pulse === schedule(cycle, this.params.electionCycle).last) this.learnAhead(cycle + 1);
    return true;
  }

  /**
   * Checks a gossiped certificate: throws unless it is this organization's and a quorum of its
   * pulse's committee signed it. Undefined when it is not news (a pulse this node has; no signature is
   * checked then) or its committee is not known yet: the chain is then learnt in the background, and
   * the certificate taken once it holds.
   */
  checkCertificate(bytes: Uint8Array): CertifiedPulse | undefined {
    const { chain } = this.view;
    if (chain.header(bytes).pulse <= this.view.latest.pulse) return undefined;
    // The topic's validator and its handler both ask: the signatures are checked once.
    if (this.lastChecked?.bytes.equals(bytes)) return this.lastChecked;
    try {
      this.lastChecked = chain.certified(bytes);
      return this.lastChecked;
    } catch (err) {
      if (!(err instanceof UnknownCommittee)) throw err;
      // One cycle ahead at most: a far cycle is the watchdog's (an Accounts answer learns the chain).
      this.waiting = Buffer.from(bytes);
      this.learnAhead(Math.min(err.cycle, chain.known + 1));
      return undefined;
    }
  }

  /** Learns the committees up to `cycle` in the background, one at a time and at most once a second. */
  private learnAhead(cycle: number): void {
    const { chain } = this.view;
    if (this.learning !== undefined || chain.known >= cycle || Date.now() - this.learntAt < 1000) return;
    this.learntAt = Date.now();
    this.learning = chain
      .catchUp(cycle, (from, count) => this.learn(from, count))
      .then(() => {
        // The certificate that waited for this committee, if it holds now.
        const w = this.waiting;
        this.waiting = undefined;
        const c = w === undefined ? undefined : this.checkCertificate(w);
        if (c !== undefined) this.onCertified(c);
      })
      .catch(() => undefined)
      .finally(() => {
        this.learning = undefined;
      });
  }

  private learning: Promise<void> | undefined;
  private learntAt = 0;
  private waiting: Buffer | undefined;
  private lastChecked: CertifiedPulse | undefined;

  /** A transaction's status as the bookkeeper sees it. */
  status(txId: string, signal: AbortSignal): Promise<TxStatus> {
    return this.followed.status(txId, signal);
  }

  /** The checked receipt of a transaction a local account is party to. */
  receipt(txId: string, signal: AbortSignal): Promise<CheckedReceipt> {
    return this.followed.receipt(txId, signal);
  }

  /** True while a transaction this node follows waits for its verdict. */
  pending(txId: string): boolean {
    return this.followed.pending(txId);
  }

  /** Resolves with the transaction's verdict (following it if need be), or `unknown` if `signal` aborts first. */
  verdict(txId: string, signal: AbortSignal): Promise<TxStatus> {
    return this.followed.verdict(txId, signal);
  }

  /** Stops: background work ends, every waiter hears `unknown`. */
  close(): void {
    this.closed.abort();
    this.followed.close();
  }
}
