import { strict as assert } from "node:assert";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { Host } from "../src/dht/host.js";
import { orgRecordKey, signOrgRecord } from "../src/dht/records.js";
import { makeSigners } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";

const [orgKey, sup] = makeSigners(2, "dht-host") as [Signer, Signer];
const rec = (seq: bigint, name: string) =>
  signOrgRecord({ org: orgKey.id, seq, name, pulsePeriodMs: 1000, supervisor: sup.id }, orgKey);
const dir = tmpDir("leither-dht-");
const hosts: Host[] = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
});

describe("libp2p host on loopback", { timeout: 60_000 }, () => {
  it("a node that knows one peer finds an organization's record; a newer one replaces it; forgeries never enter", async () => {
    const a = await Host.start({ peerKeyPath: join(dir, "a.key") });
    hosts.push(a);
    const b = await Host.start({ peerKeyPath: join(dir, "b.key"), bootstrap: a.addrs });
    hosts.push(b);
    const c = await Host.start({ peerKeyPath: join(dir, "c.key"), bootstrap: b.addrs });
    hosts.push(c);
    // Wait (bounded) until identify has filled every routing table.
    for (
      let i = 0;
      i < 100 &&
      hosts.some(
        (h) => (h.node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size === 0,
      );
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    const key = orgRecordKey(orgKey.id);
    await a.put(key, rec(1n, "first"), AbortSignal.timeout(10_000));
    const got = await c.get(key, AbortSignal.timeout(10_000));
    assert.equal(got?.kind === "org" && got.name, "first");
    await b.put(key, rec(2n, "second"), AbortSignal.timeout(10_000));
    const newer = await c.get(key, AbortSignal.timeout(10_000));
    assert.equal(newer?.kind === "org" && newer.name, "second");
    const forged = Buffer.from(rec(3n, "forged"));
    forged[40]! ^= 1;
    await assert.rejects(a.put(key, forged, AbortSignal.timeout(5000)), /signature/);
    const after = await a.get(key, AbortSignal.timeout(10_000));
    assert.equal(after?.seq, 2n);
    // A peer replays the older, validly signed record straight into the DHT: it cannot roll it back.
    await b.node.contentRouting
      .put(key, rec(1n, "first"), { signal: AbortSignal.timeout(10_000) })
      .catch(() => undefined);
    assert.equal((await c.get(key, AbortSignal.timeout(10_000)))?.seq, 2n);
    assert.equal((await a.get(key, AbortSignal.timeout(10_000)))?.seq, 2n);
    // Its own put of an older record is refused too: kad-dht would store it over the newer one locally.
    await assert.rejects(a.put(key, rec(1n, "first"), AbortSignal.timeout(5000)), /stale/);
    assert.equal((await a.get(key, AbortSignal.timeout(10_000)))?.seq, 2n);
  });

  it("a malformed bootstrap address fails the start before anything listens", async () => {
    await assert.rejects(Host.start({ peerKeyPath: join(dir, "e.key"), bootstrap: ["not-a-multiaddr"] }));
  });

  it("keeps its peer id across restarts", async () => {
    const path = join(dir, "d.key");
    const d1 = await Host.start({ peerKeyPath: path });
    const id = d1.node.peerId.toString();
    await d1.stop();
    const d2 = await Host.start({ peerKeyPath: path });
    hosts.push(d2);
    assert.equal(d2.node.peerId.toString(), id);
  });
});
