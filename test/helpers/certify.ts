/**
 * Finality certificates for a test ledger's pulses, as a committee would make them (src/pulse/
 * certificate.ts): every signer precommits round 0's value for the pulse's root and batch. With them a
 * test serves what a bookkeeper serves (src/org/bookkeeping.ts): each pulse's certificate, or the
 * genesis pulse's number.
 */
import type { Signer } from "../../src/crypto/ed25519.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { genesisProof } from "../../src/org/committee-chain.js";
import { committeeHash, encodeCertificate } from "../../src/pulse/certificate.js";
import { batchHashOf, valueIdOf } from "../../src/pulse/proposal.js";
import { Step, signVote } from "../../src/pulse/votes.js";

/** The certificate of `pulse` (committed in `ledger`) signed by `signers`; `next` defaults to their own committee. */
export function certificateOf(
  ledger: Ledger,
  pulse: number,
  signers: readonly Signer[],
  next: Buffer = committeeHash(signers.map((s) => s.id)),
): Buffer {
  const org = ledger.org!.id;
  const root = ledger.rootAt(pulse);
  const batchHash = batchHashOf(ledger.batchAt(pulse) ?? []);
  const value = valueIdOf(org, pulse, root, batchHash, next);
  const precommits = signers.map((s) => signVote({ org, pulse, round: 0, step: Step.Precommit, value }, s));
  return encodeCertificate({ org, pulse, round: 0, root, batchHash, next, precommits });
}

/** Each pulse's proof of finality: the genesis pulse's number for `genesisPulse`, else a certificate by `signers`. */
export function proofsBy(
  ledger: Ledger,
  signers: readonly Signer[],
  genesisPulse = 0,
): (pulse: number) => Buffer {
  return (pulse) => (pulse === genesisPulse ? genesisProof(pulse) : certificateOf(ledger, pulse, signers));
}
