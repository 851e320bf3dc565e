import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerThrottle } from "../src/dht/throttle.js";

describe("PeerThrottle", () => {
  it("lets a peer burst, then holds it to its rate; peers are counted apart", () => {
    let now = 0;
    const t = new PeerThrottle(10, 20, () => now);
    let granted = 0;
    for (let i = 0; i < 100; i++) if (t.take("flooder")) granted++;
    assert.equal(granted, 20, "a burst of 20");
    assert.equal(t.take("flooder"), false);
    assert.equal(t.take("other"), true, "another peer has its own bucket");
    now += 500; // half a second refills 5
    granted = 0;
    for (let i = 0; i < 100; i++) if (t.take("flooder")) granted++;
    assert.equal(granted, 5);
    now += 60_000; // never more than the burst
    granted = 0;
    for (let i = 0; i < 100; i++) if (t.take("flooder")) granted++;
    assert.equal(granted, 20);
  });
});
