/**
 * Test ledgers: a Chain (one organization's Ledger on a MemoryKV with its transaction builder),
 * verdict helpers, an organization with its genesis applied, a society of members and candidates,
 * and a MapView to run the pure `transition` on states no ledger would hold.
 */
import { strict as assert } from "node:assert";
import type { Signer } from "../../src/crypto/ed25519.js";
import { InlineVerifier } from "../../src/crypto/verify-batch.js";
import { type Account, Role } from "../../src/ledger/account.js";
import { Ledger, type LedgerOptions, type PulseOutcome } from "../../src/ledger/ledger.js";
import { MemoryKV } from "../../src/ledger/memory-kv.js";
import type { BatchItem, LedgerView, OrgInfo, TxResult } from "../../src/ledger/state-machine.js";
import type { OrgParams } from "../../src/ledger/tx.js";
import { decodeTx } from "../../src/ledger/tx-codec.js";
import type { Summary } from "../../src/smt/hash.js";
import { type Cast, genesisTx, hex, idOf, orgParams, Txs } from "./ledger-signers.js";

/** One verifier for every test ledger: its cache of public keys outlives each ledger (they are few). */
const SHARED_VERIFIER = new InlineVerifier();

/** A ledger of one organization on a MemoryKV, with its next pulse number and transaction builder. */
export class Chain {
  readonly txs: Txs;
  /** Every pulse applied through `pulse`, as submitted (the determinism test replays them). */
  readonly log: { pulse: number; txs: readonly Uint8Array[] }[] = [];

  constructor(
    readonly ledger: Ledger,
    org: Buffer,
    /** The next pulse to apply. */
    public next = 0,
  ) {
    this.txs = new Txs(org);
  }

  static async open(org: Buffer, opts: LedgerOptions = {}): Promise<Chain> {
    return new Chain(await Ledger.open(new MemoryKV(), { verifier: SHARED_VERIFIER, ...opts }), org);
  }

  /** Applies the next pulse. */
  pulse(txs: readonly Uint8Array[]): Promise<PulseOutcome> {
    this.log.push({ pulse: this.next, txs });
    return this.ledger.applyPulse(this.next++, txs);
  }

  account(who: Signer | Buffer): Account | undefined {
    return this.ledger.account(idOf(who));
  }

  amount(who: Signer | Buffer): bigint {
    return this.account(who)?.amount ?? 0n;
  }

  /** The nonce the account's next transaction carries. */
  nonce(who: Signer | Buffer): bigint {
    return (this.account(who)?.nonce ?? 0n) + 1n;
  }

  root(): Summary {
    return this.ledger.rootAt();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}

/** "OK" or the reject reason of each result, in submission order. */
export function verdicts(out: PulseOutcome): string[] {
  return out.results.map(verdict);
}

export function verdict(r: TxResult): string {
  return r.ok ? "OK" : r.reason;
}

/** Asserts every transaction of a pulse was accepted (setup pulses). */
export function allOk(out: PulseOutcome): void {
  assert.deepEqual(
    verdicts(out).filter((v) => v !== "OK"),
    [],
    `pulse ${out.pulse}: ${JSON.stringify(out.results.filter((r) => !r.ok))}`,
  );
}

/** Organization A with its genesis applied at pulse 0 (supply 1,000,000 unless said otherwise). */
export async function openOrg(
  cast: Cast,
  params: OrgParams = orgParams(cast.supervisor),
  opts: LedgerOptions = {},
): Promise<Chain> {
  const chain = await Chain.open(cast.orgKey.id, opts);
  allOk(await chain.pulse([genesisTx(cast.orgKey, params)]));
  return chain;
}

/** Minimum deposit of the society. */
export const MIN_DEPOSIT = 10n;

/**
 * An organization with members: users 0-4 members, 5-6 guests, 7+ not in it; users 0 and 1 are
 * candidates with MIN_DEPOSIT pledged. `amounts[i]` is user i's genesis holding (0: none); users 0
 * and 1 get at least MIN_DEPOSIT. Pulses 0-4 are the setup.
 */
export async function society(cast: Cast, amounts: readonly bigint[] = []): Promise<Chain> {
  const users = cast.users;
  const dist: [Signer, bigint][] = [[cast.supervisor, 100n]];
  users.forEach((u, i) => {
    const a = (amounts[i] ?? 100n) + (i < 2 ? MIN_DEPOSIT : 0n);
    if (a > 0n) dist.push([u, a]);
  });
  const chain = await openOrg(
    cast,
    orgParams(cast.supervisor, { distribution: dist, minDeposit: MIN_DEPOSIT }),
  );
  const t = chain.txs;
  const joining = users.slice(0, 7);
  allOk(await chain.pulse(joining.map((u) => t.apply(u, 1))));
  allOk(
    await chain.pulse(
      joining.map((u, i) => t.approve(cast.supervisor, u, i < 5 ? Role.Member : Role.Guest, i + 1)),
    ),
  );
  allOk(await chain.pulse(users.slice(0, 2).map((u) => t.pledge(u, MIN_DEPOSIT, 2))));
  allOk(await chain.pulse(users.slice(0, 2).map((u) => t.candidacy(u, true, 3))));
  return chain;
}

/** A LedgerView over a Map, to call `transition` on states no ledger would hold. */
export class MapView implements LedgerView {
  readonly accounts = new Map<string, Account>();

  constructor(readonly org: OrgInfo | undefined) {}

  set(id: Buffer, a: Account): this {
    this.accounts.set(hex(id), a);
    return this;
  }

  account(id: Buffer): Account | undefined {
    return this.accounts.get(hex(id));
  }
}

/** Decoded batch items whose signatures count as checked. */
export function okItems(batch: readonly Uint8Array[]): BatchItem[] {
  return batch.map((b) => ({ tx: decodeTx(b), check: "OK" as const }));
}
