import { strict as assert } from "node:assert";
import { createPublicKey, verify as nodeVerify, randomBytes } from "node:crypto";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as ed from "@noble/ed25519";
import fc from "fast-check";
import { MessageKind, SIGNING_TAG, signingPayload } from "../src/crypto/domain.js";
import { generateKeyPair, Signer, signNoble, Verifier, verifyNoble, weakKey } from "../src/crypto/ed25519.js";
import { KeyFileError, type KeyFileErrorCode, readKeyFile, writeKeyFile } from "../src/crypto/keyfile.js";
import type { TxBody } from "../src/ledger/tx.js";
import { encodeBody } from "../src/ledger/tx-codec.js";
import { tmpDir } from "./helpers/tmp.js";

const hex = (s: string) => Buffer.from(s, "hex");
const seed32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** The group order L of ed25519. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function flipBit(b: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(b);
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

/** Both verifiers' answers, which must always agree. */
function bothVerify(v: Verifier, sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const a = v.verify(sig, msg, pk);
  assert.equal(verifyNoble(sig, msg, pk), a, "node:crypto and noble disagree");
  return a;
}

/** A point of order 8 (its multiples are all 8 small-order points). */
const torsion = ed.Point.fromBytes(
  Buffer.from("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "hex"),
);

describe("ed25519: node:crypto and noble", () => {
  it("sign identically and verify each other's signatures; any flipped bit fails both", () => {
    const v = new Verifier();
    fc.assert(
      fc.property(seed32, fc.uint8Array({ maxLength: 200 }), fc.nat(), (seed, msg, bit) => {
        const kp = generateKeyPair(seed);
        const ours = new Signer(kp).sign(msg);
        const noble = signNoble(msg, kp.secretKey);
        assert.deepEqual(ours, Buffer.from(noble));
        assert.equal(v.verify(noble, msg, kp.publicKey), true);
        assert.equal(verifyNoble(ours, msg, kp.publicKey), true);
        if (msg.length > 0) assert.equal(bothVerify(v, ours, flipBit(msg, bit), kp.publicKey), false);
        assert.equal(bothVerify(v, flipBit(ours, bit), msg, kp.publicKey), false);
        assert.equal(bothVerify(v, ours, msg, flipBit(kp.publicKey, bit)), false);
      }),
      { numRuns: 50 },
    );
  });

  it("Verifier returns false, never throws, on malformed keys and signatures", () => {
    const v = new Verifier();
    const kp = generateKeyPair();
    const msg = Buffer.from("hello");
    const sig = new Signer(kp).sign(msg);
    assert.equal(v.verify(sig, msg, kp.publicKey), true);
    assert.equal(v.verify(sig.subarray(0, 63), msg, kp.publicKey), false);
    assert.equal(v.verify(Buffer.concat([sig, Buffer.of(0)]), msg, kp.publicKey), false);
    assert.equal(v.verify(sig, msg, kp.publicKey.subarray(0, 31)), false);
    assert.equal(v.verify(sig, msg, Buffer.alloc(0)), false);

    // About half of all 32-byte strings decode to no curve point; search for one.
    let notAPoint: Buffer | undefined;
    for (let i = 0; i < 200 && notAPoint === undefined; i++) {
      const candidate = randomBytes(32);
      try {
        ed.Point.fromBytes(candidate);
      } catch {
        notAPoint = candidate;
      }
    }
    assert.ok(notAPoint, "no off-curve string among 200 random ones");
    assert.equal(v.verify(sig, msg, notAPoint), false);
    assert.equal(v.verify(sig, msg, notAPoint), false); // again, from the cache
    assert.equal(verifyNoble(sig, msg, notAPoint), false);
  });

  it("a signature with S >= L (S + L, non-canonical) fails both", () => {
    const v = new Verifier();
    const kp = generateKeyPair(Buffer.alloc(32, 7));
    const msg = Buffer.from("pay 10");
    const sig = new Signer(kp).sign(msg);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L; // still below 2^256: S < L < 2^253
    const bad = Buffer.from(sig);
    for (let i = 32; i < 64; i++) {
      bad[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    assert.notDeepEqual(bad, sig);
    assert.equal(bothVerify(v, sig, msg, kp.publicKey), true);
    assert.equal(bothVerify(v, bad, msg, kp.publicKey), false);
  });

  it("Verifier refuses small-order and non-canonical public keys that OpenSSL alone would accept", () => {
    const msg = Buffer.from("any message at all");
    // The identity point as public key and R, S = 0: [S]B = R + [k]A holds for every message.
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    const raw = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), identity]),
      format: "der",
      type: "spki",
    });
    assert.equal(nodeVerify(null, msg, raw, forged), true, "OpenSSL takes the forgery: the guard is needed");
    assert.equal(new Verifier().verify(forged, msg, identity), false);
    assert.equal(verifyNoble(forged, msg, identity), false);
    // Every small-order point (8 of them) and y = p + 1, a non-canonical encoding of the identity.
    const p = (1n << 255n) - 19n;
    const le = (x: bigint) => Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse();
    const bad = [le(p + 1n), le(p - 1n), Buffer.alloc(32)];
    for (const P of [ed.Point.ZERO, ...[1n, 2n, 3n, 4n, 5n, 6n, 7n].map((k) => torsion.multiply(k))]) {
      assert.ok(P.isSmallOrder());
      bad.push(Buffer.from(P.toBytes()));
    }
    const v = new Verifier();
    // 8 small-order points and p + 1 (y = p - 1 and y = 0 are two of the 8 already).
    assert.equal(new Set(bad.map((k) => k.toString("hex"))).size, 9);
    for (const k of bad) assert.equal(v.verify(forged, msg, k), false, k.toString("hex"));
  });

  it("weakKey agrees with noble's decoding and small-order check", () => {
    const p = (1n << 255n) - 19n;
    const le = (x: bigint) => Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse();
    const edge = [0n, 1n, p - 1n, p, p + 1n, p + 18n, (1n << 255n) - 1n].map(le);
    for (let k = 0n; k < 8n; k++) edge.push(Buffer.from(torsion.multiply(k === 0n ? 8n : k).toBytes()));
    const check = (pk: Buffer) => {
      let noble: boolean;
      try {
        noble = ed.Point.fromBytes(pk, false).isSmallOrder();
      } catch {
        return; // not a point: OpenSSL fails the verification itself
      }
      assert.equal(weakKey(pk), noble, pk.toString("hex"));
    };
    for (const e of edge) {
      check(e);
      const flipped = Buffer.from(e);
      flipped[31]! ^= 0x80;
      check(flipped);
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => check(Buffer.from(b))));
    assert.equal(weakKey(le(p)), true, "y = p is non-canonical");
  });

  it("RFC 8032 test vector 1 through both libraries", () => {
    const secret = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const expected = hex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    const kp = generateKeyPair(secret);
    assert.equal(
      Buffer.from(kp.publicKey).toString("hex"),
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    const empty = new Uint8Array(0);
    assert.deepEqual(new Signer(kp).sign(empty), expected);
    assert.deepEqual(Buffer.from(signNoble(empty, secret)), expected);
    assert.equal(new Verifier().verify(expected, empty, kp.publicKey), true);
    assert.equal(verifyNoble(expected, empty, kp.publicKey), true);
  });
});

describe("domain separation", () => {
  const kp = generateKeyPair(Buffer.alloc(32, 1));
  const signer = new Signer(kp);
  const v = new Verifier();
  const transfer = {
    kind: MessageKind.Transfer,
    org: Buffer.alloc(20, 0xaa),
    actor: kp.id,
    nonce: 1n,
    expiry: 100,
    to: Buffer.alloc(20, 0xbb),
    amount: 10n,
  } satisfies TxBody;
  const sign = (b: TxBody) => signer.sign(signingPayload(encodeBody(b)));
  const verifies = (sig: Uint8Array, b: TxBody) => v.verify(sig, signingPayload(encodeBody(b)), kp.publicKey);

  it("the signed payload is SIGNING_TAG followed by the message", () => {
    const body = encodeBody(transfer);
    const payload = signingPayload(body);
    assert.deepEqual(payload.subarray(0, SIGNING_TAG.length), SIGNING_TAG);
    assert.deepEqual(payload.subarray(SIGNING_TAG.length), body);
  });

  it("a signature does not carry over to another org, another kind, or the untagged message", () => {
    const sig = sign(transfer);
    assert.equal(verifies(sig, transfer), true);
    assert.equal(verifies(sig, { ...transfer, org: Buffer.alloc(20, 0xcc) }), false);
    // A Pledge has the same acting fields and amount, but another kind byte.
    const pledge = {
      kind: MessageKind.Pledge,
      org: transfer.org,
      actor: transfer.actor,
      nonce: transfer.nonce,
      expiry: transfer.expiry,
      amount: transfer.amount,
    } satisfies TxBody;
    assert.equal(verifies(sig, pledge), false);
    assert.equal(verifies(sign(pledge), pledge), true);
    assert.equal(v.verify(sig, encodeBody(transfer), kp.publicKey), false);
  });
});

describe("key file", () => {
  const dir = tmpDir("leither-keys-");
  const kp = generateKeyPair();
  const secretHex = Buffer.from(kp.secretKey).toString("hex");
  const scryptN = 2 ** 10; // the default 2^17 takes ~0.5 s per derivation
  let n = 0;
  const fresh = () => join(dir, `key-${n++}.json`);
  const messages: string[] = [];

  /** Expects a KeyFileError with `code`, and keeps its message for the secret-leak check. */
  async function rejectsWith(p: Promise<unknown>, code: KeyFileErrorCode, re?: RegExp): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof KeyFileError, `not a KeyFileError: ${e}`);
      messages.push(e.message);
      assert.equal(e.code, code, e.message);
      if (re) assert.match(e.message, re);
      return true;
    });
  }

  /** Writes a plain key file, edits its JSON text, and writes it back (mode unchanged). */
  async function edited(edit: (text: string) => string, pair = kp): Promise<string> {
    const p = fresh();
    await writeKeyFile(p, pair);
    await writeFile(p, edit(await readFile(p, "utf8")));
    return p;
  }

  const samePair = (a: typeof kp, b: typeof kp) => {
    assert.deepEqual(Buffer.from(a.secretKey), Buffer.from(b.secretKey));
    assert.deepEqual(Buffer.from(a.publicKey), Buffer.from(b.publicKey));
    assert.deepEqual(a.id, b.id);
  };

  it("round-trips a plain key, in a 0600 file and with no temp file left", async () => {
    const p = fresh();
    await writeKeyFile(p, kp);
    samePair(await readKeyFile(p), kp);
    const doc = JSON.parse(await readFile(p, "utf8"));
    assert.equal(doc.format, "leither-key");
    assert.equal(doc.version, 1);
    assert.equal(doc.secretKey, secretHex);
    if (process.platform !== "win32") assert.equal((await stat(p)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
      [],
    );
  });

  it("round-trips an encrypted key whose file does not hold the secret", async () => {
    const p = fresh();
    await writeKeyFile(p, kp, { passphrase: "correct horse", scryptN });
    const text = await readFile(p, "utf8");
    assert.ok(!text.includes(secretHex));
    const doc = JSON.parse(text);
    assert.equal(doc.secretKey, undefined);
    assert.equal(doc.encrypted.kdf, "scrypt");
    assert.equal(doc.encrypted.N, scryptN);
    samePair(await readKeyFile(p, { passphrase: "correct horse" }), kp);
    if (process.platform !== "win32") assert.equal((await stat(p)).mode & 0o777, 0o600);
  });

  it("refuses to overwrite an existing file", async () => {
    const p = fresh();
    await writeKeyFile(p, kp);
    const other = generateKeyPair();
    await rejectsWith(writeKeyFile(p, other), "EXISTS", /already exists/);
    samePair(await readKeyFile(p), kp);
  });

  it("refuses a file others may read, telling the fix", { skip: process.platform === "win32" }, async () => {
    const p = fresh();
    await writeKeyFile(p, kp);
    await chmod(p, 0o644);
    await rejectsWith(readKeyFile(p), "PERMISSIONS", new RegExp(`chmod 600 ${p.replace(/[.\\]/g, "\\$&")}`));
  });

  it("a wrong or missing passphrase", async () => {
    const p = fresh();
    await writeKeyFile(p, kp, { passphrase: "right", scryptN });
    await rejectsWith(readKeyFile(p, { passphrase: "wrong" }), "BAD_PASSPHRASE");
    await rejectsWith(readKeyFile(p), "PASSPHRASE_REQUIRED");
  });

  it("a missing file", async () => {
    await rejectsWith(readKeyFile(join(dir, "none.json")), "NOT_FOUND");
  });

  it("corrupted JSON and fields: FORMAT naming the field, or MISMATCH", async () => {
    // V8 quotes the text around a JSON syntax error; here that text is the secret.
    await rejectsWith(
      readKeyFile(await edited((t) => t.replace(`"secretKey": "`, `"secretKey": #`))),
      "FORMAT",
      /not valid JSON/,
    );
    await rejectsWith(readKeyFile(await edited((t) => t.slice(0, -3))), "FORMAT");
    await rejectsWith(
      readKeyFile(await edited((t) => t.replace(secretHex, secretHex.slice(0, 62)))),
      "FORMAT",
      /"secretKey"/,
    );
    await rejectsWith(
      readKeyFile(await edited((t) => t.replace(secretHex, `${secretHex.slice(0, 63)}g`))),
      "FORMAT",
      /"secretKey"/,
    );
    await rejectsWith(
      readKeyFile(await edited((t) => t.replace(/"version": 1/, `"version": 2`))),
      "FORMAT",
      /"version"/,
    );
    const other = generateKeyPair();
    const pkHex = Buffer.from(kp.publicKey).toString("hex");
    const otherPk = Buffer.from(other.publicKey).toString("hex");
    await rejectsWith(readKeyFile(await edited((t) => t.replace(pkHex, otherPk))), "MISMATCH", /"publicKey"/);
    await rejectsWith(
      readKeyFile(await edited((t) => t.replace(kp.id.toString("hex"), other.id.toString("hex")))),
      "MISMATCH",
      /"id"/,
    );
    // In an encrypted file the public key is the cipher's AAD: swapping it fails decryption.
    const p = fresh();
    await writeKeyFile(p, kp, { passphrase: "pw", scryptN });
    await writeFile(p, (await readFile(p, "utf8")).replace(pkHex, otherPk));
    await rejectsWith(readKeyFile(p, { passphrase: "pw" }), "BAD_PASSPHRASE");
  });

  it("refuses to write a key pair whose public key is not its secret's", async () => {
    const p = fresh();
    const other = generateKeyPair();
    await rejectsWith(writeKeyFile(p, { ...kp, publicKey: other.publicKey }), "MISMATCH");
    await assert.rejects(stat(p), { code: "ENOENT" });
  });

  it("no error message contains any 8 hex digits of the secret", () => {
    assert.ok(messages.length >= 12, `only ${messages.length} messages collected`);
    const lower = messages.join("\n").toLowerCase();
    for (let i = 0; i + 8 <= secretHex.length; i++)
      assert.ok(!lower.includes(secretHex.slice(i, i + 8)), `a message leaks the secret: ${lower}`);
  });
});
