/**
 * The transaction batch a committee member relays (kind 0x4a, docs/PROTOCOL.md §11.5): a fixed
 * vector, and every tampered byte refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeTxBatch, signTxBatch } from "../src/dht/wire.js";
import { DecodeError } from "../src/util/bytes.js";
import { makeSigners, Txs } from "./helpers/ledger-signers.js";

const [orgKey, keeper, alice, bob] = makeSigners(4, "tx-batch-vector");
const txs = new Txs(orgKey!.id);
const batch = [txs.apply(alice!, 1), txs.apply(bob!, 1)];
const TIME = 1_790_000_000_000;
const bytes = signTxBatch({ org: orgKey!.id, txs: batch, timeMs: TIME }, keeper!);

test("a relayed batch: its layout, and it decodes to what was signed", () => {
  assert.equal(bytes[0], 1);
  assert.equal(bytes[1], 0x4a);
  assert.ok(bytes.subarray(2, 22).equals(orgKey!.id));
  assert.equal(Number(bytes.readBigUInt64BE(22)), TIME);
  assert.equal(bytes.readUInt16BE(30), 2);
  assert.equal(bytes.readUInt32BE(32), batch[0]!.length);
  assert.equal(bytes.length, 32 + batch.reduce((n, t) => n + 4 + t.length, 0) + 96);
  const d = decodeTxBatch(bytes);
  assert.ok(d.org.equals(orgKey!.id));
  assert.equal(d.timeMs, TIME);
  assert.ok(d.signer.equals(keeper!.id));
  assert.deepEqual(d.txs, batch);
  // ed25519 is deterministic: the same fields and key give the same bytes.
  assert.ok(signTxBatch({ org: orgKey!.id, txs: batch, timeMs: TIME }, keeper!).equals(bytes));
});

test("every tampered byte, truncation and a trailing byte are refused", () => {
  for (let i = 0; i < bytes.length; i++) {
    const t = Buffer.from(bytes);
    t[i]! ^= 0x01;
    assert.throws(() => decodeTxBatch(t), DecodeError, `byte ${i}`);
  }
  assert.throws(() => decodeTxBatch(bytes.subarray(0, bytes.length - 1)), DecodeError);
  assert.throws(() => decodeTxBatch(Buffer.concat([bytes, Buffer.of(0)])), DecodeError);
  const many = Buffer.from(bytes);
  many.writeUInt16BE(4097, 30);
  assert.throws(() => decodeTxBatch(many), DecodeError);
  assert.throws(
    () => signTxBatch({ org: orgKey!.id, txs: new Array(4097).fill(batch[0]) }, keeper!),
    RangeError,
  );
});
