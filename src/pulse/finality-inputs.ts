/**
 * What a checked message of the current pulse means to the engine (finality-round.ts): a vote, a
 * proposal (dropped if fresh and its transfers pass its proposer's deposit bound), or a peer's
 * certificate, which stands for its precommits.
 */
import { decodeCertificate, verifyCertificate } from "./certificate.js";
import { transfersOf } from "./finality-batch.js";
import { proposalIn } from "./finality-lock.js";
import type { FinalityValue } from "./finality-round.js";
import { decodeProposal } from "./proposal.js";
import type { Action, Height } from "./tendermint.js";
import { decodeVote, Step } from "./votes.js";

/** The value id of nil: 32 zero bytes. */
export const NIL = Buffer.alloc(32);

/** A precommit known only from a peer's certificate: the certificate stands for it. */
export type Raw = Buffer | { readonly certificate: Buffer };

/** One input to give the engine. */
export type EngineInput = (e: Height<FinalityValue>) => Action<FinalityValue>[];

/** What reading a message needs. */
export interface InputContext {
  readonly org: Buffer;
  readonly pulse: number;
  readonly committee: readonly Buffer[];
  /** The deposit bounding what a member proposes in this pulse, or undefined for none. */
  boundOf(id: Buffer): bigint | undefined;
  readonly log: { warn(o: object, m: string): void };
}

/** The engine inputs of message `b` (none if it is not for this organization and pulse); throws on bad bytes. */
export function engineInputs(b: Buffer, c: InputContext): EngineInput[] {
  const kind = b[1];
  if (kind === 0x46) {
    const v = decodeVote(b);
    if (!v.org.equals(c.org) || v.pulse !== c.pulse || v.step === Step.Propose) return [];
    return [
      (e) =>
        e.onVote({
          step: v.step === Step.Prevote ? "prevote" : "precommit",
          round: v.round,
          id: v.value.equals(NIL) ? null : v.value.toString("hex"),
          signer: v.signer.toString("hex"),
          raw: b,
        }),
    ];
  }
  if (kind === 0x48) {
    const p = decodeProposal(b);
    if (!p.org.equals(c.org) || p.pulse !== c.pulse) return [];
    if (p.validRound === -1) {
      const bound = c.boundOf(p.signer);
      const total = bound === undefined ? 0n : transfersOf(p.txs);
      if (bound !== undefined && total > bound) {
        c.log.warn(
          { pulse: c.pulse, round: p.round, signer: p.signer.toString("hex"), transfers: total, bound },
          "a proposal's transfers pass its proposer's deposit: dropped",
        );
        return [];
      }
    }
    return [(e) => e.onProposal(proposalIn(p, b))];
  }
  if (kind === 0x49) {
    const cert = decodeCertificate(b);
    if (!cert.org.equals(c.org) || cert.pulse !== c.pulse) return [];
    verifyCertificate(cert, c.committee);
    const raw: Raw = { certificate: b };
    return cert.signers.map(
      (s): EngineInput =>
        (e) =>
          e.onVote({
            step: "precommit",
            round: cert.round,
            id: cert.valueId.toString("hex"),
            signer: s.toString("hex"),
            raw,
          }),
    );
  }
  return [];
}

/** The signed vote inside a vote's or proposal's bytes. */
export function voteOf(raw: unknown): Buffer | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  if (raw[1] === 0x46) return raw;
  if (raw[1] === 0x48) return raw.subarray(2, 2 + 163);
  return undefined;
}
