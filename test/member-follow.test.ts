/**
 * A member node (src/org/membership.ts) follows an organization whose committee changes twice, by
 * certificates alone: it starts from the genesis committee, takes the gossiped certificates in
 * order, learns each next committee from the bookkeeper's Committees answers as a cycle ends, and
 * takes heartbeats only from the committee keeping the next pulse, never from the future.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cycleOf } from "../src/election/cycle.js";
import { committeeLinks } from "../src/org/bookkeeping.js";
import { genesisProof } from "../src/org/committee-chain.js";
import { Membership } from "../src/org/membership.js";
import { orgServer } from "../src/org/server.js";
import { testBooks } from "./helpers/books.js";
import { certifiedChain, certify } from "./helpers/certified-chain.js";
import { cast, keepers } from "./helpers/committee-script.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const L = 8;

describe("a member follows a changing committee by its certificates", () => {
  it("learns each committee as its cycle starts, refuses what the committee did not sign", async () => {
    const { ledger, book } = await certifiedChain(L);
    const books = testBooks(ledger, (p) => (p === 0 ? genesisProof(0) : ledger.certificateAt(p)!));
    let asked = 0;
    const server = orgServer({
      // The member joins at pulse 1: every later pulse reaches it by gossip.
      books: () => ({
        ...books,
        final: (p = 1) => books.final(p),
        committees: (from, count) => {
          asked++;
          return committeeLinks(ledger, (q) => book.of(q), from, count);
        },
      }),
      joined: () => undefined,
      key: () => undefined,
      autoCountersign: false,
      applied: () => undefined,
      received: () => undefined,
    });
    const net = {
      request: (_t: string, bytes: Uint8Array, signal: AbortSignal) => server(bytes, signal),
      getRecord: async () => undefined,
      publish: async () => undefined,
      targetsOf: () => [],
    };
    const node = cast.users[0]!;
    const m = await Membership.connect(
      { net, node, key: () => undefined, file: join(tmpDir("leither-member-"), "membership.json") },
      ledger.org!.id,
      AbortSignal.timeout(10_000),
      { saved: ["bookkeeper"] },
    );
    assert.equal(m.latest.pulse, 1);
    assert.equal(m.orgView.chain.known, 0);

    const head = ledger.head!;
    for (let p = 2; p <= head; p++) {
      const bytes = ledger.certificateAt(p)!;
      // Cycles start: the next committee is learnt from the cycle's last pulse, in the background,
      // and a certificate that came before it is taken once it holds.
      await until(
        async () => {
          const c = m.checkCertificate(bytes);
          if (c !== undefined) m.onCertified(c);
          return m.latest.pulse >= p ? true : undefined;
        },
        5000,
        `pulse ${p} taken`,
        20,
      );
      assert.equal(m.latest.pulse, p);
      assert.deepEqual(m.latest.root, ledger.rootAt(p));
      // Again: not news, and no signature is checked for it.
      assert.equal(m.checkCertificate(bytes), undefined);
    }
    assert.equal(m.orgView.chain.known, cycleOf(head, L));
    assert.ok(asked >= 2 && asked <= 4, `links asked ${asked} times`);

    // Signed by a committee that left: refused; by too many signers: refused before any signature.
    const p = head + 1;
    const root = ledger.rootAt();
    const old = certify(
      p,
      keepers.map((k) => k.id),
      root,
      Buffer.alloc(32),
      Buffer.alloc(32),
    );
    assert.throws(() => m.checkCertificate(old), /not in the committee|signers for a committee/);
    const members = book.of(p);
    const crowd = certify(
      p,
      [...members, ...keepers.map((k) => k.id)],
      root,
      Buffer.alloc(32),
      Buffer.alloc(32),
    );
    assert.throws(() => m.checkCertificate(crowd), /signers for a committee/);

    // Heartbeats: from the committee of the next pulse, not from the clock's future, once a slot.
    const slot = Math.floor(Date.now() / ledger.org!.params.pulsePeriodMs);
    const beat = (who: Buffer, s: number) => m.heartbeat(who, s, head);
    const member = members[0]!;
    const outsider = keepers.map((k) => k.id).find((id) => !members.some((x) => x.equals(id)));
    if (outsider !== undefined) assert.equal(beat(outsider, slot), false, "not of the committee");
    assert.equal(beat(member, slot + 1000), false, "a slot far ahead of the clock");
    assert.equal(beat(member, slot), true);
    assert.equal(beat(member, slot), false, "the same slot again");
    m.close();
    await ledger.close();
  });
});
