/**
 * The draw over a prepared pulse (src/election/prepared-source.ts): at each draw's seed pulse,
 * committeeFor over the ledger plus the pulse not yet committed gives exactly what committeeFor over
 * the ledger gives once it is, for a 4-pulse cycle (the seed pulse is the cycle's last) and a longer
 * one, across two draws that change the committee.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { committeeFor } from "../src/election/committee.js";
import { cycleOf, schedule } from "../src/election/cycle.js";
import { preparedSource } from "../src/election/prepared-source.js";
import { PulseError } from "../src/ledger/store-types.js";
import { candidates, cast, keepers, Script, scriptParams, voter } from "./helpers/committee-script.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx, hex } from "./helpers/ledger-signers.js";

const everyone = [cast.orgKey.id, cast.supervisor.id, ...cast.users.map((u) => u.id)];
const ids = (members: readonly Buffer[]) => members.map(hex).sort();

for (const L of [4, 8]) {
  describe(`a draw over a prepared pulse, cycles of ${L} pulses`, () => {
    it("gives the committee the ledger gives once the pulse commits; both draws change it", async () => {
      const chain = await Chain.open(cast.orgKey.id);
      allOk(await chain.pulse([genesisTx(cast.orgKey, scriptParams(L))]));
      const ledger = chain.ledger;
      const script = new Script(chain.txs, L);
      const drawn: (string | boolean)[][] = [];
      for (let p = 1; p < 3 * L; p++) {
        const prepared = await ledger.prepare(p, script.at(p), { proofs: false });
        assert.ok(
          prepared.results.every((r) => r.ok),
          `pulse ${p}: ${JSON.stringify(prepared.results)}`,
        );
        const view = preparedSource(ledger, prepared);
        const c = cycleOf(p, L);
        const seeds = p === schedule(c, L).revealLast;
        const before = seeds ? committeeFor(view, c) : undefined;
        const accounts = everyone.map((id) => view.account(id));
        assert.equal(view.head, p);
        assert.deepEqual(view.rootAt(), prepared.root);
        if (p > 1) assert.deepEqual(view.rootAt(p - 1), ledger.rootAt(p - 1), "older pulses: the ledger's");
        assert.throws(() => view.accountsAt(p), RangeError);
        await prepared.commit();
        // The view read the pulse as the ledger now has it.
        assert.deepEqual(
          accounts,
          everyone.map((id) => ledger.account(id)),
        );
        assert.deepEqual(prepared.root, ledger.rootAt(p));
        if (before !== undefined) {
          assert.deepEqual(before, committeeFor(ledger, c), `the draw of cycle ${c}`);
          drawn.push([before.carried, ...ids(before.members)]);
        }
      }
      const [U0, U1, U2] = candidates;
      assert.deepEqual(drawn, [
        [true, ...ids(keepers.map((k) => k.id))],
        [false, ...ids([U0.id, U1.id])],
        [false, ...ids([U1.id, U2.id])],
      ]);
      await chain.close();
    });
  });
}

describe("the prepared view's limits", () => {
  it("is for the pulse after the head only; its accounts are not read once another pulse commits", async () => {
    const chain = await Chain.open(cast.orgKey.id);
    allOk(await chain.pulse([genesisTx(cast.orgKey, scriptParams(4))]));
    const script = new Script(chain.txs, 4);
    const ledger = chain.ledger;
    const far = { pulse: 2, root: ledger.rootAt(), account: () => undefined };
    assert.throws(() => preparedSource(ledger, far), /not the one after the ledger's head 0/);
    const first = await ledger.prepare(1, script.at(1), { proofs: false });
    const other = await ledger.prepare(1, [], { proofs: false });
    // A changed account comes from the pulse, an unchanged one from the head.
    assert.equal(first.account(voter.id)!.nonce, 1n);
    assert.equal(first.account(cast.supervisor.id)!.nonce, 0n);
    await first.commit();
    assert.equal(first.account(voter.id)!.nonce, 1n, "what the pulse changed is its own");
    assert.throws(
      () => other.account(cast.supervisor.id),
      (e: unknown) => e instanceof PulseError && e.code === "STALE",
    );
    other.discard();
    await chain.close();
  });
});
