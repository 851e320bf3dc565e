/**
 * Finding organizations and their members' nodes: the gossip topics, the DHT lookups (an
 * organization's record names its supervisor; a member's record says where its node listens), and
 * the requests one node makes of another member's node (countersign, direct message). What a node
 * answers is checked here before anyone uses it.
 */
import type { Signer } from "../crypto/ed25519.js";
import { type DhtRecord, memberRecordKey, orgRecordKey } from "../dht/records.js";
import { decodeList, decodeResponse, MAX_TEXT_BYTES, NetError, Op, signRequest } from "../dht/wire.js";
import type { OrgParams, Tx } from "../ledger/tx.js";
import { TxKind } from "../ledger/tx.js";
import { DecodeError, Writer } from "../util/bytes.js";
import { writeText } from "../util/text.js";
import {
  type CertifiedPulse,
  CommitteeChain,
  type CommitteeLink,
  decodeCommittees,
  encodeCommitteesRequest,
} from "./committee-chain.js";
import { verifiedTx } from "./protocol.js";

/** What a membership needs of the network. */
export interface NetPort {
  request(target: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  /** A record from the DHT (from a short-lived cache unless `fresh`). */
  getRecord(key: Uint8Array, signal: AbortSignal, fresh?: boolean): Promise<DhtRecord | undefined>;
  publish(topic: string, data: Uint8Array): Promise<void>;
  /** Dialable targets of a member record. */
  targetsOf(rec: { peerId: Uint8Array; addrs: readonly Uint8Array[] }): string[];
}

/** The gossip topic of an organization's pulse certificates and heartbeats. */
export const pulseTopic = (org: Buffer) => `/leither/1/${org.toString("hex")}/pulse`;
/** The gossip topic of transactions for an organization's bookkeeper. */
export const txTopic = (org: Buffer) => `/leither/1/${org.toString("hex")}/tx`;
/** The gossip topic of an organization's committee: proposals, votes, certificates, evidence. */
export const consensusTopic = (org: Buffer) => `/leither/1/${org.toString("hex")}/consensus`;
/** The gossip topic of an organization's group messages. */
export const groupTopic = (org: Buffer) => `/leither/1/${org.toString("hex")}/group`;

/** What Info answers, checked: the organization's parameters and its latest final pulse. */
export interface OrgView {
  readonly org: Buffer;
  readonly params: OrgParams;
  readonly genesis: Buffer;
  readonly latest: CertifiedPulse;
  /** The committees checked so far, which check the organization's certificates. */
  readonly chain: CommitteeChain;
}

/** Fetches committee links from cycle `from` on (a Committees request to a node that has them). */
export type LearnCommittees = (from: number, count: number) => Promise<readonly CommitteeLink[]>;

/**
 * Checks an Info answer for organization `org`: the genesis is that organization's, and the latest
 * pulse's certificate holds for its committee (learnt through `learn` when it is of a later cycle).
 */
export async function checkInfo(body: Uint8Array, org: Buffer, learn?: LearnCommittees): Promise<OrgView> {
  const [genesis, final] = decodeList(body, 2, "info");
  if (genesis === undefined || final === undefined) throw new DecodeError("info has a genesis and a pulse");
  const tx = verifiedTx(genesis);
  if (tx.body.kind !== TxKind.Genesis || !tx.body.org.equals(org))
    throw new DecodeError("the genesis is not that organization's");
  const params = tx.body.params;
  const chain = new CommitteeChain(org, params, genesis);
  return { org, params, genesis, latest: await chain.check(final, learn), chain };
}

/** Asks one node (a bookkeeper or a member) for an organization's public information, checked. */
export async function askInfo(
  net: NetPort,
  node: Signer,
  org: Buffer,
  target: string,
  signal: AbortSignal,
): Promise<OrgView> {
  const req = signRequest({ org, op: Op.Info, body: Buffer.alloc(0) }, node);
  const learn: LearnCommittees = (from, count) => askCommittees(net, node, org, target, from, count, signal);
  return checkInfo(decodeResponse(await net.request(target, req, signal)), org, learn);
}

/** Asks one node for committee links from cycle `from` on (the caller's chain checks them). */
export async function askCommittees(
  net: NetPort,
  node: Signer,
  org: Buffer,
  target: string,
  from: number,
  count: number,
  signal: AbortSignal,
): Promise<CommitteeLink[]> {
  const req = signRequest({ org, op: Op.Committees, body: encodeCommitteesRequest(from, count) }, node);
  return decodeCommittees(decodeResponse(await net.request(target, req, signal)));
}

/** Any organization's public information: its bookkeeper found through the DHT, then its Info answer. */
export async function findOrg(
  net: NetPort,
  node: Signer,
  org: Buffer,
  signal: AbortSignal,
): Promise<OrgView> {
  let last: unknown;
  for (const t of await findBookkeeper(net, org, signal)) {
    try {
      return await askInfo(net, node, org, t, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      last = err;
    }
  }
  throw last ?? new NetError("UNAVAILABLE", "the organization's bookkeeper cannot be reached");
}

/** Finds where organization `org`'s bookkeeper listens: its org record, then the supervisor's member record. */
export async function findBookkeeper(net: NetPort, org: Buffer, signal: AbortSignal): Promise<string[]> {
  // Asked when the known addresses failed: always the DHT's newest, never a cached record.
  const rec = await net.getRecord(orgRecordKey(org), signal, true);
  if (rec?.kind !== "org")
    throw new NetError("NOT_FOUND", `no record of organization ${org.toString("hex")} in the DHT`);
  const member = await net.getRecord(memberRecordKey(org, rec.supervisor), signal, true);
  if (member?.kind !== "member")
    throw new NetError("NOT_FOUND", "the organization's supervisor has no node record in the DHT");
  return net.targetsOf(member);
}

/**
 * Sends a signed request to the node of `account` (found through its member record) and returns the
 * answer's body; the addresses are tried in turn until one answers.
 */
export async function askMember(
  net: NetPort,
  org: Buffer,
  account: Buffer,
  request: Uint8Array,
  signal: AbortSignal,
): Promise<Buffer> {
  let last: unknown;
  // The record may be cached: when none of its addresses answers, the DHT is asked again once.
  for (const fresh of [false, true]) {
    const rec = await net.getRecord(memberRecordKey(org, account), signal, fresh);
    if (rec?.kind !== "member")
      throw new NetError("NOT_FOUND", `account ${account.toString("hex")} has no node record in the DHT`);
    for (const t of net.targetsOf(rec)) {
      try {
        return decodeResponse(await net.request(t, request, signal));
      } catch (err) {
        if (err instanceof NetError || err instanceof DecodeError || signal.aborted) throw err;
        last = err;
      }
    }
  }
  throw last ?? new NetError("UNAVAILABLE", "the account's node cannot be reached");
}

/** Has the payee's node countersign a transfer a local key signed; checks the answer is that transfer. */
export async function askPayee(
  net: NetPort,
  org: Buffer,
  key: (id: string) => Signer | undefined,
  bytes: Buffer,
  tx: Tx,
  signal: AbortSignal,
): Promise<Buffer> {
  if (tx.body.kind !== TxKind.Transfer) throw new RangeError("only transfers are countersigned");
  const payer = key(tx.body.actor.toString("hex"));
  if (payer === undefined) throw new NetError("FORBIDDEN", "this node does not hold the payer's key");
  const req = signRequest({ org, op: Op.Countersign, body: bytes }, payer);
  const signed = await askMember(net, org, tx.body.to, req, signal);
  const back = verifiedTx(signed);
  if (!back.id.equals(tx.id) || back.signatures.length !== 2)
    throw new DecodeError("the payee's node answered with another transaction");
  return signed;
}

/** Sends a signed direct message from `from` to the node of `to`. */
export async function sendDirect(
  net: NetPort,
  org: Buffer,
  from: Signer,
  to: Buffer,
  text: string,
  signal: AbortSignal,
): Promise<void> {
  const w = new Writer(text.length + 32).exact(to, 20, "to");
  writeText(w, text, MAX_TEXT_BYTES, "text");
  await askMember(net, org, to, signRequest({ org, op: Op.Message, body: w.finish() }, from), signal);
}
