/** A reference model of transfers and policy changes, to check the ledger's verdicts against. */
import { strict as assert } from "node:assert";
import { accountId } from "../../src/crypto/account-id.js";
import { signingPayload } from "../../src/crypto/domain.js";
import { Verifier } from "../../src/crypto/ed25519.js";
import { type Account, Policy } from "../../src/ledger/account.js";
import { type Tx, TxKind } from "../../src/ledger/tx.js";
import { decodeTx } from "../../src/ledger/tx-codec.js";
import { DecodeError } from "../../src/util/bytes.js";
import { hex } from "./ledger-signers.js";

/**
 * Reference model of transfers and policy changes, written from docs/PROTOCOL.md §8.4 (not from
 * rules.ts): canonical order (actor, nonce, id, then signatures), one accepted copy per id, expiry,
 * no actor as the organization, nonce + 1, amount > 0, no self-transfer, the payee's
 * countersignature unless it accepts all, and a spend of at most what the payer held at the start
 * of the pulse less what it already spent in it. Assumes every transaction is for this
 * organization.
 */
export class TransferModel {
  private readonly verifier = new Verifier();
  private readonly amounts = new Map<string, bigint>();
  private readonly nonces = new Map<string, bigint>();
  private readonly policies = new Map<string, Policy>();

  constructor(
    private readonly org: Buffer,
    ids: readonly Buffer[],
    read: (id: Buffer) => Account | undefined,
  ) {
    for (const id of ids) {
      const a = read(id);
      if (a === undefined) continue;
      assert.equal(a.deposit + a.frozen, 0n, "the model knows no locked funds");
      this.amounts.set(hex(id), a.amount);
      this.nonces.set(hex(id), a.nonce);
      this.policies.set(hex(id), a.policy);
    }
  }

  amount(id: Buffer): bigint {
    return this.amounts.get(hex(id)) ?? 0n;
  }

  nonce(id: Buffer): bigint {
    return this.nonces.get(hex(id)) ?? 0n;
  }

  /**
   * Applies one pulse's encoded transactions; returns whether each (in submission order) is
   * accepted. Undecodable bytes, a signer key that is not the account's and a signature that does
   * not verify are refused before the rules.
   */
  pulse(pulse: number, batch: readonly Uint8Array[]): boolean[] {
    const decoded = batch.map((bytes) => {
      try {
        return decodeTx(bytes);
      } catch (err) {
        if (err instanceof DecodeError) return undefined;
        throw err;
      }
    });
    const ok = batch.map(() => false);
    const idx = decoded.flatMap((tx, i) => (tx !== undefined && this.signedRight(tx) ? [i] : []));
    const txs = idx.map((i) => decoded[i]!);
    const accepted = this.apply(pulse, txs);
    idx.forEach((i, k) => {
      ok[i] = accepted[k]!;
    });
    return ok;
  }

  /** The payer's (then the payee's) key and a valid signature in each place. */
  private signedRight(tx: Tx): boolean {
    const b = tx.body as { actor: Buffer; to?: Buffer };
    const ids = [b.actor, b.to];
    const payload = signingPayload(tx.bodyBytes);
    return tx.signatures.every(
      (s, i) =>
        accountId(s.publicKey).equals(ids[i]!) && this.verifier.verify(s.signature, payload, s.publicKey),
    );
  }

  private apply(pulse: number, txs: readonly Tx[]): boolean[] {
    const start = new Map(this.amounts);
    const spent = new Map<string, bigint>();
    const seen = new Set<string>();
    const order = txs.map((_, i) => i);
    order.sort((i, j) => {
      const a = txs[i]!.body as { actor: Buffer; nonce: bigint };
      const b = txs[j]!.body as { actor: Buffer; nonce: bigint };
      return (
        Buffer.compare(a.actor, b.actor) ||
        (a.nonce === b.nonce ? 0 : a.nonce < b.nonce ? -1 : 1) ||
        Buffer.compare(txs[i]!.id, txs[j]!.id) ||
        compareSignatures(txs[i]!, txs[j]!)
      );
    });
    const ok = txs.map(() => false);
    for (const i of order) {
      const tx = txs[i]!;
      const b = tx.body;
      if (b.kind !== TxKind.Transfer && b.kind !== TxKind.SetPolicy) throw new Error("model: unknown kind");
      const actor = hex(b.actor);
      if (seen.has(hex(tx.id)) || pulse > b.expiry || b.actor.equals(this.org)) continue;
      if (b.nonce !== this.nonce(b.actor) + 1n) continue;
      if (b.kind === TxKind.SetPolicy) {
        this.policies.set(actor, b.policy);
      } else {
        const to = hex(b.to);
        const payeeAccepts = tx.signatures.length === 2 || this.policies.get(to) === Policy.AcceptAll;
        const avail = (start.get(actor) ?? 0n) - (spent.get(actor) ?? 0n);
        if (b.amount === 0n || to === actor || !payeeAccepts || b.amount > avail) continue;
        spent.set(actor, (spent.get(actor) ?? 0n) + b.amount);
        this.amounts.set(actor, this.amount(b.actor) - b.amount);
        this.amounts.set(to, this.amount(b.to) + b.amount);
      }
      this.nonces.set(actor, this.nonce(b.actor) + 1n);
      seen.add(hex(tx.id));
      ok[i] = true;
    }
    return ok;
  }
}

/** Copies of one body: fewer signatures first, then each public key and signature bytewise. */
function compareSignatures(a: Tx, b: Tx): number {
  const d = a.signatures.length - b.signatures.length;
  if (d !== 0) return d;
  for (const [k, x] of a.signatures.entries()) {
    const y = b.signatures[k]!;
    const c = Buffer.compare(x.publicKey, y.publicKey) || Buffer.compare(x.signature, y.signature);
    if (c !== 0) return c;
  }
  return 0;
}
