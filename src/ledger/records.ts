/**
 * Records a ledger keeps beside its tree so that a bookkeeper can replay final pulses to a peer that
 * restarted or joined late: each pulse's accepted transactions in order (BATCH, with the TX index)
 * and the certificate that made it final (CERT). Neither is pruned (docs/PROTOCOL.md §6). Also
 * reading an account from its leaf, shared by lookups and the walk of a pulse's accounts.
 */
import { TreeError } from "../smt/tree.js";
import { DecodeError } from "../util/bytes.js";
import { type Account, accountDataHash, decodeAccountData } from "./account.js";
import { batchKey, dataKey, txKey } from "./keys.js";
import type { CommitPut, LeafValue, RawGet } from "./store-types.js";
import type { Tx } from "./tx.js";

/** Bytes of a transaction id, the unit of a BATCH record. */
const TX_ID_BYTES = 32;

/** The BATCH record of a pulse: its accepted transactions' ids, in order of application. */
export function batchRecord(pulse: number, accepted: readonly Tx[]): CommitPut {
  return { key: batchKey(pulse), value: Buffer.concat(accepted.map((tx) => tx.id)) };
}

/**
 * The accepted transactions of a pulse, in order of application, read through its BATCH record and
 * the TX index; undefined if the pulse has no record. Throws TreeError CORRUPT if the two disagree.
 */
export function readBatch(get: RawGet, pulse: number): Buffer[] | undefined {
  const rec = get(batchKey(pulse));
  if (rec === undefined) return undefined;
  if (rec.length % TX_ID_BYTES !== 0)
    throw new TreeError("CORRUPT", `batch record of pulse ${pulse}: ${rec.length} bytes`);
  const out: Buffer[] = [];
  for (let at = 0; at < rec.length; at += TX_ID_BYTES) {
    const id = rec.subarray(at, at + TX_ID_BYTES);
    const raw = get(txKey(id));
    // The index entry is written in the same batch as the record, and with the same pulse.
    if (raw === undefined || raw.length < 8 || Number(raw.readBigUInt64BE(0)) !== pulse)
      throw new TreeError(
        "CORRUPT",
        `batch record of pulse ${pulse}: transaction ${id.toString("hex")} is not indexed at that pulse`,
      );
    out.push(Buffer.from(raw.subarray(8)));
  }
  return out;
}

/** The account whose leaf is `leaf`, its data read from the store and checked against the leaf. */
export function accountOfLeaf(get: RawGet, id: Buffer, leaf: LeafValue): Account {
  const raw = get(dataKey(id, leaf.dataHash));
  if (raw === undefined)
    throw new TreeError("CORRUPT", `account ${id.toString("hex")}: its data is missing from the store`);
  if (!accountDataHash(raw).equals(leaf.dataHash))
    throw new TreeError("CORRUPT", `account ${id.toString("hex")}: its data does not match its dataHash`);
  try {
    return { amount: leaf.amount, ...decodeAccountData(raw) };
  } catch (err) {
    if (err instanceof DecodeError) throw new TreeError("CORRUPT", `account data: ${err.message}`);
    throw err;
  }
}
