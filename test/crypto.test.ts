import { strict as assert } from "node:assert";
import { createHash, generateKeyPairSync } from "node:crypto";
import { it } from "node:test";
import { accountId } from "../src/crypto/account-id.js";

it("an account id is the first 20 bytes of SHA-256 of the 32-byte ed25519 public key", () => {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32); // SPKI ends with the raw key
  const id = accountId(raw);
  assert.equal(id.length, 20);
  assert.deepEqual(id, createHash("sha256").update(raw).digest().subarray(0, 20));
  // A fixed vector (computed with Python's hashlib): the key 00 01 .. 1f.
  const k = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(accountId(k).toString("hex"), "630dcd2966c4336691125448bbb25b4ff412a49c");
  assert.throws(() => accountId(Buffer.alloc(31)), RangeError);
});
