import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "interface-datastore";
import { BoundedDatastore } from "../src/dht/datastore.js";

const rec = (n: number) => new Key(`/dht/record/r${n}`);

describe("BoundedDatastore", () => {
  it("keeps DHT records within its budget, dropping those stored longest ago; other keys stay", async () => {
    const ds = new BoundedDatastore(1000);
    await ds.put(new Key("/peers/self"), new Uint8Array(5000));
    for (let i = 0; i < 10; i++) await ds.put(rec(i), new Uint8Array(200));
    assert.equal(ds.recordBytes, 1000);
    assert.equal(await ds.has(rec(4)), false, "the oldest went first");
    assert.equal(await ds.has(rec(5)), true);
    assert.equal(await ds.has(new Key("/peers/self")), true, "not a record: never dropped");
    // Stored again: it moves to the back, and the next oldest goes.
    await ds.put(rec(5), new Uint8Array(200));
    await ds.put(rec(10), new Uint8Array(200));
    assert.equal(await ds.has(rec(5)), true);
    assert.equal(await ds.has(rec(6)), false);
    await ds.delete(rec(7));
    assert.equal(ds.recordBytes, 800);
    // A record larger than the whole budget is kept alone.
    await ds.put(rec(11), new Uint8Array(5000));
    assert.equal(ds.recordBytes, 5000);
    assert.equal(await ds.has(rec(11)), true);
  });
});
