/** A byzantine proposer's proposal, made by hand for the finality tests. */
import type { Signer } from "../../src/crypto/ed25519.js";
import type { ApplyOptions, Ledger } from "../../src/ledger/ledger.js";
import { encodeProposal } from "../../src/pulse/proposal.js";

/**
 * The round-0 proposal by `proposer` of `txs` for `pulse`, with the root they lead to on `ledger`
 * (prepared there with `opts`, then discarded): a value whose root is honest, whatever else is wrong.
 */
export async function handProposal(
  ledger: Ledger,
  pulse: number,
  txs: readonly Buffer[],
  opts: ApplyOptions,
  proposer: Signer,
): Promise<{ bytes: Buffer; root: { hash: Buffer; sum: bigint } }> {
  const prepared = await ledger.prepare(pulse, [...txs], opts);
  const root = { hash: Buffer.from(prepared.root.hash), sum: prepared.root.sum };
  prepared.discard();
  const bytes = encodeProposal({ org: ledger.org!.id, pulse, round: 0, validRound: -1, root, txs }, proposer);
  return { bytes, root };
}
