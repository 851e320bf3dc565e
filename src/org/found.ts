/**
 * Founding an organization: a fresh organization key signs the genesis (the organization's id is
 * that key's account id), with this node's account as the first supervisor and, optionally, a first
 * committee of several bookkeepers (by default the supervisor keeps the books alone in cycle 0). The
 * organization key is kept in the data dir (`orgs/<org id>.json`, mode 0600): it signed the genesis
 * and nothing else signs with it today.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, Signer } from "../crypto/ed25519.js";
import { writeKeyFile } from "../crypto/keyfile.js";
import { paramsProblem } from "../ledger/rules.js";
import type { OrgParams } from "../ledger/tx.js";
import { TxKind } from "../ledger/tx.js";
import { signTx } from "../ledger/tx-codec.js";

/** What the founder chooses; the rest has defaults. */
export interface FoundOptions {
  /** 1-64 bytes of UTF-8. */
  readonly name: string;
  /** The founder's account: first supervisor, and holder of `founderAmount`. */
  readonly founder: Buffer;
  readonly pulsePeriodMs: number;
  /** Tokens issued at genesis. @default 1,000,000,000 */
  readonly supply?: bigint;
  /** Tokens the founder's account gets; the rest stays in the organization's account. @default 1,000,000 */
  readonly founderAmount?: bigint;
  /** The folder the organization's key is written to, as `<org id>.json`. */
  readonly keyDir: string;
  /** Seal the organization key with this passphrase. */
  readonly passphrase?: string;
  /**
   * The first committee (cycle 0's) in drawn order, the first being round 0's proposer. The founder
   * need not be in it (its node then keeps the books as an observer). @default [] (the founder alone)
   */
  readonly committee?: readonly Buffer[];
  /** Pulses per election cycle (at least 4). @default 1800 */
  readonly electionCycle?: number;
  /** Bookkeepers per committee. @default max(1, committee.length) */
  readonly committeeSize?: number;
  /** Smallest deposit of a bookkeeper candidate. @default 1000 */
  readonly minDeposit?: bigint;
  /** Tokens paid to the committee for each final pulse, from the organization's account. @default 0 */
  readonly miningReward?: bigint;
}

/** Why the founding parameters cannot make a genesis. */
export class FoundError extends Error {
  override name = "FoundError";
}

/** Makes the organization key and the signed genesis; returns the genesis bytes and the org id. */
export async function foundOrganization(
  o: FoundOptions,
): Promise<{ org: Buffer; genesis: Buffer; keyPath: string }> {
  const supply = o.supply ?? 1_000_000_000n;
  const founderAmount = o.founderAmount ?? 1_000_000n;
  if (founderAmount > supply)
    throw new FoundError(`the founder's amount ${founderAmount} is more than the supply ${supply}`);
  const committee = [...(o.committee ?? [])];
  const kp = generateKeyPair();
  const params: OrgParams = {
    name: o.name,
    supervisor: o.founder,
    pulsePeriodMs: o.pulsePeriodMs,
    electionCycle: o.electionCycle ?? 1800,
    publicityPeriod: 86_400,
    committeeSize: o.committeeSize ?? Math.max(1, committee.length),
    minDeposit: o.minDeposit ?? 1000n,
    supply,
    distribution: founderAmount === 0n ? [] : [{ to: o.founder, amount: founderAmount, reason: "founder" }],
    committee,
    miningReward: o.miningReward ?? 0n,
  };
  const problem = paramsProblem(kp.id, params);
  if (problem !== undefined) throw new FoundError(problem);
  let bytes: Buffer;
  try {
    bytes = signTx({ kind: TxKind.Genesis, org: kp.id, params }, [new Signer(kp)]).bytes;
  } catch (err) {
    // The encoder refuses what the format cannot hold (a name past 64 bytes, control characters).
    throw new FoundError((err as Error).message);
  }
  await mkdir(o.keyDir, { recursive: true, mode: 0o700 });
  const keyPath = join(o.keyDir, `${kp.id.toString("hex")}.json`);
  await writeKeyFile(keyPath, kp, o.passphrase === undefined ? {} : { passphrase: o.passphrase });
  return { org: kp.id, genesis: bytes, keyPath };
}
