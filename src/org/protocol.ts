/**
 * The bodies of the request protocol's operations (docs/PROTOCOL.md §11.3), and the checks a node
 * makes on what a peer answers: every account is proven against a final pulse whose certificate the
 * pulse's committee signed (committee-chain.ts), every transaction's signatures are verified. A
 * peer's answer is never taken on trust.
 */
import { signingPayload } from "../crypto/domain.js";
import { Verifier } from "../crypto/ed25519.js";
import { decodeList, encodeList } from "../dht/wire.js";
import { type Account, type AccountData, accountDataHash, decodeAccountData } from "../ledger/account.js";
import { keysMatch } from "../ledger/rules.js";
import type { RejectReason } from "../ledger/transition-types.js";
import type { Tx } from "../ledger/tx.js";
import { decodeTx, signerIds } from "../ledger/tx-codec.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { decodeProof, type Proof } from "../smt/proof.js";
import { verifyProof } from "../smt/verify.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";
import type { CertifiedPulse } from "./committee-chain.js";

/** Most accounts one Accounts request may name. */
export const MAX_ACCOUNTS_PER_REQUEST = 16;

const verifier = new Verifier(4096);

/** Decodes a transaction and verifies every signature it carries (peers' transactions). */
export function verifiedTx(bytes: Uint8Array): Tx {
  const tx = decodeTx(bytes);
  if (!keysMatch(tx, signerIds(tx.body))) throw new DecodeError("a signature's key is not its account's");
  const payload = signingPayload(tx.bodyBytes);
  for (const s of tx.signatures)
    if (!verifier.verify(s.signature, payload, s.publicKey))
      throw new DecodeError("a transaction signature does not verify");
  return tx;
}

/** One account as proven at a pulse. */
export interface ProvenAccount {
  readonly id: Buffer;
  /** Undefined when the proof shows the account has no leaf. */
  readonly account: Account | undefined;
  readonly proof: Proof;
}

/** Encodes one account's entry: its data (empty if none) and its proof. */
export function encodeProven(data: Uint8Array | undefined, proofBytes: Uint8Array): Buffer {
  return encodeList([data ?? Buffer.alloc(0), proofBytes]);
}

/** Decodes an entry and checks it against `final`'s root. */
export function checkProven(entry: Uint8Array, id: Buffer, final: CertifiedPulse): ProvenAccount {
  const [data, proofBytes] = decodeList(entry, 2, "account entry") as [Buffer?, Buffer?];
  if (data === undefined || proofBytes === undefined) throw new DecodeError("an account entry has two parts");
  const proof = decodeProof(proofBytes);
  if (!Buffer.from(proof.key).equals(id)) throw new DecodeError("the proof is for another account");
  const v = verifyProof(proof, final.root);
  if (v.result === "invalid") throw new DecodeError(`the proof does not verify: ${v.reason}`);
  if (v.result === "exclusion") {
    if (data.length !== 0) throw new DecodeError("data for an account the proof excludes");
    return { id, account: undefined, proof };
  }
  const t = proof.terminal;
  if (t === null || t.kind !== "leaf") throw new DecodeError("an inclusion proof ends in a leaf");
  if (!accountDataHash(data).equals(Buffer.from(t.dataHash)))
    throw new DecodeError("the account data does not match its leaf");
  const d: AccountData = decodeAccountData(data);
  return { id, account: { ...d, amount: t.amount }, proof };
}

/** One final pulse as a bookkeeper catching up is shown it: its accepted transactions and its certificate. */
export interface PulseRecord {
  readonly pulse: number;
  readonly certificate: Buffer;
  readonly txs: readonly Buffer[];
}

/** Most pulses one Pulses request asks for. */
export const MAX_PULSES_PER_REQUEST = 256;
/** Most transactions of one pulse in a Pulses answer. */
const MAX_TXS_PER_PULSE = 65_535;

/** Pulses request body: u64 from | u16 count. */
export function encodePulsesRequest(from: number, count: number): Buffer {
  return new Writer(10).u64n(from).u16(count).finish();
}

/** Decodes a Pulses request. */
export function decodePulsesRequest(body: Uint8Array): { from: number; count: number } {
  const r = new Reader(body);
  const from = r.u64Number("from");
  const count = r.u16("count");
  r.end("pulses request");
  if (count === 0 || count > MAX_PULSES_PER_REQUEST)
    throw new DecodeError(`a pulses request asks for 1 to ${MAX_PULSES_PER_REQUEST} pulses`);
  return { from, count };
}

/** Pulses answer: a list of entries, each a list [u64 pulse, certificate, list of transactions]. */
export function encodePulses(records: readonly PulseRecord[]): Buffer {
  return encodeList(
    records.map((p) => encodeList([new Writer(8).u64n(p.pulse).finish(), p.certificate, encodeList(p.txs)])),
  );
}

/** Decodes a Pulses answer (the caller checks each pulse against its certificate and its own state). */
export function decodePulses(bytes: Uint8Array): PulseRecord[] {
  return decodeList(bytes, MAX_PULSES_PER_REQUEST, "pulses").map((entry) => {
    const [p, certificate, txs] = decodeList(entry, 3, "pulse entry");
    if (p === undefined || certificate === undefined || txs === undefined)
      throw new DecodeError("a pulse entry has three parts");
    const r = new Reader(p);
    const pulse = r.u64Number("pulse");
    r.end("pulse number");
    return { pulse, certificate, txs: decodeList(txs, MAX_TXS_PER_PULSE, "pulse transactions") };
  });
}

/** Accounts request body: the ids. */
export function encodeIds(ids: readonly Buffer[]): Buffer {
  return encodeList(ids);
}

/** Reads an Accounts request body. */
export function decodeIds(body: Uint8Array): Buffer[] {
  const ids = decodeList(body, MAX_ACCOUNTS_PER_REQUEST, "accounts");
  if (ids.length === 0) throw new DecodeError("an Accounts request names at least one account");
  for (const id of ids) if (id.length !== 20) throw new DecodeError("an account id is 20 bytes");
  return ids;
}

const STATES = ["pending", "accepted", "rejected", "unknown"] as const;

/** A transaction status as sent over the wire: u8 state | u64 pulse or slot | text reason | text message. */
export function encodeStatus(s: TxStatus): Buffer {
  const w = new Writer(64);
  w.u8(STATES.indexOf(s.state)).exact(Buffer.from(s.txId, "hex"), 32, "txId");
  w.u64n(s.state === "accepted" ? s.pulse : s.state === "rejected" ? s.slot : 0);
  writeText(w, s.state === "rejected" ? s.reason : "", 64, "reason");
  writeText(w, s.state === "rejected" ? s.message : "", 512, "message");
  return w.finish();
}

/** Reads a status written by encodeStatus. */
export function decodeStatus(bytes: Uint8Array): TxStatus {
  const r = new Reader(bytes);
  const state = STATES[r.u8("state")];
  if (state === undefined) throw new DecodeError("unknown transaction state");
  const txId = r.bytes(32, "txId").toString("hex");
  const n = r.u64Number("pulse");
  const reason = readText(r, 64, "reason");
  const message = readText(r, 512, "message");
  r.end("status");
  // One encoding per status: the fields a state does not use are zero and empty.
  if (state !== "rejected" && (message !== "" || reason !== "" || (state !== "accepted" && n !== 0)))
    throw new DecodeError(`a ${state} status carries fields it does not use`);
  if (state === "rejected" && reason === "") throw new DecodeError("a rejection names its reason");
  if (state === "accepted") return { txId, state, pulse: n };
  if (state === "rejected") return { txId, state, slot: n, reason: reason as RejectReason, message };
  return { txId, state };
}

/** A receipt a party's node checked: the transaction, its pulse, and the party's proof there. */
export interface CheckedReceipt {
  readonly tx: Tx;
  readonly txBytes: Buffer;
  readonly final: CertifiedPulse;
  readonly proofs: readonly ProvenAccount[];
}

/**
 * Reads a Receipt response and checks it: the transaction is the one asked for, its pulse is final
 * (`certified` checks the proof of finality), the proofs verify.
 */
export async function checkReceipt(
  body: Uint8Array,
  txId: Buffer,
  certified: (bytes: Uint8Array) => Promise<CertifiedPulse>,
  parties: readonly Buffer[],
): Promise<CheckedReceipt> {
  const [finalBytes, txb, ...entries] = decodeList(body, 2 + MAX_ACCOUNTS_PER_REQUEST, "receipt");
  if (finalBytes === undefined || txb === undefined) throw new DecodeError("a receipt has a pulse and a tx");
  const tx = verifiedTx(txb);
  if (!tx.id.equals(txId)) throw new DecodeError("the receipt is for another transaction");
  if (entries.length !== parties.length) throw new DecodeError("the receipt does not prove each party asked");
  const final = await certified(finalBytes);
  const proofs = entries.map((e, i) => checkProven(e, parties[i]!, final));
  return { tx, txBytes: txb, final, proofs };
}
