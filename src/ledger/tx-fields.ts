/**
 * Field encodings shared by the transaction codec (tx-codec.ts, docs/PROTOCOL.md §8.3): account ids
 * and integers checked on the way out, and the genesis parameters, the largest body.
 */
import { MAX_U64 } from "../smt/hash.js";
import type { Reader, Writer } from "../util/bytes.js";
import { DecodeError } from "../util/bytes.js";
import { readText, writeText } from "../util/text.js";
import { type DistributionLine, type OrgParams, TX_LIMITS } from "./tx.js";

/** Writes the genesis parameters (everything of a genesis body after org). */
export function writeParams(w: Writer, p: OrgParams): void {
  writeText(w, p.name, TX_LIMITS.name, "name");
  id(w, p.supervisor, "supervisor");
  w.u32(uint(p.pulsePeriodMs, 0xffffffff, "pulsePeriodMs"));
  w.u32(uint(p.electionCycle, 0xffffffff, "electionCycle"));
  w.u32(uint(p.publicityPeriod, 0xffffffff, "publicityPeriod"));
  w.u16(uint(p.committeeSize, 0xffff, "committeeSize"));
  u64(w, p.minDeposit, "minDeposit");
  u64(w, p.supply, "supply");
  if (p.distribution.length > TX_LIMITS.distributionLines)
    throw new RangeError(`at most ${TX_LIMITS.distributionLines} distribution lines`);
  w.uvarint(p.distribution.length);
  for (const line of p.distribution) {
    id(w, line.to, "distribution to");
    u64(w, line.amount, "distribution amount");
    writeText(w, line.reason, TX_LIMITS.reason, "distribution reason");
  }
  if (p.committee.length > 0xffff) throw new RangeError("at most 65535 committee members");
  w.u16(p.committee.length);
  for (const member of p.committee) id(w, member, "committee member");
  u64(w, p.miningReward ?? 0n, "miningReward");
}

/** Reads the genesis parameters. */
export function readParams(r: Reader): OrgParams {
  const name = readText(r, TX_LIMITS.name, "name");
  const supervisor = readId(r, "supervisor");
  const pulsePeriodMs = r.u32("pulsePeriodMs");
  const electionCycle = r.u32("electionCycle");
  const publicityPeriod = r.u32("publicityPeriod");
  const committeeSize = r.u16("committeeSize");
  const minDeposit = r.u64("minDeposit");
  const supply = r.u64("supply");
  const n = r.uvarintNumber("distribution lines");
  if (n > TX_LIMITS.distributionLines)
    throw new DecodeError(`${n} distribution lines, more than ${TX_LIMITS.distributionLines}`);
  const distribution: DistributionLine[] = [];
  for (let i = 0; i < n; i++) {
    const to = readId(r, "distribution to");
    const amount = r.u64("distribution amount");
    distribution.push({ to, amount, reason: readText(r, TX_LIMITS.reason, "distribution reason") });
  }
  const members = r.u16("committee members");
  const committee: Buffer[] = [];
  for (let i = 0; i < members; i++) committee.push(readId(r, "committee member"));
  const miningReward = r.u64("miningReward");
  return {
    name,
    supervisor,
    pulsePeriodMs,
    electionCycle,
    publicityPeriod,
    committeeSize,
    minDeposit,
    supply,
    distribution,
    committee,
    miningReward,
  };
}

/** Writes a 20-byte account id; RangeError for another length. */
export function id(w: Writer, v: Uint8Array, what: string): void {
  w.exact(v, 20, `${what} (an account id)`);
}

/** Writes a u64; RangeError for a value outside it. */
export function u64(w: Writer, v: bigint, what: string): void {
  if (typeof v !== "bigint" || v < 0n || v > MAX_U64)
    throw new RangeError(`${what} must be a u64, got ${String(v)}`);
  w.u64(v);
}

/** `v` if it is an integer in 0..max; RangeError otherwise. */
export function uint(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`${what} must be an integer in 0..${max}`);
  return v;
}

/** Reads a 20-byte account id. */
export function readId(r: Reader, what: string): Buffer {
  return Buffer.from(r.bytes(20, what));
}
