/**
 * The check of every consensus message before anything is done with it (finality.ts, and the gossip
 * validator): at most 1 MiB, its format and signatures, its organization, and that whoever signed it
 * is in the committee of its pulse. A certificate's signer count is checked against the committee
 * before any signature is.
 */
import { certificateHeader, decodeCertificate, precheckSigners, verifyCertificate } from "./certificate.js";
import { decodeProposal } from "./proposal.js";
import { checkEvidence, decodeVote } from "./votes.js";

/** The largest consensus message taken: a gossip frame is at most 1 MiB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Throws unless `bytes` is a whole consensus message of `org` from the committee of its pulse; returns the pulse. */
export function checkConsensusMessage(
  bytes: Uint8Array,
  org: Buffer,
  committee: (pulse: number) => readonly Buffer[],
): number {
  const b = Buffer.from(bytes);
  if (b.length > MAX_MESSAGE_BYTES) throw new RangeError("a consensus message is at most 1 MiB");
  const member = (pulse: number, id: Buffer) => {
    if (!committee(pulse).some((m) => m.equals(id)))
      throw new RangeError(`the signer is not in the committee of pulse ${pulse}`);
  };
  switch (b[1]) {
    case 0x46: {
      const v = decodeVote(b);
      if (!v.org.equals(org)) throw new RangeError("a vote for another organization");
      member(v.pulse, v.signer);
      return v.pulse;
    }
    case 0x48: {
      const p = decodeProposal(b, { maxBytes: MAX_MESSAGE_BYTES });
      if (!p.org.equals(org)) throw new RangeError("a proposal for another organization");
      member(p.pulse, p.signer);
      return p.pulse;
    }
    case 0x49: {
      // The header and the signers first: no signature is checked for a certificate that cannot hold.
      const h = certificateHeader(b);
      if (!h.org.equals(org)) throw new RangeError("not a certificate of ours");
      const members = committee(h.pulse);
      precheckSigners(b, members);
      const c = decodeCertificate(b);
      verifyCertificate(c, members);
      return c.pulse;
    }
    case 0x47: {
      const e = checkEvidence(b);
      if (!e.org.equals(org)) throw new RangeError("evidence about another organization");
      member(e.pulse, e.signer);
      return e.pulse;
    }
    default:
      throw new RangeError(`kind ${b[1]} is not a consensus message`);
  }
}
