/**
 * The supervisor's side of joining (seed 3.2): applications that reached this node, and approvals.
 * An approval is an Approve transaction signed with the supervisor's key; once it is applied, the
 * applicant's member record (signed by the applicant, sent with its application) goes into the DHT.
 */
import type { Signer } from "../crypto/ed25519.js";
import { memberRecordKey } from "../dht/records.js";
import { NetError } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { TxKind } from "../ledger/tx.js";
import { signTx } from "../ledger/tx-codec.js";
import type { Bookkeeper, TxStatus } from "../pulse/bookkeeper.js";
import type { NonceBook } from "../pulse/nonces.js";
import type { Application } from "./server.js";

/** What approvals need from the node. */
export interface ApprovalDeps {
  readonly ledger: Pick<Ledger, "org" | "head" | "account">;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "status" | "verdict">;
  readonly nonces: NonceBook;
  key(id: string): Signer | undefined;
  /** Stores a record in the DHT; false if it could not (yet). */
  put(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<boolean>;
  /** "off": by hand; otherwise the role an accepted application is approved as. */
  readonly autoApprove: "off" | "guest" | "member";
  readonly log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Aborted at stop. */
  readonly stopping: AbortSignal;
}

const MAX_APPLICATIONS = 10_000;

/** Applications waiting at this supervisor's node, and approving them. */
export class Approvals {
  private readonly applications = new Map<string, Application>();

  constructor(private readonly d: ApprovalDeps) {}

  /** An application arrived (its Apply transaction is submitted); approves it if the policy says so. */
  applied(a: Application): void {
    const k = a.account.toString("hex");
    this.applications.set(k, a);
    if (this.applications.size > MAX_APPLICATIONS)
      this.applications.delete(this.applications.keys().next().value!);
    this.d.log.info({ account: k }, "a join application arrived");
    if (this.d.autoApprove === "off") return;
    const role = this.d.autoApprove === "member" ? Role.Member : Role.Guest;
    const stop = this.d.stopping;
    void (async () => {
      const s = await this.d.bookkeeper.verdict(a.txId, stop);
      if (s.state !== "accepted") return;
      const out = await this.approve(a.account, role, stop);
      this.d.log.info({ account: k, state: out.state }, "application approved by policy");
    })().catch((err) => {
      if (!stop.aborted) this.d.log.warn({ err, account: k }, "could not approve an application");
    });
  }

  /** Applications waiting for approval. */
  pending(): { account: string; txId: string; at: number }[] {
    return [...this.applications.values()].map((a) => ({
      account: a.account.toString("hex"),
      txId: a.txId,
      at: a.at,
    }));
  }

  /** Approves an applicant (this node keeps the books and holds the supervisor's key); waits for the verdict. */
  async approve(
    applicant: Buffer,
    role: typeof Role.Guest | typeof Role.Member,
    signal: AbortSignal,
  ): Promise<TxStatus> {
    const org = this.d.ledger.org;
    if (org === undefined) throw new NetError("UNAVAILABLE", "this node keeps no organization");
    const sup = this.d.key(org.params.supervisor.toString("hex"));
    if (sup === undefined) throw new NetError("FORBIDDEN", "this node does not hold the supervisor's key");
    const id = sup.id.toString("hex");
    const committed = this.d.ledger.account(sup.id)?.nonce ?? 0n;
    const nonce = this.d.nonces.next(id, committed, (t) => this.d.bookkeeper.status(t).state === "pending");
    const { tx, bytes } = signTx(
      {
        kind: TxKind.Approve,
        org: org.id,
        actor: sup.id,
        nonce,
        expiry: (this.d.ledger.head ?? 0) + 20,
        applicant,
        role,
      },
      [sup],
    );
    // The supervisor's account also pays: its nonces are taken and submitted in order like transfers'.
    const hold = this.d.nonces.hold(id, nonce, tx.id.toString("hex"));
    let s: TxStatus;
    try {
      await hold.turn(signal);
      s = this.d.bookkeeper.submit(bytes);
      hold.done();
    } finally {
      hold.release();
    }
    if (s.state === "pending") s = await this.d.bookkeeper.verdict(s.txId, signal);
    const k = applicant.toString("hex");
    const app = this.applications.get(k);
    if (s.state === "accepted" && app !== undefined) {
      this.applications.delete(k);
      await this.d.put(
        memberRecordKey(org.id, applicant),
        app.record,
        AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
      );
    }
    return s;
  }
}
