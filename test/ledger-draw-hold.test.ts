/**
 * Retention and the election draw (src/election/cycle.ts drawHold): the draw reads the candidates
 * at the cycle's snapshot pulse when the reveal window ends, a quarter cycle later, further back than
 * a small retention keeps. The ledger keeps that snapshot until the draw is past, whatever its policy.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { committeeFor } from "../src/election/committee.js";
import { drawHold, schedule } from "../src/election/cycle.js";
import { PulseError } from "../src/ledger/store-types.js";
import { cast, Script, scriptParams } from "./helpers/committee-script.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx } from "./helpers/ledger-signers.js";

describe("the election draw's snapshot outlives a small retention", () => {
  it("drawHold holds the snapshot from the snapshot to one pulse after the window", () => {
    const L = 16;
    const s = schedule(1, L);
    assert.equal(drawHold(s.snapshot - 1, L), undefined);
    for (let h = s.snapshot; h <= s.revealLast + 1; h++)
      assert.equal(drawHold(h, L), s.snapshot, `head ${h}`);
    assert.equal(drawHold(s.revealLast + 2, L), undefined);
    // A cycle of 4: the pulse after the window opens the next cycle, and still holds.
    assert.equal(drawHold(schedule(0, 4).revealLast + 1, 4), schedule(0, 4).snapshot);
  });

  for (const hold of [true, false]) {
    it(`keepLast 1 ${hold ? "keeps" : "without the hold loses"} the snapshot until the draw`, async () => {
      const L = 16;
      const chain = await Chain.open(cast.orgKey.id, {
        retention: { keepLast: 1 },
        holdDrawSnapshot: hold,
        indexTxs: true,
      });
      allOk(await chain.pulse([genesisTx(cast.orgKey, scriptParams(L))]));
      const script = new Script(chain.txs, L, true);
      const { snapshot, revealLast } = schedule(0, L);
      for (let p = 1; p <= revealLast; p++) {
        allOk(await chain.pulse(script.at(p)));
        await chain.ledger.pruneAll();
      }
      if (hold) {
        // The draw at the window's end reads the snapshot: here, as the committee book does.
        assert.ok([...chain.ledger.accountsAt(snapshot)].length > 0);
        assert.ok(committeeFor(chain.ledger, 0).members.length > 0);
      } else {
        assert.throws(() => [...chain.ledger.accountsAt(snapshot)], PulseError);
        assert.throws(() => committeeFor(chain.ledger, 0), PulseError);
      }
      // Past the draw the snapshot goes as the policy says.
      for (let p = revealLast + 1; p <= revealLast + 2; p++) {
        allOk(await chain.pulse(script.at(p)));
        await chain.ledger.pruneAll();
      }
      assert.deepEqual(chain.ledger.retained(), [revealLast + 2]);
      await chain.ledger.close();
    });
  }
});
