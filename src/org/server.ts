/**
 * What a node answers on the request protocol (docs/PROTOCOL.md §11.3). Every request is signed by
 * the account that asks, so the answer can depend on who asks: public information to anyone, an
 * account's leaf and proof only to its owner (seed 6.6, 7.3), submissions and messages only from
 * members. A guest reads public information only. Nothing a peer sends can throw out of here: bad
 * input becomes a NetError answer.
 */
import { hash } from "node:crypto";
import type { Signer } from "../crypto/ed25519.js";
import { memberRecordKey, RecordError, validateRecord } from "../dht/records.js";
import { PeerThrottle } from "../dht/throttle.js";
import {
  decodeList,
  decodeRequest,
  encodeList,
  errorResponse,
  MAX_RESPONSE_BYTES,
  MAX_TEXT_BYTES,
  NetError,
  type NetRequest,
  Op,
  okResponse,
  REQUEST_SKEW_MS,
} from "../dht/wire.js";
import { type Account, encodeAccountData, Role } from "../ledger/account.js";
import { partiesOf } from "../ledger/rules.js";
import { PulseError } from "../ledger/store-types.js";
import type { OrgInfo } from "../ledger/transition-types.js";
import type { Tx } from "../ledger/tx.js";
import { TxKind } from "../ledger/tx.js";
import { countersign, txBytes } from "../ledger/tx-codec.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { encodeProof, type Proof } from "../smt/proof.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { ClockCache } from "../util/clock-cache.js";
import { readText } from "../util/text.js";
import { type CommitteeLink, decodeCommitteesRequest, encodeCommittees } from "./committee-chain.js";
import {
  decodeIds,
  decodePulsesRequest,
  encodeProven,
  encodePulses,
  encodeStatus,
  type PulseRecord,
  verifiedTx,
} from "./protocol.js";

/** The organization this node keeps the books of: what the server reads and where it submits. */
export interface Books {
  readonly org: OrgInfo;
  readonly head: number;
  /** The genesis transaction's bytes. */
  genesis(): Buffer;
  account(id: Buffer, pulse?: number): Account | undefined;
  prove(id: Buffer, pulse?: number): Proof;
  findTx(txId: Buffer): { pulse: number; tx: Tx } | undefined;
  submit(bytes: Uint8Array): TxStatus;
  status(txId: string): TxStatus;
  /**
   * The proof that `pulse` (the head when omitted) is final: its certificate, or for the genesis
   * pulse its number (committee-chain.ts).
   */
  final(pulse?: number): Buffer;
  /** Committee links from cycle `from` on (at most `count`): each cycle's members and the certificate binding them. */
  committees?(from: number, count: number): CommitteeLink[];
  /** Final pulses from `from` on (at most `count`, and as many as fit an answer), for a bookkeeper catching up. */
  pulses?(from: number, count: number): PulseRecord[];
  /** Whether `id` is in the committee keeping the books now. */
  keeper?(id: Buffer): boolean;
}

/** This node's membership of an organization kept by another node. */
export interface Joined {
  readonly org: Buffer;
  /** The genesis and the latest pulse's proof of finality, as Info answers them. */
  info(): [Buffer, Buffer];
  /** The committee links this node checked, from cycle `from` on (at most `count`). */
  committees(from: number, count: number): CommitteeLink[];
  /** The role of an account (asked of the bookkeeper, cached). */
  role(account: Buffer, signal: AbortSignal): Promise<Role>;
  /** Sends a request on to the bookkeeper and returns its response's bytes. */
  forward(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  /** A transfer this node countersigned: its receipt will be fetched. */
  countersigned(tx: Tx): void;
}

/** A join application, as the supervisor's node holds it until approved. */
export interface Application {
  readonly account: Buffer;
  readonly txId: string;
  /** The applicant's signed member record, published in the DHT once approved. */
  readonly record: Buffer;
  readonly at: number;
}

/** A direct message this node received. */
export interface Received {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly at: number;
}

/** What the server needs from the node. */
export interface ServerDeps {
  /** The books this node keeps, if it keeps any. */
  books(): Books | undefined;
  /** The organization this node joined, if any. */
  joined(): Joined | undefined;
  /** A local key by account id (hex), for countersigning and as a message's addressee. */
  key(id: string): Signer | undefined;
  /** Countersign incoming transfers to local keys automatically. */
  readonly autoCountersign: boolean;
  /** An application was queued (the supervisor's node approves it, by policy or by hand). */
  applied(a: Application): void;
  /** A direct message arrived. */
  received(m: Received): void;
  readonly now?: () => number;
}

/** Applications a node takes (or, a member's, forwards) per second, from all peers together. */
const APPLICATIONS_PER_SECOND = 10;

/** The bookkeeper's whole response, relayed as it came. */
class Forwarded {
  constructor(readonly bytes: Uint8Array) {}
}

const ROLE_OF = (a: Account | undefined): Role => a?.role ?? Role.None;

/** Builds the request handler: bytes from a peer in, bytes of the answer out. */
export function orgServer(d: ServerDeps): (bytes: Uint8Array, signal: AbortSignal) => Promise<Uint8Array> {
  const now = d.now ?? Date.now;
  // Direct messages are deduplicated by their bytes, so a replayed request does not deliver twice.
  const seen = new ClockCache<true>(1024 * 1024);
  // One budget for every application this node takes or forwards, whoever sends it.
  const applications = new PeerThrottle(APPLICATIONS_PER_SECOND, APPLICATIONS_PER_SECOND * 2, d.now);

  const handle = async (
    req: NetRequest,
    raw: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array | Forwarded> => {
    if (Math.abs(now() - req.timeMs) > REQUEST_SKEW_MS)
      throw new NetError("BAD_REQUEST", "the request's time is more than 5 minutes from this node's clock");
    const books = d.books();
    const joined = books === undefined ? d.joined() : undefined;
    const org = books?.org.id ?? joined?.org;
    if (org === undefined || !req.org.equals(org))
      throw new NetError("NOT_FOUND", "this node is not in that organization");
    const roleOf = async (id: Buffer) =>
      books !== undefined ? ROLE_OF(books.account(id)) : joined!.role(id, signal);
    // A member that does not keep the books forwards an application (an applicant may know only a
    // member): the request stays signed by its asker, and the bookkeeper judges the asker. Nothing
    // else is forwarded, since the forwarder would read the answer (an account's leaf, a receipt).
    const forward = () => {
      if (joined === undefined) throw new NetError("UNAVAILABLE", "this node does not keep the books");
      return joined.forward(raw, signal).then(
        (bytes) => new Forwarded(bytes),
        (err) => {
          throw err instanceof NetError
            ? err
            : new NetError("UNAVAILABLE", "the bookkeeper cannot be reached");
        },
      );
    };

    const needBooks = (): Books => {
      if (books === undefined)
        throw new NetError("UNAVAILABLE", "this node does not keep the books: ask the bookkeeper");
      return books;
    };

    switch (req.op) {
      case Op.Info: {
        if (req.body.length !== 0) throw new DecodeError("an Info request has an empty body");
        const [genesis, final] = books !== undefined ? [books.genesis(), books.final()] : joined!.info();
        return encodeList([genesis, final]);
      }
      case Op.Apply: {
        // Checked before it is forwarded too: a member passes on well-formed applications only.
        const [txb, record] = decodeList(req.body, 2, "application");
        if (txb === undefined || record === undefined) throw new DecodeError("an application has two parts");
        const tx = verifiedTx(txb);
        if (tx.body.kind !== TxKind.Apply || !tx.body.actor.equals(req.from) || !tx.body.org.equals(org))
          throw new NetError("BAD_REQUEST", "an application carries the applicant's own Apply transaction");
        const rec = validateRecord(memberRecordKey(org, req.from), record);
        if (rec.kind !== "member") throw new RecordError("not a member record");
        // Each accepted application writes a leaf for good: a budget for all applicants together.
        if (!applications.take("all")) throw new NetError("BUSY", "too many applications; retry later");
        if (books === undefined) return forward();
        const status = books.submit(txb);
        d.applied({ account: req.from, txId: status.txId, record: Buffer.from(record), at: now() });
        return encodeStatus(status);
      }
      case Op.Submit: {
        const b = needBooks();
        if ((await roleOf(req.from)) < Role.Member)
          throw new NetError("FORBIDDEN", "only members submit transactions");
        return encodeStatus(b.submit(req.body));
      }
      case Op.Accounts: {
        const b = needBooks();
        const ids = decodeIds(req.body);
        // An account's leaf and proof go to its owner only.
        if (!ids.every((id) => id.equals(req.from)))
          throw new NetError("FORBIDDEN", "an account's leaf and proof go only to its owner");
        const pulse = b.head;
        const entries = ids.map((id) => {
          const a = b.account(id, pulse);
          return encodeProven(
            a === undefined ? undefined : encodeAccountData(a),
            encodeProof(b.prove(id, pulse)),
          );
        });
        return encodeList([b.final(pulse), ...entries]);
      }
      case Op.Receipt: {
        const b = needBooks();
        if (req.body.length !== 32) throw new DecodeError("a receipt request names a 32-byte transaction id");
        const found = b.findTx(req.body);
        if (found === undefined) throw new NetError("NOT_FOUND", "no such transaction has been applied");
        const { tx, pulse } = found;
        if (!partiesOf(tx.body, org).some((p) => p.equals(req.from)))
          throw new NetError("FORBIDDEN", "a receipt goes to the transaction's parties");
        const a = b.account(req.from, pulse);
        return encodeList([
          b.final(pulse),
          txBytes(tx),
          encodeProven(
            a === undefined ? undefined : encodeAccountData(a),
            encodeProof(b.prove(req.from, pulse)),
          ),
        ]);
      }
      case Op.Countersign: {
        const tx = verifiedTx(req.body);
        if (tx.body.kind !== TxKind.Transfer || tx.signatures.length !== 1 || !tx.body.actor.equals(req.from))
          throw new NetError("BAD_REQUEST", "a countersign request carries the payer's signed transfer");
        if (!tx.body.org.equals(org))
          throw new NetError("BAD_REQUEST", "the transfer is for another organization");
        // No role check here: receiving is harmless, and the bookkeeper takes members' transfers only.
        if (!d.autoCountersign) throw new NetError("REFUSED", "this node does not countersign automatically");
        const payee = d.key(tx.body.to.toString("hex"));
        if (payee === undefined) throw new NetError("NOT_FOUND", "this node does not hold the payee's key");
        const bytes = countersign(req.body, payee);
        joined?.countersigned(tx);
        return bytes;
      }
      case Op.Message: {
        const r = new Reader(req.body);
        const to = r.bytes(20, "to").toString("hex");
        const text = readText(r, MAX_TEXT_BYTES, "text");
        r.end("message");
        // The addressee first: a message to no one here costs the bookkeeper no role request.
        if (d.key(to) === undefined) throw new NetError("NOT_FOUND", "this node does not hold that account");
        if ((await roleOf(req.from)) < Role.Member)
          throw new NetError("FORBIDDEN", "only members send messages");
        const id = hash("sha256", raw, "base64");
        if (!seen.get(id)) {
          seen.set(id, true, 64);
          d.received({ from: req.from.toString("hex"), to, text, at: req.timeMs });
        }
        return Buffer.alloc(0);
      }
      case Op.Role: {
        const b = needBooks();
        if (req.body.length !== 20) throw new DecodeError("a role request names a 20-byte account");
        // Guests too: a guest's node checks the role of who messages it.
        if (ROLE_OF(b.account(req.from)) < Role.Guest && !req.body.equals(req.from))
          throw new NetError("FORBIDDEN", "members, guests and the account itself read roles");
        return new Writer(9)
          .u8(ROLE_OF(b.account(req.body)))
          .u64n(b.head)
          .finish();
      }
      case Op.Pulses: {
        const b = needBooks();
        // Every transaction of the organization is in there: members and bookkeepers only.
        if (!(b.keeper?.(req.from) ?? false) && (await roleOf(req.from)) < Role.Member)
          throw new NetError("FORBIDDEN", "only members and bookkeepers read final pulses");
        const { from, count } = decodePulsesRequest(req.body);
        if (b.pulses === undefined) throw new NetError("UNAVAILABLE", "this node does not keep final pulses");
        return encodePulses(b.pulses(from, count));
      }
      case Op.Committees: {
        // Public, as Info is: the committees are what anyone checks the organization's pulses by.
        const { from, count } = decodeCommitteesRequest(req.body);
        const links =
          books !== undefined ? (books.committees?.(from, count) ?? []) : joined!.committees(from, count);
        return encodeCommittees(links);
      }
      case Op.Status: {
        const b = needBooks();
        if (req.body.length !== 32) throw new DecodeError("a status request names a 32-byte transaction id");
        // The state and reason only: a rejection's message can tell the actor's balance.
        const st = b.status(req.body.toString("hex"));
        return encodeStatus(st.state === "rejected" ? { ...st, message: "" } : st);
      }
    }
    throw new NetError("BAD_REQUEST", "unknown op");
  };

  return async (bytes, signal) => {
    try {
      const req = decodeRequest(bytes);
      const out = await handle(req, bytes, signal);
      if (out instanceof Forwarded) return out.bytes;
      if (out.length >= MAX_RESPONSE_BYTES)
        throw new NetError("UNAVAILABLE", "the answer is larger than a response may be");
      return okResponse(out);
    } catch (err) {
      if (err instanceof NetError) return errorResponse(err);
      if (err instanceof DecodeError || err instanceof RecordError || err instanceof RangeError)
        return errorResponse(new NetError("BAD_REQUEST", err.message));
      if (err instanceof PulseError)
        return errorResponse(new NetError("NOT_FOUND", `that pulse is no longer kept: ${err.message}`));
      const code = (err as { code?: string }).code;
      if (code === "BUSY" || code === "STOPPED")
        return errorResponse(new NetError("BUSY", (err as Error).message));
      if (code === "DECODE" || code === "WRONG_ORG" || code === "NO_ORG" || code === "ORG_EXISTS")
        return errorResponse(new NetError("REFUSED", (err as Error).message));
      throw err;
    }
  };
}
