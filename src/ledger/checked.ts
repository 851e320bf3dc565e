/**
 * The part of a pulse that needs no state: decoding a batch and verifying its signatures (across
 * cores, through the verifier). A bookkeeper runs it on the next pulse's transactions while the
 * current pulse commits, and hands the result to Ledger.applyPulse or Ledger.prepare.
 */
import { signingPayload } from "../crypto/domain.js";
import { verifiedSignatures } from "../crypto/verified.js";
import type { BatchVerifier, SigItem } from "../crypto/verify-batch.js";
import { DecodeError } from "../util/bytes.js";
import { keysMatch } from "./rules.js";
import type { BatchItem, StaticCheck } from "./state-machine.js";
import type { Tx } from "./tx.js";
import { decodeTx, signerIds } from "./tx-codec.js";

const CHECKED = Symbol("checked");

/** A batch decoded and its signatures verified (Ledger.check), ready for applyPulse. */
export interface CheckedBatch {
  readonly [CHECKED]: true;
  readonly decoded: readonly (Tx | string)[];
  readonly items: readonly BatchItem[];
  readonly decodeMs: number;
  readonly verifyMs: number;
}

/** Whether `x` came out of a check (and is not a list of encoded transactions). */
export function isChecked(x: readonly Uint8Array[] | CheckedBatch): x is CheckedBatch {
  return (x as CheckedBatch)[CHECKED] === true;
}

/** One batch of several checked ones, in order. */
export function mergeChecked(batches: readonly CheckedBatch[]): CheckedBatch {
  return {
    [CHECKED]: true,
    decoded: batches.flatMap((b) => b.decoded),
    items: batches.flatMap((b) => b.items),
    decodeMs: batches.reduce((a, b) => a + b.decodeMs, 0),
    verifyMs: batches.reduce((a, b) => a + b.verifyMs, 0),
  };
}

/** Decodes `txs` (a reason for each that does not decode) and verifies the signatures of the rest. */
export async function checkBatch(verifier: BatchVerifier, txs: readonly Uint8Array[]): Promise<CheckedBatch> {
  const t0 = performance.now();
  const decoded: (Tx | string)[] = txs.map((bytes) => {
    try {
      return decodeTx(bytes);
    } catch (err) {
      if (err instanceof DecodeError) return err.message;
      throw err;
    }
  });
  const t1 = performance.now();
  const items = await checkStatic(
    verifier,
    decoded.filter((d): d is Tx => typeof d !== "string"),
  );
  return { [CHECKED]: true, decoded, items, decodeMs: t1 - t0, verifyMs: performance.now() - t1 };
}

/** Like checkBatch, for transactions already decoded. */
export async function checkDecoded(verifier: BatchVerifier, txs: readonly Tx[]): Promise<CheckedBatch> {
  const t0 = performance.now();
  const items = await checkStatic(verifier, txs);
  return { [CHECKED]: true, decoded: txs, items, decodeMs: 0, verifyMs: performance.now() - t0 };
}

/** Signers' keys against their ids, then every signature of the batch in one verifier call. */
async function checkStatic(verifier: BatchVerifier, txs: readonly Tx[]): Promise<BatchItem[]> {
  const checks: StaticCheck[] = txs.map((tx) => (keysMatch(tx, signerIds(tx.body)) ? "OK" : "KEY_MISMATCH"));
  const sigs: SigItem[] = [];
  const owner: number[] = [];
  txs.forEach((tx, i) => {
    if (checks[i] !== "OK") return;
    const message = signingPayload(tx.bodyBytes);
    for (const s of tx.signatures) {
      // Verified here already (on arrival, or in a proposal of an earlier round): not again.
      if (verifiedSignatures.has(s.publicKey, s.signature, message)) continue;
      sigs.push({ publicKey: s.publicKey, message, signature: s.signature });
      owner.push(i);
    }
  });
  const ok = await verifier.verifyBatch(sigs);
  for (let j = 0; j < sigs.length; j++) {
    const s = sigs[j]!;
    if (ok[j] === 1) verifiedSignatures.add(s.publicKey, s.signature, s.message);
    else checks[owner[j]!] = "BAD_SIGNATURE";
  }
  return txs.map((tx, i) => ({ tx, check: checks[i]! }));
}
