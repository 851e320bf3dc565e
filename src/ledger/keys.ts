/**
 * Database keys. Every key starts with a one-byte bucket id; bucket numbers are never reused.
 * Layout (docs/PROTOCOL.md, "Ledger store"):
 *   META  0x01 | name (ascii)                               -> value
 *   ROOT  0x02 | u64 pulse                                   -> root record
 *   PAGE  0x03 | u8 level | prefix[level] | u64 version      -> tree page
 *   STALE 0x04 | u64 stalePulse | page key                   -> (empty): page not in the tree from stalePulse on
 */

/** Bucket ids. Append only. */
export const Bucket = {
  Meta: 0x01,
  Root: 0x02,
  Page: 0x03,
  Stale: 0x04,
} as const;

/** A META key. */
export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([Bucket.Meta]), Buffer.from(name, "ascii")]);
}

/** The ROOT key of a pulse. */
export function rootKey(pulse: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = Bucket.Root;
  k.writeBigUInt64BE(BigInt(pulse), 1);
  return k;
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

/** The version of a PAGE key. */
export function versionOfPageKey(k: Buffer): number {
  return Number(k.readBigUInt64BE(k.length - 8));
}

/** The STALE key that records `page` leaving the tree at `pulse`. */
export function staleKey(pulse: number, page: Buffer): Buffer {
  const k = Buffer.allocUnsafe(9 + page.length);
  k[0] = Bucket.Stale;
  k.writeBigUInt64BE(BigInt(pulse), 1);
  page.copy(k, 9);
  return k;
}

/** Splits a STALE key into its pulse and page key. */
export function parseStaleKey(k: Buffer): { pulse: number; page: Buffer } {
  return { pulse: Number(k.readBigUInt64BE(1)), page: k.subarray(9) };
}

/** First and one-past-last key of a bucket. */
export function bucketRange(b: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([b]), lt: Buffer.from([b + 1]) };
}
