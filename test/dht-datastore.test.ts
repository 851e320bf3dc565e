import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Key } from "interface-datastore";
import { BoundedDatastore, StoreFullError } from "../src/dht/datastore.js";

const rec = (n: number) => new Key(`/dht/record/r${n}`);
/** What one 200-byte record under rec(n) costs (n < 10). */
const COST = 200 + rec(0).toString().length + 256;

describe("BoundedDatastore", () => {
  it("refuses records under new keys past its budget; held ones are still replaced; other keys are not counted", async () => {
    const ds = new BoundedDatastore(4 * COST);
    await ds.put(new Key("/peers/self"), new Uint8Array(50_000));
    for (let i = 0; i < 4; i++) await ds.put(rec(i), new Uint8Array(200));
    assert.equal(ds.recordBytes, 4 * COST);
    assert.throws(() => ds.put(rec(4), new Uint8Array(200)), StoreFullError);
    assert.equal(await ds.has(rec(4)), false);
    // A newer version of a record already held takes its place.
    await ds.put(rec(2), new Uint8Array(200).fill(7));
    assert.deepEqual(await ds.get(rec(2)), new Uint8Array(200).fill(7));
    assert.equal(ds.recordBytes, 4 * COST);
    // Deleted, it makes room.
    await ds.delete(rec(1));
    assert.equal(ds.recordBytes, 3 * COST);
    await ds.put(rec(5), new Uint8Array(200));
    assert.equal(await ds.has(rec(5)), true);
    assert.equal(await ds.has(new Key("/peers/self")), true);
  });

  it("keeps no provider records", async () => {
    const ds = new BoundedDatastore(1_000_000);
    await ds.put(new Key("/dht/provider/abc/def"), new Uint8Array(10));
    assert.equal(await ds.has(new Key("/dht/provider/abc/def")), false);
  });
});
