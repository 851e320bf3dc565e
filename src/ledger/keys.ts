/**
 * Database keys. Every key starts with a one-byte bucket id; bucket numbers are never reused.
 * Layout (docs/PROTOCOL.md, "Ledger store"):
 *   META  0x01 | name (ascii)                               -> value
 *   ROOT  0x02 | u64 pulse                                   -> root record
 *   PAGE  0x03 | u8 level | prefix[level] | u64 version      -> tree page
 *   STALE 0x04 | u64 stalePulse | target                     -> (empty): target not in the state from stalePulse on
 *   DATA  0x05 | id[20] | dataHash[32]                       -> account data (the preimage of a leaf's dataHash)
 *   TX    0x06 | txId[32]                                   -> u64 pulse | the encoded transaction (optional index)
 *   BATCH 0x07 | u64 pulse                                   -> txId[32] * n: the pulse's accepted transactions, in order
 *   CERT  0x08 | u64 pulse                                   -> the pulse's finality certificate (opaque bytes)
 * A STALE target is a PAGE key (its version is its last 8 bytes), or a DATA key followed by the u64
 * pulse that wrote it.
 */

/** Bucket ids. Append only. */
export const Bucket = {
  Meta: 0x01,
  Root: 0x02,
  Page: 0x03,
  Stale: 0x04,
  Data: 0x05,
  Tx: 0x06,
  Batch: 0x07,
  Cert: 0x08,
} as const;

/** A META key. */
export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([Bucket.Meta]), Buffer.from(name, "ascii")]);
}

/** A bucket id followed by a u64 pulse (ROOT, BATCH and CERT keys). */
function pulseKey(bucket: number, pulse: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = bucket;
  k.writeBigUInt64BE(BigInt(pulse), 1);
  return k;
}

/** The ROOT key of a pulse. */
export function rootKey(pulse: number): Buffer {
  return pulseKey(Bucket.Root, pulse);
}

/** The BATCH key of a pulse: the ids of its accepted transactions (with the TX index). */
export function batchKey(pulse: number): Buffer {
  return pulseKey(Bucket.Batch, pulse);
}

/** The CERT key of a pulse: the certificate that made it final. */
export function certKey(pulse: number): Buffer {
  return pulseKey(Bucket.Cert, pulse);
}

/** The pulse of a ROOT key. */
export function pulseOfRootKey(k: Buffer): number {
  return Number(k.readBigUInt64BE(1));
}

/** The PAGE key of the page at `level` under the first `level` bytes of `key`, written at `version`. */
export function pageKey(level: number, key: Uint8Array, version: number): Buffer {
  const k = Buffer.allocUnsafe(2 + level + 8);
  k[0] = Bucket.Page;
  k[1] = level;
  k.set(key.subarray(0, level), 2);
  k.writeBigUInt64BE(BigInt(version), 2 + level);
  return k;
}

/** The STALE key that records `page` leaving the tree at `pulse`. */
export function staleKey(pulse: number, page: Buffer): Buffer {
  const k = Buffer.allocUnsafe(9 + page.length);
  k[0] = Bucket.Stale;
  k.writeBigUInt64BE(BigInt(pulse), 1);
  page.copy(k, 9);
  return k;
}

/** Splits a STALE key into its pulse and target. */
export function parseStaleKey(k: Buffer): { pulse: number; page: Buffer } {
  return { pulse: Number(k.readBigUInt64BE(1)), page: k.subarray(9) };
}

/** The DATA key of an account's data. */
export function dataKey(id: Uint8Array, dataHash: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(53);
  k[0] = Bucket.Data;
  k.set(id, 1);
  k.set(dataHash, 21);
  return k;
}

/** The TX key of a transaction id (the index of accepted transactions). */
export function txKey(txId: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(33);
  k[0] = Bucket.Tx;
  k.set(txId, 1);
  return k;
}

/** The STALE target of account data written at pulse `version`. */
export function dataStaleTarget(id: Uint8Array, dataHash: Uint8Array, version: number): Buffer {
  const k = Buffer.allocUnsafe(61);
  dataKey(id, dataHash).copy(k, 0);
  k.writeBigUInt64BE(BigInt(version), 53);
  return k;
}

/** The key a STALE target deletes and the pulse it was written at. */
export function staleTarget(target: Buffer): { key: Buffer; version: number } {
  const version = Number(target.readBigUInt64BE(target.length - 8));
  return { key: target[0] === Bucket.Data ? target.subarray(0, target.length - 8) : target, version };
}

/** First and one-past-last key of a bucket. */
export function bucketRange(b: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([b]), lt: Buffer.from([b + 1]) };
}
