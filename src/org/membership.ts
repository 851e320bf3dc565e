/**
 * A node's membership of an organization whose books another node keeps (seed 3.2). It finds the
 * bookkeeper through the DHT, follows the organization's final pulses on its gossip topic, and asks
 * the bookkeeper for what this node may see: its own accounts' leaves and proofs (state sync), the
 * receipts of transactions it is a party to, roles. Everything the bookkeeper answers is checked
 * against a pulse statement signed by the bookkeeper's key (the genesis names it: the supervisor).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import type { Signer } from "../crypto/ed25519.js";
import { decodeList, decodeResponse, NetError, Op, type PulseFinal, signRequest } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import type { OrgParams, Tx } from "../ledger/tx.js";
import { TxKind } from "../ledger/tx.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { DecodeError, Reader } from "../util/bytes.js";
import { checkInfo, findBookkeeper, type NetPort, type OrgView, txTopic } from "./discovery.js";
import {
  type CheckedReceipt,
  checkedFinal,
  checkProven,
  checkReceipt,
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
  onPulse?(f: PulseFinal): void;
  /** A tracked transaction got its verdict. */
  onVerdict?(s: TxStatus): void;
}

/** True if a response says the node does not keep the books (UNAVAILABLE). */
function notTheBookkeeper(res: Uint8Array): boolean {
  try {
    decodeResponse(res);
    return false;
  } catch (err) {
    return err instanceof NetError && err.code === "UNAVAILABLE";
  }
}

const MAX_TRACKED = 10_000;
/** Followed transactions asked about per pulse. */
const RECEIPTS_PER_PULSE = 512;
/** Pulses past a transaction's expiry after which its receipt is no longer asked for. */
const GIVE_UP_PULSES = 100;
const MAX_RECEIPTS = 10_000;

/** Membership of one organization. */
export class Membership implements Joined {
  private view: OrgView;
  private readonly roles = new Map<string, { role: Role; at: number }>();
  private readonly tracked = new Map<string, { party: Buffer; expiry: number }>();
  private readonly receipts = new Map<string, CheckedReceipt>();
  private readonly verdicts = new Map<string, TxStatus>();
  private readonly waiters = new Map<string, Set<(s: TxStatus) => void>>();
  private fetching: Promise<void> = Promise.resolve();

  private constructor(
    private readonly d: MembershipDeps,
    view: OrgView,
    private targets: string[],
  ) {
    this.view = view;
  }

  /** Asks one node (a bookkeeper or a member) for an organization's public information, checked. */
  static async info(
    net: NetPort,
    node: Signer,
    org: Buffer,
    target: string,
    signal: AbortSignal,
  ): Promise<OrgView> {
    const req = signRequest({ org, op: Op.Info, body: Buffer.alloc(0) }, node);
    return checkInfo(decodeResponse(await net.request(target, req, signal)), org);
  }

  /** Asks `targets` (in order, first that answers) for the organization's info and joins it. */
  static async connect(
    d: MembershipDeps,
    org: Buffer,
    targets: string[],
    signal: AbortSignal,
  ): Promise<Membership> {
    let last: unknown = new NetError("UNAVAILABLE", "no address to reach the bookkeeper at");
    for (const t of targets) {
      try {
        const view = await Membership.info(d.net, d.node, org, t, signal);
        const m = new Membership(d, view, [t, ...targets.filter((x) => x !== t)]);
        await m.save();
        return m;
      } catch (err) {
        if (signal.aborted) throw err;
        last = err;
      }
    }
    throw last;
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
    const targets = doc.targets.filter((t): t is string => typeof t === "string");
    return Membership.connect(d, Buffer.from(doc.org, "hex"), targets, signal);
  }

  private async save(): Promise<void> {
    const doc = { org: this.org.toString("hex"), targets: this.targets.slice(0, 16) };
    await writeFile(`${this.d.file}.tmp`, `${JSON.stringify(doc)}\n`, { mode: 0o600 });
    await rename(`${this.d.file}.tmp`, this.d.file);
  }

  get org(): Buffer {
    return this.view.org;
  }

  /** The organization's parameters (from its genesis). */
  get params(): OrgParams {
    return this.view.params;
  }

  /** The latest final pulse this node has checked. */
  get latest(): PulseFinal {
    return this.view.latest;
  }

  /** The bookkeeper's account (until committees exist, the genesis supervisor). */
  get bookkeeper(): Buffer {
    return this.view.params.supervisor;
  }

  info(): [Buffer, Buffer] {
    return [this.view.genesis, this.view.latest.bytes];
  }

  /** Signs a request with `signer` and sends it to the bookkeeper; the response's body or a NetError. */
  async ask(op: Op, body: Uint8Array, signal: AbortSignal, signer: Signer = this.d.node): Promise<Buffer> {
    return decodeResponse(await this.forward(signRequest({ org: this.org, op, body }, signer), signal));
  }

  /**
   * Sends a request to the bookkeeper and returns the response's bytes. The known addresses are
   * tried in turn; a node that answers that it does not keep the books (a member this node joined
   * through) counts as not reached. When none is reached, the DHT is asked where the bookkeeper is
   * now, and an address that answers goes first from then on.
   */
  async forward(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    let last: unknown;
    const attempt = async (t: string): Promise<Uint8Array | undefined> => {
      try {
        const res = await this.d.net.request(t, request, signal);
        if (!notTheBookkeeper(res)) return res;
        last = new NetError("UNAVAILABLE", "the node reached does not keep the books");
      } catch (err) {
        if (signal.aborted) throw err;
        last = err;
      }
      return undefined;
    };
    for (const t of this.targets) {
      const res = await attempt(t);
      if (res !== undefined) return res;
    }
    const fresh = await findBookkeeper(this.d.net, this.org, signal).catch(() => []);
    for (const t of fresh.filter((x) => !this.targets.includes(x))) {
      const res = await attempt(t);
      if (res === undefined) continue;
      this.targets = [t, ...this.targets];
      await this.save();
      return res;
    }
    throw last ?? new NetError("UNAVAILABLE", "the bookkeeper cannot be reached");
  }

  /** State sync: the accounts (local keys) at the latest pulse, proven against the bookkeeper's statement. */
  async account(id: Buffer, signal: AbortSignal): Promise<ProvenAccount & { final: PulseFinal }> {
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
    const final = checkedFinal(finalBytes, this.org, this.bookkeeper);
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
    this.trackTx(tx);
    if (status.state !== "pending") this.settle(status);
    return status;
  }

  countersigned(tx: Tx): void {
    this.trackTx(tx);
  }

  private trackTx(tx: Tx): void {
    if (tx.body.kind === TxKind.Genesis) return;
    const parties = [tx.body.actor, ...(tx.body.kind === TxKind.Transfer ? [tx.body.to] : [])];
    const party = parties.find((p) => this.d.key(p.toString("hex")) !== undefined);
    const k = tx.id.toString("hex");
    if (party === undefined || this.tracked.size >= MAX_TRACKED || this.receipts.has(k)) return;
    this.tracked.set(k, { party, expiry: tx.body.expiry });
  }

  /** A pulse statement from gossip (checked by the topic's validator). */
  onStatement(final: PulseFinal): void {
    if (this.accept(final)) this.fetchReceipts();
  }

  private accept(final: PulseFinal): boolean {
    if (final.pulse <= this.view.latest.pulse) return false;
    this.view = { ...this.view, latest: final };
    this.d.onPulse?.(final);
    return true;
  }

  /** Checks a gossiped pulse statement; throws unless the bookkeeper signed it for this organization. */
  checkStatement(bytes: Uint8Array): PulseFinal {
    return checkedFinal(bytes, this.org, this.bookkeeper);
  }

  /**
   * After each pulse: the verdicts of followed transactions, and the receipts of accepted ones, a
   * bounded batch at a time (those still waiting go to the back, so none starves the others).
   */
  private fetchReceipts(): void {
    this.fetching = this.fetching.then(async () => {
      const pulse = this.view.latest.pulse;
      const batch = [...this.tracked].slice(0, RECEIPTS_PER_PULSE);
      for (const [k, t] of batch) {
        this.tracked.delete(k);
        // Give up on one whose receipt cannot be had long after its expiry (its pulse was pruned).
        if (pulse <= t.expiry + GIVE_UP_PULSES) this.tracked.set(k, t);
        else this.settle({ txId: k, state: "unknown" });
      }
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const [k, t] = batch[next++]!;
          if (!this.tracked.has(k)) continue;
          const signal = AbortSignal.timeout(10_000);
          try {
            const s = await this.status(k, signal);
            if (s.state === "accepted") await this.receipt(k, signal);
            else if (s.state === "rejected" || (s.state === "unknown" && pulse > t.expiry)) {
              this.tracked.delete(k);
              this.settle(s);
            }
          } catch {
            // The next pulse asks again.
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    });
  }

  /** A transaction's status as the bookkeeper sees it. */
  async status(txId: string, signal: AbortSignal): Promise<TxStatus> {
    const local = this.verdicts.get(txId);
    if (local !== undefined) return local;
    const s = decodeStatus(await this.ask(Op.Status, Buffer.from(txId, "hex"), signal));
    if (s.state === "rejected") this.settle(s);
    return s;
  }

  /** The checked receipt of a transaction a local account is party to (fetched once, then kept). */
  async receipt(txId: string, signal: AbortSignal): Promise<CheckedReceipt> {
    const hit = this.receipts.get(txId);
    if (hit !== undefined) return hit;
    const party = this.tracked.get(txId)?.party ?? this.d.node.id;
    const signer = this.d.key(party.toString("hex")) ?? this.d.node;
    const body = await this.ask(Op.Receipt, Buffer.from(txId, "hex"), signal, signer);
    const r = checkReceipt(body, Buffer.from(txId, "hex"), this.org, this.bookkeeper, [signer.id]);
    if (this.receipts.size >= MAX_RECEIPTS) this.receipts.delete(this.receipts.keys().next().value!);
    this.receipts.set(txId, r);
    this.tracked.delete(txId);
    this.settle({ txId, state: "accepted", pulse: r.final.pulse });
    return r;
  }

  private settle(s: TxStatus): void {
    if (s.state === "pending") return;
    if (s.state === "unknown") {
      // Lost (past its expiry and never applied): its waiters hear so; nothing is remembered.
      for (const w of this.waiters.get(s.txId) ?? []) w(s);
      this.waiters.delete(s.txId);
      return;
    }
    if (this.verdicts.has(s.txId)) return;
    if (this.verdicts.size >= MAX_RECEIPTS) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(s.txId, s);
    this.d.onVerdict?.(s);
    for (const w of this.waiters.get(s.txId) ?? []) w(s);
    this.waiters.delete(s.txId);
  }

  /** True while a transaction this node follows waits for its verdict. */
  pending(txId: string): boolean {
    return this.tracked.has(txId) && !this.verdicts.has(txId);
  }

  /** Resolves with the transaction's verdict (or `unknown` if `signal` aborts first). */
  verdict(txId: string, signal: AbortSignal): Promise<TxStatus> {
    const done = this.verdicts.get(txId);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => {
      const set = this.waiters.get(txId) ?? new Set();
      const w = (s: TxStatus) => {
        signal.removeEventListener("abort", abort);
        resolve(s);
      };
      const abort = () => {
        set.delete(w);
        resolve({ txId, state: "unknown" });
      };
      set.add(w);
      this.waiters.set(txId, set);
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
