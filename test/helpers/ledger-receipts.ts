/**
 * Receipts and outcomes of the ledger tests: the parties a receipt must show, a check of a pulse's
 * receipts against its root and the ledger's accounts, and the JSON form of a pulse's outcome that
 * two processes compare byte for byte (with the input of test/helpers/ledger-replay.ts).
 */
import { strict as assert } from "node:assert";
import { accountDataHash, encodeAccountData } from "../../src/ledger/account.js";
import type { Ledger, PulseOutcome } from "../../src/ledger/ledger.js";
import type { TxResult } from "../../src/ledger/state-machine.js";
import { type Tx, type TxBody, TxKind } from "../../src/ledger/tx.js";
import { decodeTx } from "../../src/ledger/tx-codec.js";
import type { Summary } from "../../src/smt/hash.js";
import { type ProofJson, proofToJson } from "../../src/smt/proof.js";
import { verifyProof } from "../../src/smt/verify.js";
import { DecodeError } from "../../src/util/bytes.js";
import { hex } from "./ledger-signers.js";

/** The accounts a transaction's receipt must show, written per kind from the protocol's prose. */
export function expectedParties(b: TxBody, org: Buffer): Buffer[] {
  const ids =
    b.kind === TxKind.Genesis
      ? [b.org, b.params.supervisor, ...b.params.distribution.map((l) => l.to)]
      : b.kind === TxKind.Transfer
        ? [b.actor, b.to]
        : b.kind === TxKind.Distribute
          ? [b.actor, org, b.to]
          : b.kind === TxKind.Approve
            ? [b.actor, b.applicant]
            : b.kind === TxKind.SetRole
              ? [b.actor, b.target]
              : b.kind === TxKind.Reward
                ? [org, ...b.recipients]
                : b.kind === TxKind.Forfeit
                  ? [org, ...b.candidates]
                  : [b.actor];
  return [...new Map(ids.map((id) => [hex(id), id])).values()];
}

/**
 * Checks a pulse's receipts: one per accepted transaction in order of application, each on the
 * pulse's root, with a proof per party that verifies against that root and shows the party's leaf
 * as the ledger holds it (amount and the hash of its data).
 */
export function checkReceipts(ledger: Ledger, out: PulseOutcome, batch: readonly Uint8Array[]): void {
  const byId = new Map<string, Tx>();
  for (const bytes of batch) {
    try {
      const tx = decodeTx(bytes);
      byId.set(hex(tx.id), tx);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  const accepted = out.results
    .filter((r): r is Extract<TxResult, { ok: true }> => r.ok)
    .sort((a, b) => a.position - b.position)
    .map((r) => hex(r.txId));
  assert.deepEqual(
    out.receipts.map((r) => hex(r.txId)),
    accepted,
    "a receipt per accepted transaction",
  );
  for (const r of out.receipts) {
    const org = ledger.org!.id; // there is a receipt, so there is an organization
    assert.equal(r.pulse, out.pulse);
    assert.deepEqual(summaryJson(r.root), summaryJson(out.root));
    const tx = byId.get(hex(r.txId));
    assert.ok(tx !== undefined, "a receipt for a transaction of the batch");
    assert.deepEqual(
      r.proofs.map((p) => hex(p.id)).sort(),
      expectedParties(tx.body, org).map(hex).sort(),
      "the receipt shows exactly the parties",
    );
    for (const { id, proof } of r.proofs) {
      const a = ledger.account(id);
      // A reward's recipient may have no leaf (a reward of 0 credits no one): its proof shows the absence.
      if (a === undefined && tx.body.kind === TxKind.Reward) {
        assert.deepEqual(verifyProof(proof, r.root), { result: "exclusion" }, `proof of ${hex(id)}`);
        continue;
      }
      assert.deepEqual(verifyProof(proof, r.root), { result: "inclusion" }, `proof of ${hex(id)}`);
      assert.ok(a !== undefined);
      const t = proof.terminal;
      assert.ok(t !== null && t.kind === "leaf" && Buffer.from(t.id).equals(id));
      assert.equal(t.amount, a.amount);
      assert.equal(hex(t.dataHash), hex(accountDataHash(encodeAccountData(a))));
    }
  }
}

/** A root synopsis as JSON (hex hash, decimal sum). */
export function summaryJson(s: Summary): { hash: string; sum: string; count: number } {
  return { hash: hex(s.hash), sum: s.sum.toString(), count: s.count };
}

/** A pulse's outcome as plain JSON: everything but the timings, bigints as decimal strings. */
export interface OutcomeJson {
  pulse: number;
  root: { hash: string; sum: string; count: number };
  issued: string;
  accountsChanged: number;
  results: (
    | { txId: string; ok: true; position: number }
    | { txId: string | null; ok: false; reason: string; message: string }
  )[];
  receipts: {
    txId: string;
    pulse: number;
    root: { hash: string; sum: string; count: number };
    proofs: { id: string; proof: ProofJson }[];
  }[];
}

export function outcomeJson(out: PulseOutcome): OutcomeJson {
  return {
    pulse: out.pulse,
    root: summaryJson(out.root),
    issued: out.issued.toString(),
    accountsChanged: out.accountsChanged,
    results: out.results.map((r) =>
      r.ok
        ? { txId: hex(r.txId), ok: true as const, position: r.position }
        : {
            txId: r.txId === undefined ? null : hex(r.txId),
            ok: false as const,
            reason: r.reason,
            message: r.message,
          },
    ),
    receipts: out.receipts.map((r) => ({
      txId: hex(r.txId),
      pulse: r.pulse,
      root: summaryJson(r.root),
      proofs: r.proofs.map((p) => ({ id: hex(p.id), proof: proofToJson(p.proof) })),
    })),
  };
}

/** The input of test/helpers/ledger-replay.ts: pulses with their transactions in hex. */
export interface ReplayInput {
  pulses: { pulse: number; txs: string[] }[];
}
