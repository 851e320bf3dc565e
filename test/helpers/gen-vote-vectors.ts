/**
 * Writes test/vectors/votes.json (docs/PROTOCOL.md §13) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-vote-vectors.js > test/vectors/votes.json
 *   npx biome format --write test/vectors/votes.json
 *
 * Keys come from fixed seeds and ed25519 signs deterministically: a rerun gives the same file.
 */
import { makeEvidence, Step, signVote } from "../../src/pulse/votes.js";
import { namedKey } from "./named-keys.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const org = namedKey("org", 1).id;
const bk = namedKey("bookkeeper", 2);
const proposal = Buffer.alloc(32, 0xab);
const other = Buffer.alloc(32, 0xcd);
const nil = Buffer.alloc(32);

const votes = [
  { name: "proposal", v: { org, pulse: 42, round: 0, step: Step.Propose, value: proposal } },
  { name: "prevote for the proposal", v: { org, pulse: 42, round: 0, step: Step.Prevote, value: proposal } },
  { name: "prevote for nil, round 1", v: { org, pulse: 42, round: 1, step: Step.Prevote, value: nil } },
  { name: "precommit", v: { org, pulse: 42, round: 0, step: Step.Precommit, value: proposal } },
  {
    name: "a second precommit, another value (equivocation)",
    v: { org, pulse: 42, round: 0, step: Step.Precommit, value: other },
  },
];
const signed = votes.map((x) => ({ ...x, hex: hex(signVote(x.v, bk.signer)) }));
const doc = {
  description:
    "Committee votes and equivocation evidence (docs/PROTOCOL.md §13), signed by the bookkeeper key.",
  signer: { seed: hex(bk.seed), publicKey: hex(bk.kp.publicKey), id: hex(bk.id) },
  org: hex(org),
  votes: signed.map((x) => ({
    name: x.name,
    fields: { pulse: x.v.pulse, round: x.v.round, step: x.v.step, value: hex(x.v.value) },
    hex: x.hex,
  })),
  evidence: hex(makeEvidence(Buffer.from(signed[4]!.hex, "hex"), Buffer.from(signed[3]!.hex, "hex"))),
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
