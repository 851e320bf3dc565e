/**
 * The Tendermint engine's rules one at a time (src/pulse/tendermint.ts); the simulation
 * (consensus-sim.test.ts) checks them together under faults.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Action, Height, quorum, weakQuorum } from "../src/pulse/tendermint.js";

const T = { propose: 100, proposeDelta: 50, vote: 80, voteDelta: 40 };
const C4 = ["a", "b", "c", "d"];
type A = Action<string>;
const ofType = <K extends A["type"]>(xs: A[], type: K) =>
  xs.filter((x): x is Extract<A, { type: K }> => x.type === type);

test("quorum is more than two thirds; f + 1 is what is left over it", () => {
  const q = [1, 2, 3, 3, 4, 5, 5, 6, 7, 7];
  for (let n = 1; n <= 10; n++) {
    assert.equal(quorum(n), q[n - 1], `n=${n}`);
    assert.ok(3 * quorum(n) > 2 * n);
    assert.equal(weakQuorum(n), n - quorum(n) + 1);
  }
});

test("a committee of one decides alone, in round 0", () => {
  const h = new Height<string>({ committee: ["a"], me: "a", timeouts: T });
  assert.deepEqual(ofType(h.start(), "build"), [{ type: "build", round: 0 }]);
  const prop = ofType(h.propose(0, "v1", "value1"), "proposal");
  assert.equal(prop.length, 1);
  const pv = ofType(
    h.onProposal({ round: 0, validRound: -1, id: "v1", value: "value1", signer: "a" }),
    "vote",
  );
  assert.deepEqual(pv, [{ type: "vote", step: "prevote", round: 0, id: "v1" }]);
  const out = h.onVote({ step: "prevote", round: 0, id: "v1", signer: "a" });
  assert.equal(ofType(out, "lock").length, 1);
  assert.deepEqual(ofType(out, "vote"), [{ type: "vote", step: "precommit", round: 0, id: "v1" }]);
  const d = ofType(h.onVote({ step: "precommit", round: 0, id: "v1", signer: "a" }), "decide");
  assert.equal(d.length, 1);
  assert.equal(d[0]!.value, "value1");
  assert.equal(d[0]!.precommits.length, 1);
});

/** Drives node `me` of four to a lock on `id` in round 0, then on to round 1. */
function lockedThenRound1(me: string, id: string): Height<string> {
  const h = new Height<string>({ committee: C4, me, timeouts: T });
  h.start();
  const out = h.onProposal({ round: 0, validRound: -1, id, value: `value-${id}`, signer: "a" });
  assert.deepEqual(ofType(out, "validate"), [{ type: "validate", id, value: `value-${id}` }]);
  assert.deepEqual(ofType(h.validated(id, true), "vote"), [{ type: "vote", step: "prevote", round: 0, id }]);
  for (const s of ["a", "b", me]) h.onVote({ step: "prevote", round: 0, id, signer: s });
  assert.equal(h.state.lockedRound, 0);
  for (const s of ["a", "b", "c", "d"])
    h.onVote({ step: "precommit", round: 0, id: null, signer: s === me ? me : s });
  // Precommits seen from 3+: timeout, then round 1.
  h.onTimeout("precommit", 0);
  assert.equal(h.state.round, 1);
  return h;
}

test("a locked bookkeeper prevotes nil for another value unless a later polka justifies it", () => {
  const h = lockedThenRound1("c", "v1");
  h.onProposal({ round: 1, validRound: -1, id: "v2", value: "value-v2", signer: "b" });
  assert.deepEqual(ofType(h.validated("v2", true), "vote"), [
    { type: "vote", step: "prevote", round: 1, id: null },
  ]);
});

test("a locked bookkeeper prevotes a value that has 2f+1 prevotes from a round after its lock", () => {
  const h = lockedThenRound1("c", "v1");
  // A polka for v2 in round 1 that c missed (its prevote was nil), re-proposed in round 2 with validRound 1.
  for (const s of ["a", "b", "d"]) h.onVote({ step: "prevote", round: 1, id: "v2", signer: s });
  h.onProposal({ round: 1, validRound: -1, id: "v2", value: "value-v2", signer: "b" });
  h.validated("v2", true);
  h.onTimeout("prevote", 1);
  for (const s of ["a", "b", "d"]) h.onVote({ step: "precommit", round: 1, id: null, signer: s });
  h.onTimeout("precommit", 1);
  assert.equal(h.state.round, 2);
  // Round 2's proposer is c itself (C4[2]), re-proposing v2 with its polka round.
  const out = h.onProposal({ round: 2, validRound: 1, id: "v2", value: "value-v2", signer: "c" });
  assert.ok(ofType(out, "vote").some((v) => v.step === "prevote" && v.id === "v2"));
});

test("only the round's proposer is heard; two proposals from it are equivocation", () => {
  const h = new Height<string>({ committee: C4, me: "c", timeouts: T });
  h.start();
  assert.deepEqual(h.onProposal({ round: 0, validRound: -1, id: "x", value: "x", signer: "b" }), []);
  h.onProposal({ round: 0, validRound: -1, id: "v1", value: "1", signer: "a", raw: "first" });
  const ev = ofType(
    h.onProposal({ round: 0, validRound: -1, id: "v2", value: "2", signer: "a", raw: "second" }),
    "equivocation",
  );
  assert.deepEqual(ev, [{ type: "equivocation", signer: "a", first: "first", second: "second" }]);
  const ev2 = ofType(h.onVote({ step: "prevote", round: 0, id: "v1", signer: "d", raw: 1 }), "equivocation");
  assert.equal(ev2.length, 0);
  const ev3 = ofType(h.onVote({ step: "prevote", round: 0, id: null, signer: "d", raw: 2 }), "equivocation");
  assert.deepEqual(ev3, [{ type: "equivocation", signer: "d", first: 1, second: 2 }]);
  // Outsiders do not count.
  assert.deepEqual(h.onVote({ step: "prevote", round: 0, id: "v1", signer: "zz" }), []);
});

test("f + 1 bookkeepers in a later round move a node there; f alone do not", () => {
  const h = new Height<string>({ committee: C4, me: "d", timeouts: T });
  h.start();
  h.onVote({ step: "prevote", round: 5, id: null, signer: "a" });
  assert.equal(h.state.round, 0);
  h.onVote({ step: "prevote", round: 5, id: null, signer: "b" });
  assert.equal(h.state.round, 5);
});

test("timeouts grow with the round", () => {
  const h = new Height<string>({ committee: C4, me: "d", timeouts: T });
  const t0 = ofType(h.start(), "timeout")[0]!;
  assert.equal(t0.ms, 100);
  h.onTimeout("propose", 0);
  for (const s of C4) h.onVote({ step: "prevote", round: 0, id: null, signer: s });
  for (const s of C4) h.onVote({ step: "precommit", round: 0, id: null, signer: s });
  const t1 = ofType(h.onTimeout("precommit", 0), "timeout").find((t) => t.step === "propose")!;
  assert.equal(t1.round, 1);
  assert.equal(t1.ms, 150);
});

test("a restarted bookkeeper keeps its lock and re-proposes the locked value with its polka round", () => {
  const proposal = { round: 2, validRound: -1, id: "v9", value: "value-v9", signer: "c" };
  const polka = ["a", "b", "c"].map((s) => ({ step: "prevote" as const, round: 2, id: "v9", signer: s }));
  const h = new Height<string>({ committee: C4, me: "d", timeouts: T, lock: { round: 2, proposal, polka } });
  // Round 3's proposer is d.
  const out = h.start(3);
  assert.deepEqual(ofType(out, "proposal"), [
    { type: "proposal", round: 3, validRound: 2, id: "v9", value: "value-v9" },
  ]);
  const r = h.resend();
  assert.ok(r.votes.filter((v) => v.round === 2 && v.id === "v9").length >= 3, "the polka is relayed");
});

test("a certificate finishes a node that missed the round", () => {
  const h = new Height<string>({ committee: C4, me: "d", timeouts: T });
  h.start();
  h.onProposal({ round: 3, validRound: -1, id: "v", value: "val", signer: "d" });
  for (const s of ["a", "b", "c"]) h.onVote({ step: "precommit", round: 3, id: "v", signer: s });
  const out = h.validated("v", true);
  const d = ofType(out, "decide");
  assert.equal(d.length, 1);
  assert.equal(d[0]!.round, 3);
  assert.equal(h.decided?.id, "v");
});

test("a restart locked in its own round, as that round's proposer, proposes the same proposal again", async () => {
  const proposal = { round: 3, validRound: 1, id: "v9", value: "value-v9", signer: "d" };
  const polka = ["a", "b", "d"].map((s) => ({ step: "prevote" as const, round: 3, id: "v9", signer: s }));
  const h = new Height<string>({ committee: C4, me: "d", timeouts: T, lock: { round: 3, proposal, polka } });
  const out = ofType(h.start(3), "proposal");
  assert.deepEqual(out, [{ type: "proposal", round: 3, validRound: 1, id: "v9", value: "value-v9" }]);
});

test("a signer's equivocation in one slot is reported once, however many values it signs", () => {
  const h = new Height<string>({ committee: C4, me: "c", timeouts: T });
  h.start();
  let reports = 0;
  for (let i = 0; i < 20; i++)
    reports += ofType(
      h.onVote({ step: "prevote", round: 0, id: `x${i}`, signer: "d", raw: i }),
      "equivocation",
    ).length;
  assert.equal(reports, 1);
  // Another step is another slot.
  h.onVote({ step: "precommit", round: 0, id: "y0", signer: "d" });
  assert.equal(
    ofType(h.onVote({ step: "precommit", round: 0, id: "y1", signer: "d" }), "equivocation").length,
    1,
  );
});
