/**
 * An organization whose committee changes twice (helpers/committee-script.ts), made pulse by pulse
 * as the daemon makes it: each pulse prepared, its `next` computed (pulse/next-committee.ts),
 * certified by its committee and committed, the committee book recording each draw.
 */
import { join } from "node:path";
import { CommitteeBook } from "../../src/election/book.js";
import { encodeCertificate } from "../../src/pulse/certificate.js";
import { NextCommittee } from "../../src/pulse/next-committee.js";
import { batchHashOf, valueIdOf } from "../../src/pulse/proposal.js";
import { Step, signVote } from "../../src/pulse/votes.js";
import { cast, Script, scriptParams } from "./committee-script.js";
import { allOk, Chain } from "./ledger-chain.js";
import { genesisTx } from "./ledger-signers.js";
import { tmpDir } from "./tmp.js";

const ORG = cast.orgKey.id;
const signerOf = (id: Buffer) => cast.users.find((u) => u.id.equals(id))!;

/** A certificate of pulse `pulse` signed by all of `members`, for the given root, batch hash and next. */
export function certify(
  pulse: number,
  members: readonly Buffer[],
  root: { hash: Uint8Array; sum: bigint; count: number },
  batchHash: Buffer,
  next: Buffer,
): Buffer {
  const r = { hash: Buffer.from(root.hash), sum: root.sum, count: root.count };
  const value = valueIdOf(ORG, pulse, r, batchHash, next);
  const precommits = members.map((id) =>
    signVote({ org: ORG, pulse, round: 0, step: Step.Precommit, value }, signerOf(id)),
  );
  return encodeCertificate({ org: ORG, pulse, round: 0, root: r, batchHash, next, precommits });
}

/** The script's organization through cycle 3's first pulse, each pulse certified; `nexts[p]` is what next-committee.ts gave. */
export async function certifiedChain(L: number) {
  const chain = await Chain.open(ORG, { indexTxs: true });
  const genesis = genesisTx(cast.orgKey, scriptParams(L));
  allOk(await chain.pulse([genesis]));
  const ledger = chain.ledger;
  const book = await CommitteeBook.open(join(tmpDir("leither-chain-"), "committees.json"), ledger);
  const next = new NextCommittee(ledger, (p) => book.of(p));
  const script = new Script(chain.txs, L);
  const nexts: Buffer[] = [];
  for (let p = 1; p <= 3 * L; p++) {
    const txs = script.at(p);
    const prepared = await ledger.prepare(p, txs, { proofs: false });
    nexts[p] = next.hashAfter(prepared);
    const certificate = certify(p, book.of(p), prepared.root, batchHashOf(txs), nexts[p]!);
    await prepared.commit({ certificate });
    await book.committed(p);
  }
  return { ledger, book, genesis, nexts };
}
