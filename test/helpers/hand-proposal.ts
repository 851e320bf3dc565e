/** A byzantine proposer's proposal, made by hand for the finality tests. */
import type { Signer } from "../../src/crypto/ed25519.js";
import type { ApplyOptions, Ledger, PreparedPulse } from "../../src/ledger/ledger.js";
import { committeeHash } from "../../src/pulse/certificate.js";
import { encodeProposal, type RootSynopsis } from "../../src/pulse/proposal.js";

/**
 * The round-0 proposal by `proposer` of `txs` for `pulse`, with the root they lead to on `ledger`
 * (prepared there with `opts`, then discarded): a value whose root is honest, whatever else is wrong.
 * `next` is the next committee's hash, or what gives it from the prepared pulse (NextCommittee's
 * hashAfter); it defaults to the hash of `opts.committee` (right inside a cycle).
 */
export async function handProposal(
  ledger: Ledger,
  pulse: number,
  txs: readonly Buffer[],
  opts: ApplyOptions,
  proposer: Signer,
  nextOf: Buffer | ((prepared: PreparedPulse) => Buffer) = committeeHash(opts.committee ?? []),
): Promise<{ bytes: Buffer; root: RootSynopsis & { hash: Buffer }; next: Buffer }> {
  const prepared = await ledger.prepare(pulse, [...txs], opts);
  const root = { hash: Buffer.from(prepared.root.hash), sum: prepared.root.sum, count: prepared.root.count };
  const next = typeof nextOf === "function" ? nextOf(prepared) : nextOf;
  prepared.discard();
  const org = ledger.org!.id;
  const bytes = encodeProposal({ org, pulse, round: 0, validRound: -1, root, next, txs }, proposer);
  return { bytes, root, next };
}
