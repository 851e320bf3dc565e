/**
 * The verified-signature cache (src/crypto/verified.ts): a signature verified once is not verified
 * again, in the ledger's batch check or by a Verifier; only the same (key, signature, message) hits,
 * and a failure is never remembered.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateKeyPair, Signer, Verifier } from "../src/crypto/ed25519.js";
import { VerifiedSignatures, verifiedSignatures } from "../src/crypto/verified.js";
import { type BatchVerifier, InlineVerifier, type SigItem } from "../src/crypto/verify-batch.js";
import { checkBatch } from "../src/ledger/checked.js";
import { TxKind } from "../src/ledger/tx.js";
import { signTx } from "../src/ledger/tx-codec.js";

/** Counts the signatures it is asked to verify. */
class Counting implements BatchVerifier {
  asked = 0;
  private readonly inner = new InlineVerifier();
  verifyBatch(items: readonly SigItem[]): Promise<Uint8Array> {
    this.asked += items.length;
    return this.inner.verifyBatch(items);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe("verified signatures", () => {
  it("remembers exactly the triples that verified", () => {
    const s = new Signer(generateKeyPair());
    const m = Buffer.from("a message");
    const sig = s.sign(m);
    const cache = new VerifiedSignatures(16);
    assert.equal(cache.has(s.publicKey, sig, m), false);
    cache.add(s.publicKey, sig, m);
    assert.equal(cache.has(s.publicKey, sig, m), true);
    const other = Buffer.from(sig);
    other[5]! ^= 1;
    assert.equal(cache.has(s.publicKey, other, m), false, "another signature");
    assert.equal(cache.has(s.publicKey, sig, Buffer.from("another message")), false);
    // A Verifier shares the process's cache: a forged signature is verified (and refused) each time.
    const v = new Verifier();
    assert.equal(v.verify(other, m, s.publicKey), false);
    assert.equal(verifiedSignatures.has(s.publicKey, other, m), false, "a failure is not kept");
    assert.equal(v.verify(sig, m, s.publicKey), true);
    assert.equal(verifiedSignatures.has(s.publicKey, sig, m), true);
  });

  it("a batch checked once costs no verification the second time; a changed signature does", async () => {
    const payer = new Signer(generateKeyPair());
    const payee = new Signer(generateKeyPair());
    const org = Buffer.alloc(20, 1);
    const txs = [1n, 2n, 3n].map(
      (nonce) =>
        signTx({ kind: TxKind.Transfer, org, actor: payer.id, nonce, expiry: 10, to: payee.id, amount: 1n }, [
          payer,
          payee,
        ]).bytes,
    );
    const v = new Counting();
    const first = await checkBatch(v, txs);
    assert.equal(v.asked, 6);
    assert.ok(first.items.every((i) => i.check === "OK"));
    const again = await checkBatch(v, txs);
    assert.equal(v.asked, 6, "nothing verified again");
    assert.ok(again.items.every((i) => i.check === "OK"));
    // The payee's signature of the first transfer flipped: that one is verified, and refused.
    const forged = Buffer.from(txs[0]!);
    forged[forged.length - 1]! ^= 1;
    const bad = await checkBatch(v, [forged]);
    assert.equal(v.asked, 7);
    assert.equal(bad.items[0]!.check, "BAD_SIGNATURE");
  });
});
