/**
 * Writes test/vectors/consensus.json (docs/PROTOCOL.md §13.1, §13.2: committee hashes, proposals,
 * certificates) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-consensus-vectors.js > test/vectors/consensus.json
 *   npx biome format --write test/vectors/consensus.json
 *
 * Keys come from fixed seeds and ed25519 signs deterministically: a rerun gives the same file.
 */
import { committeeHash, encodeCertificate } from "../../src/pulse/certificate.js";
import { batchHashOf, encodeProposal, proposalIdOf, valueIdOf } from "../../src/pulse/proposal.js";
import { Step, signVote } from "../../src/pulse/votes.js";
import { type NamedKey, namedKey } from "./named-keys.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const org = namedKey("org", 1).id;
// The committee in drawn order: round r's proposer is committee[r mod 4].
const committee = [0x31, 0x32, 0x33, 0x34].map((fill, i) => namedKey(`bookkeeper ${"abcd"[i]}`, fill));
const [a, b, c, d] = committee as [NamedKey, NamedKey, NamedKey, NamedKey];
const root = { hash: Buffer.alloc(32, 0x5a), sum: 1_000_000n, count: 7 };
// Opaque to the proposal's encoding: any bytes up to 64 KiB.
const txs = [Buffer.from("first transaction", "latin1"), Buffer.alloc(0), Buffer.alloc(40, 0xe7)];
const emptyRoot = { hash: Buffer.alloc(32, 0xa5), sum: (1n << 64n) - 1n, count: 2 ** 53 - 1 };

// Committee hashes: the drawn order counts, so the same four in another order hash differently.
const committees = [
  { name: "bookkeepers a to d in drawn order", members: [a, b, c, d] },
  { name: "the same four drawn in another order", members: [d, b, a, c] },
  { name: "a committee of one", members: [a] },
];
const hashOf = (members: readonly NamedKey[]) => committeeHash(members.map((k) => k.id));
// Pulse 42 is inside its cycle: the same committee keeps 43. Pulse 43 ends a cycle: another one keeps 44.
const next42 = hashOf(committees[0]!.members);
const next43 = hashOf(committees[1]!.members);

const proposals = [
  {
    name: "round 0, a fresh value",
    proposer: a,
    p: { org, pulse: 42, round: 0, validRound: -1, root, next: next42, txs },
  },
  {
    name: "round 2, the same value re-proposed (valid in round 1)",
    proposer: c,
    p: { org, pulse: 42, round: 2, validRound: 1, root, next: next42, txs },
  },
  {
    name: "an empty batch, the largest sum, the last pulse of a cycle",
    proposer: a,
    p: { org, pulse: 43, round: 0, validRound: -1, root: emptyRoot, next: next43, txs: [] },
  },
];

const precommit = (k: NamedKey, pulse: number, round: number, value: Buffer) =>
  signVote({ org, pulse, round, step: Step.Precommit, value }, k.signer);
const value42 = valueIdOf(org, 42, root, batchHashOf(txs), next42);
const value43 = valueIdOf(org, 43, emptyRoot, batchHashOf([]), next43);
const certificates = [
  {
    name: "3 of 4 precommits in round 2 (given out of order, one twice)",
    committee,
    value: value42,
    signers: [b, c, d],
    c: { org, pulse: 42, round: 2, root, batchHash: batchHashOf(txs), next: next42 },
    precommits: [d, b, c, d].map((k) => precommit(k, 42, 2, value42)),
  },
  {
    name: "a committee of one",
    committee: [a],
    value: value43,
    signers: [a],
    c: { org, pulse: 43, round: 0, root: emptyRoot, batchHash: batchHashOf([]), next: next43 },
    precommits: [precommit(a, 43, 0, value43)],
  },
];

const rootJson = (r: { hash: Uint8Array; sum: bigint; count: number }) => ({
  hash: hex(r.hash),
  sum: r.sum.toString(),
  count: r.count,
});
const doc = {
  description:
    "Committee hashes, committee proposals and finality certificates (docs/PROTOCOL.md §13.1, §13.2); sums are decimal strings.",
  org: hex(org),
  keys: committee.map((k) => ({
    name: k.name,
    seed: hex(k.seed),
    publicKey: hex(k.kp.publicKey),
    id: hex(k.id),
  })),
  committees: committees.map(({ name, members }) => ({
    name,
    members: members.map((k) => k.name),
    ids: members.map((k) => hex(k.id)),
    hash: hex(hashOf(members)),
  })),
  proposals: proposals.map(({ name, proposer, p }) => {
    const batchHash = batchHashOf(p.txs);
    const valueId = valueIdOf(p.org, p.pulse, p.root, batchHash, p.next);
    return {
      name,
      proposer: proposer.name,
      fields: {
        pulse: p.pulse,
        round: p.round,
        validRound: p.validRound,
        root: rootJson(p.root),
        next: hex(p.next),
        txs: p.txs.map(hex),
      },
      batchHash: hex(batchHash),
      valueId: hex(valueId),
      proposalId: hex(proposalIdOf(valueId, p.validRound)),
      hex: hex(encodeProposal(p, proposer.signer)),
    };
  }),
  certificates: certificates.map(({ name, committee, value, signers, c, precommits }) => ({
    name,
    committee: committee.map((k) => k.name),
    fields: {
      pulse: c.pulse,
      round: c.round,
      root: rootJson(c.root),
      batchHash: hex(c.batchHash),
      next: hex(c.next),
    },
    valueId: hex(value),
    signers: signers.map((k) => hex(k.id)).sort(),
    precommits: precommits.map(hex),
    hex: hex(encodeCertificate({ ...c, precommits })),
  })),
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
