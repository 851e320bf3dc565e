import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import {
  checkEvidence,
  decodeVote,
  EvidenceError,
  makeEvidence,
  Step,
  signVote,
} from "../src/pulse/votes.js";
import { DecodeError } from "../src/util/bytes.js";
import { namedKey } from "./helpers/named-keys.js";

interface Vectors {
  signer: { id: string };
  org: string;
  votes: {
    name: string;
    fields: { pulse: number; round: number; step: number; value: string };
    hex: string;
  }[];
  evidence: string;
}
const V = JSON.parse(
  readFileSync(new URL("../../test/vectors/votes.json", import.meta.url), "utf8"),
) as Vectors;
const bk = namedKey("bookkeeper", 2);
const org = Buffer.from(V.org, "hex");

describe("committee votes", () => {
  it("encode and decode as the vectors say", () => {
    for (const v of V.votes) {
      const f = v.fields;
      const bytes = signVote(
        { org, pulse: f.pulse, round: f.round, step: f.step as Step, value: Buffer.from(f.value, "hex") },
        bk.signer,
      );
      assert.equal(bytes.toString("hex"), v.hex, v.name);
      const d = decodeVote(bytes);
      assert.deepEqual(
        [d.pulse, d.round, d.step, d.value.toString("hex"), d.signer.toString("hex")],
        [f.pulse, f.round, f.step, f.value, V.signer.id],
      );
    }
  });

  it("a changed byte anywhere makes a vote fail", () => {
    const b = Buffer.from(V.votes[1]!.hex, "hex");
    for (let i = 0; i < b.length; i++) {
      const t = Buffer.from(b);
      t[i]! ^= 1;
      assert.throws(() => decodeVote(t), DecodeError, `byte ${i}`);
    }
  });

  it("any bytes decode to a vote or a DecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeVote(b);
        } catch (err) {
          assert.ok(err instanceof DecodeError);
        }
      }),
    );
  });
});

describe("equivocation evidence", () => {
  it("two different votes of one signer for one slot make evidence anyone checks", () => {
    const ev = Buffer.from(V.evidence, "hex");
    const e = checkEvidence(ev);
    assert.equal(e.signer.toString("hex"), V.signer.id);
    assert.deepEqual([e.pulse, e.round, e.step], [42, 0, Step.Precommit]);
    // Canonical order: either order of the two votes gives the same bytes.
    const [a, b] = [Buffer.from(V.votes[3]!.hex, "hex"), Buffer.from(V.votes[4]!.hex, "hex")];
    assert.deepEqual(makeEvidence(a, b), ev);
    assert.deepEqual(makeEvidence(b, a), ev);
  });

  it("is refused unless it holds", () => {
    const vote = (n: number) => Buffer.from(V.votes[n]!.hex, "hex");
    const refused = (a: Buffer, b: Buffer, why: RegExp) =>
      assert.throws(
        () => makeEvidence(a, b),
        (e: unknown) => e instanceof EvidenceError && why.test((e as Error).message),
      );
    refused(vote(3), vote(3), /canonical|same/);
    refused(vote(1), vote(3), /different \(organization, pulse, round, step\)/);
    refused(vote(2), vote(1), /different/);
    const mallory = new Signer(generateKeyPair());
    const theirs = signVote(
      { org, pulse: 42, round: 0, step: Step.Precommit, value: Buffer.alloc(32, 1) },
      mallory,
    );
    refused(vote(3), theirs, /different signers/);
    // Out of order, or a forged vote inside.
    const ev = Buffer.from(V.evidence, "hex");
    const swapped = Buffer.concat([ev.subarray(0, 2), ev.subarray(165), ev.subarray(2, 165)]);
    assert.throws(() => checkEvidence(swapped), /canonical/);
    const forged = Buffer.from(ev);
    forged[100]! ^= 1;
    assert.throws(() => checkEvidence(forged), EvidenceError);
    assert.throws(() => checkEvidence(ev.subarray(1)), EvidenceError);
  });
});
