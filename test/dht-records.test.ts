import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import {
  decodeRecord,
  MAX_RECORD_BYTES,
  memberRecordKey,
  orgRecordKey,
  RecordError,
  selectRecord,
  signMemberRecord,
  signOrgRecord,
  validateRecord,
} from "../src/dht/records.js";
import { makeSigners } from "./helpers/ledger-signers.js";

const [orgKey, alice, mallory] = makeSigners(3, "dht-records") as [Signer, Signer, Signer];
const org = (seq: bigint, name = "Leither devs") =>
  signOrgRecord({ org: orgKey.id, seq, name, pulsePeriodMs: 1000, supervisor: alice.id }, orgKey);
const member = (seq: bigint) =>
  signMemberRecord(
    {
      org: orgKey.id,
      account: alice.id,
      seq,
      peerId: Buffer.alloc(38, 1),
      addrs: [Buffer.from([4, 127, 0, 0, 1])],
    },
    alice,
  );
const refused = (fn: () => unknown, why: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof RecordError && why.test(err.message));

describe("DHT records", () => {
  it("a signed record validates under its own key and decodes to what was signed", () => {
    const o = validateRecord(orgRecordKey(orgKey.id), org(3n));
    assert.equal(o.kind, "org");
    assert.equal(o.kind === "org" && o.name, "Leither devs");
    assert.equal(o.seq, 3n);
    const m = validateRecord(memberRecordKey(orgKey.id, alice.id), member(1n));
    assert.equal(m.kind === "member" && m.addrs.length, 1);
  });

  it("forged, re-keyed, misplaced, truncated and oversized records are refused", () => {
    const key = orgRecordKey(orgKey.id);
    const good = org(1n);
    const flipped = Buffer.from(good);
    flipped[35]! ^= 1; // a letter of the name
    refused(() => validateRecord(key, flipped), /signature/);
    // Mallory signs a record naming the organization: its key is not the organization's.
    const forged = Buffer.from(good);
    const m = signOrgRecord(
      { org: mallory.id, seq: 9n, name: "x", pulsePeriodMs: 1, supervisor: mallory.id },
      mallory,
    );
    forged.set(m.subarray(m.length - 96), forged.length - 96);
    refused(() => validateRecord(key, forged), /organization's/);
    refused(() => validateRecord(orgRecordKey(alice.id), good), /not the one its key names/);
    refused(
      () => validateRecord(memberRecordKey(orgKey.id, orgKey.id), member(1n)),
      /not the one its key names/,
    );
    refused(() => validateRecord(key, good.subarray(0, good.length - 1)), /malformed/);
    refused(() => validateRecord(key, Buffer.concat([good, Buffer.of(0)])), /malformed/);
    refused(() => validateRecord(key, Buffer.alloc(MAX_RECORD_BYTES + 1, 1)), /malformed/);
    assert.throws(() =>
      signOrgRecord({ org: orgKey.id, seq: 1n, name: "x", pulsePeriodMs: 1, supervisor: alice.id }, alice),
    );
  });

  it("the signer refuses what the decoder would refuse: an empty name, a pulse period of 0", () => {
    const base = { org: orgKey.id, seq: 1n, name: "x", pulsePeriodMs: 1000, supervisor: alice.id };
    assert.throws(() => signOrgRecord({ ...base, name: "" }, orgKey), /name/);
    assert.throws(() => signOrgRecord({ ...base, pulsePeriodMs: 0 }, orgKey), /pulsePeriodMs/);
    // Signed by hand with a period of 0: refused on the way in.
    const good = signOrgRecord(base, orgKey);
    const message = Buffer.from(good.subarray(0, good.length - 96));
    message.writeUInt32BE(0, message.length - 24);
    const bytes = Buffer.concat([
      message,
      orgKey.publicKey,
      orgKey.sign(Buffer.concat([Buffer.from("LEITHER\0", "latin1"), message])),
    ]);
    refused(() => validateRecord(orgRecordKey(orgKey.id), bytes), /pulsePeriodMs/);
  });

  it("any bytes from a peer are refused with a RecordError, never another error", () => {
    const keys = [orgRecordKey(orgKey.id), memberRecordKey(orgKey.id, alice.id)];
    const good = [org(1n), member(1n)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(1), fc.nat(500), (junk, which, cut) => {
        for (const bytes of [junk, Buffer.concat([good[which]!.subarray(0, cut), junk])]) {
          try {
            validateRecord(keys[which]!, bytes);
          } catch (err) {
            assert.ok(err instanceof RecordError, String(err));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the selector keeps the newest valid record; stale and invalid ones lose", () => {
    const key = orgRecordKey(orgKey.id);
    const bad = Buffer.from(org(99n));
    bad[bad.length - 1]! ^= 1;
    assert.equal(selectRecord(key, [org(1n), org(5n), bad, org(3n)]), 1);
    assert.equal(decodeRecord(org(5n)).seq, 5n);
  });

  it("matches its vectors byte for byte (docs/PROTOCOL.md §9.3)", () => {
    const v = JSON.parse(
      readFileSync(new URL("../../test/vectors/dht-records.json", import.meta.url), "utf8"),
    );
    const ok = new Signer(generateKeyPair(Buffer.from(v.orgSeed, "hex")));
    const ak = new Signer(generateKeyPair(Buffer.from(v.accountSeed, "hex")));
    const o = v.org.fields;
    const orgBytes = signOrgRecord(
      {
        org: Buffer.from(o.org, "hex"),
        seq: BigInt(o.seq),
        name: o.name,
        pulsePeriodMs: o.pulsePeriodMs,
        supervisor: Buffer.from(o.supervisor, "hex"),
      },
      ok,
    );
    assert.equal(orgBytes.toString("hex"), v.org.hex);
    assert.equal(Buffer.from(orgRecordKey(ok.id)).toString(), v.org.key);
    const m = v.member.fields;
    const memberBytes = signMemberRecord(
      {
        org: Buffer.from(m.org, "hex"),
        account: Buffer.from(m.account, "hex"),
        seq: BigInt(m.seq),
        peerId: Buffer.from(m.peerId, "hex"),
        addrs: m.addrs.map((a: string) => Buffer.from(a, "hex")),
      },
      ak,
    );
    assert.equal(memberBytes.toString("hex"), v.member.hex);
    assert.equal(Buffer.from(memberRecordKey(ok.id, ak.id)).toString(), v.member.key);
    assert.equal(validateRecord(new TextEncoder().encode(v.member.key), memberBytes).seq, 2n);
  });
});
