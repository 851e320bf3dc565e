import assert from "node:assert/strict";
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  CERTIFICATE_MAX_SIGNERS,
  type Certificate,
  CertificateError,
  certificateQuorum,
  committeeHash,
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
} from "../src/pulse/certificate.js";
import { batchHashOf, valueIdOf } from "../src/pulse/proposal.js";
import { Step, signVote } from "../src/pulse/votes.js";
import { DecodeError } from "../src/util/bytes.js";
import { decodes } from "./helpers/decodes.js";
import { type NamedKey, namedKey } from "./helpers/named-keys.js";

/** The certificates of test/vectors/consensus.json (written by test/helpers/gen-consensus-vectors.ts). */
interface Vectors {
  org: string;
  keys: { name: string; seed: string; id: string }[];
  committees: { name: string; members: string[]; ids: string[]; hash: string }[];
  certificates: {
    name: string;
    committee: string[];
    fields: {
      pulse: number;
      round: number;
      root: { hash: string; sum: string; count: number };
      batchHash: string;
      next: string;
    };
    valueId: string;
    signers: string[];
    precommits: string[];
    hex: string;
  }[];
}
const V = JSON.parse(
  readFileSync(new URL("../../test/vectors/consensus.json", import.meta.url), "utf8"),
) as Vectors;
const org = Buffer.from(V.org, "hex");
const keys = V.keys.map((k) => namedKey(k.name, Buffer.from(k.seed, "hex")[0]!));
const key = (name: string) => keys.find((k) => k.name === name)!;
const committee = keys.map((k) => k.id);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Precommits of the four vector keys for a value of pulse 7, round 1.
const root = { hash: Buffer.alloc(32, 9), sum: 77n, count: 3 };
const batchHash = batchHashOf([Buffer.from("tx")]);
const next = committeeHash(committee);
const fields = { org, pulse: 7, round: 1, root, batchHash, next };
const valueId = valueIdOf(org, 7, root, batchHash, next);
const vote = (k: NamedKey, o: { step?: Step; round?: number; pulse?: number; value?: Buffer } = {}) =>
  signVote(
    {
      org,
      pulse: o.pulse ?? 7,
      round: o.round ?? 1,
      step: o.step ?? Step.Precommit,
      value: o.value ?? valueId,
    },
    k.signer,
  );
const certOf = (signers: readonly NamedKey[]) =>
  decodeCertificate(encodeCertificate({ ...fields, precommits: signers.map((k) => vote(k)) }));
const notACertificate = (f: () => unknown, why: RegExp, what?: string) =>
  assert.throws(f, (e: unknown) => e instanceof CertificateError && why.test(e.message), what);

describe("finality certificates", () => {
  it("encode and decode as the vectors say, and hold for their committee", () => {
    for (const v of V.certificates) {
      const f = v.fields;
      const c = {
        org,
        pulse: f.pulse,
        round: f.round,
        root: { hash: Buffer.from(f.root.hash, "hex"), sum: BigInt(f.root.sum), count: f.root.count },
        batchHash: Buffer.from(f.batchHash, "hex"),
        next: Buffer.from(f.next, "hex"),
      };
      const bytes = encodeCertificate({ ...c, precommits: v.precommits.map((p) => Buffer.from(p, "hex")) });
      assert.equal(hex(bytes), v.hex, v.name);
      const d = decodeCertificate(bytes);
      assert.deepEqual(
        [d.org, d.pulse, d.round, d.root, d.batchHash, d.next, hex(d.valueId), d.signers.map(hex), d.bytes],
        [org, c.pulse, c.round, c.root, c.batchHash, c.next, v.valueId, v.signers, bytes],
      );
      assert.equal(v.valueId, hex(valueIdOf(org, c.pulse, c.root, c.batchHash, c.next)));
      // The root's count after its sum; next after batchHash, before the count (docs/PROTOCOL.md §13.2).
      assert.equal(bytes.readBigUInt64BE(106), BigInt(c.root.count));
      assert.deepEqual(bytes.subarray(146, 178), c.next);
      verifyCertificate(
        d,
        v.committee.map((n) => key(n).id),
      );
    }
  });

  it("a changed byte anywhere is refused, by decode already", () => {
    for (const v of V.certificates) {
      const b = Buffer.from(v.hex, "hex");
      for (let i = 0; i < b.length; i++)
        for (const mask of [0x01, 0x80]) {
          const t = Buffer.from(b);
          t[i]! ^= mask;
          assert.throws(() => decodeCertificate(t), DecodeError, `${v.name}: byte ${i} ^ ${mask}`);
        }
      assert.throws(() => decodeCertificate(b.subarray(0, -1)), DecodeError);
      assert.throws(() => decodeCertificate(Buffer.concat([b, Buffer.alloc(96)])), DecodeError);
    }
  });

  it("a quorum of members holds; fewer, or an outsider, do not", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10].map(certificateQuorum), [1, 2, 3, 3, 4, 5, 5, 7]);
    const [a, b, c, d] = keys as [NamedKey, NamedKey, NamedKey, NamedKey];
    verifyCertificate(certOf([a, b, c, d]), committee);
    verifyCertificate(certOf([d, a, c]), committee);
    notACertificate(
      () => verifyCertificate(certOf([a, b]), committee),
      /2 signers of a committee of 4, quorum 3/,
    );
    const mallory = namedKey("mallory", 0x66);
    notACertificate(() => verifyCertificate(certOf([a, b, c, mallory]), committee), /not in the committee/);
    // A committee of one: its single precommit is the quorum.
    verifyCertificate(certOf([b]), [b.id]);
    notACertificate(() => verifyCertificate(certOf([b]), [a.id]), /not in the committee/);
    notACertificate(() => verifyCertificate(certOf([a]), []), /not in the committee/);
    assert.throws(() => verifyCertificate(certOf([a]), [a.id, a.id]), RangeError);
  });

  it("a signer counts once: dropped on encode, refused on decode and verify", () => {
    const [a, b, c] = keys as [NamedKey, NamedKey, NamedKey];
    const once = encodeCertificate({ ...fields, precommits: [vote(a), vote(b)] });
    const twice = encodeCertificate({ ...fields, precommits: [vote(a), vote(b), vote(a), vote(b)] });
    assert.deepEqual(twice, once);
    notACertificate(() => verifyCertificate(decodeCertificate(once), committee), /quorum 3/);
    // The same signature twice in the bytes (count 3): not strictly ascending.
    const entry = once.subarray(180, 276);
    const dup = Buffer.concat([once.subarray(0, 178), Buffer.of(0, 3), once.subarray(180), entry]);
    assert.throws(() => decodeCertificate(dup), /ascending, each once/);
    // Two entries swapped: refused too (one encoding per set of signatures).
    const swapped = Buffer.concat([once.subarray(0, 180), once.subarray(276), once.subarray(180, 276)]);
    assert.throws(() => decodeCertificate(swapped), /ascending/);
    const cert = certOf([a, b, c]);
    const forged: Certificate = { ...cert, signers: [cert.signers[0]!, cert.signers[0]!, cert.signers[1]!] };
    notACertificate(() => verifyCertificate(forged, committee), /counted twice/);
  });

  it("encode takes only precommits for exactly this value", () => {
    const [a, b] = keys as [NamedKey, NamedKey];
    const other = Buffer.alloc(32, 1);
    for (const [what, bad] of [
      ["a prevote", vote(b, { step: Step.Prevote })],
      ["a propose vote", vote(b, { step: Step.Propose })],
      ["another round", vote(b, { round: 2 })],
      ["another pulse", vote(b, { pulse: 8 })],
      ["another value", vote(b, { value: other })],
      ["nil", vote(b, { value: Buffer.alloc(32) })],
      [
        "another organization",
        signVote({ org: Buffer.alloc(20), pulse: 7, round: 1, step: 3, value: valueId }, b.signer),
      ],
    ] as const)
      notACertificate(
        () => encodeCertificate({ ...fields, precommits: [vote(a), bad] }),
        /precommit 1 is not/,
        what,
      );
    const forged = vote(b);
    forged[150]! ^= 1;
    notACertificate(
      () => encodeCertificate({ ...fields, precommits: [forged] }),
      /precommit 0 does not hold/,
    );
    notACertificate(
      () => encodeCertificate({ ...fields, precommits: [vote(a).subarray(1)] }),
      /does not hold/,
    );
    notACertificate(() => encodeCertificate({ ...fields, precommits: [] }), /at least one/);
    // The precommits are for valueIdOf(fields): a certificate claiming another root needs other votes.
    notACertificate(
      () => encodeCertificate({ ...fields, root: { ...root, sum: 78n }, precommits: [vote(a)] }),
      /precommit 0 is not/,
    );
    // So does one naming another committee for the next pulse.
    notACertificate(
      () => encodeCertificate({ ...fields, next: committeeHash([a.id]), precommits: [vote(a)] }),
      /precommit 0 is not/,
    );
  });

  it("next is in the value id: another next is another value, and a changed one is refused", () => {
    const [a, b, c] = keys as [NamedKey, NamedKey, NamedKey];
    const other = committeeHash([b.id, a.id, keys[2]!.id, keys[3]!.id]);
    assert.notDeepEqual(valueIdOf(org, 7, root, batchHash, other), valueId);
    const bytes = encodeCertificate({ ...fields, precommits: [a, b, c].map((k) => vote(k)) });
    // The precommits signed valueId: with another next in its place the certificate is not theirs.
    const swapped = Buffer.from(bytes);
    other.copy(swapped, 146);
    assert.throws(() => decodeCertificate(swapped), /value id is not the hash/);
    // With the value id recomputed for it, the signatures no longer verify.
    valueIdOf(org, 7, root, batchHash, other).copy(swapped, 34);
    assert.throws(() => decodeCertificate(swapped), /signature 0/);
  });

  it("decode checks the value id, the count and the length before any signature", () => {
    const b = Buffer.from(V.certificates[0]!.hex, "hex");
    const withCount = (n: number, tail: Buffer) =>
      Buffer.concat([b.subarray(0, 178), Buffer.of(n >> 8, n & 255), tail]);
    const entries = b.subarray(180);
    assert.throws(() => decodeCertificate(withCount(0, Buffer.alloc(0))), /0 signers, not 1 to 1024/);
    assert.throws(() => decodeCertificate(withCount(0xffff, entries)), /65535 signers/);
    assert.throws(() => decodeCertificate(withCount(CERTIFICATE_MAX_SIGNERS + 1, entries)), /1025 signers/);
    assert.throws(() => decodeCertificate(withCount(4, entries)), /288 bytes of signatures for 4 signers/);
    const badValue = Buffer.from(b);
    badValue[40]! ^= 1;
    assert.throws(() => decodeCertificate(badValue), /value id is not the hash/);
    assert.throws(() => decodeCertificate(Buffer.from(b).fill(0x48, 1, 2)), /kind 72 is not a certificate/);
    assert.throws(() => decodeCertificate(Buffer.from(b).fill(2, 0, 1)), /unknown format 2/);
  });

  it("any bytes decode or fail with DecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (b) => {
        decodes(() => decodeCertificate(b), "random bytes");
      }),
    );
  });
});

describe("committee hashes", () => {
  it("hash as the vectors say, from the text of docs/PROTOCOL.md §13.2; the drawn order counts", () => {
    assert.ok(V.committees.length >= 3);
    for (const v of V.committees) {
      const ids = v.members.map((n) => key(n).id);
      assert.deepEqual(ids.map(hex), v.ids, v.name);
      const count = Buffer.of(ids.length >> 8, ids.length & 255);
      const text = hash(
        "sha256",
        Buffer.concat([Buffer.from("LEITHER\0committee", "latin1"), count, ...ids]),
      );
      assert.equal(hex(committeeHash(ids)), v.hash, v.name);
      assert.equal(text, v.hash, v.name);
    }
    assert.equal(new Set(V.committees.map((v) => v.hash)).size, V.committees.length);
  });

  it("refuses no member, more than 1024, and an id that is not 20 bytes", () => {
    const id = keys[0]!.id;
    assert.throws(() => committeeHash([]), RangeError);
    assert.equal(committeeHash(Array.from({ length: 1024 }, () => id)).length, 32);
    assert.throws(() => committeeHash(Array.from({ length: 1025 }, () => id)), RangeError);
    assert.throws(() => committeeHash([id, id.subarray(1)]), RangeError);
    assert.throws(() => committeeHash([Buffer.alloc(32)]), RangeError);
  });
});
