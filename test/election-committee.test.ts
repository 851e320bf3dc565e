/**
 * The committee of each cycle from a real ledger (src/election/committee.ts): two election cycles
 * with reveals and changed votes, each committee checked against one the test computes on its own
 * from docs/PROTOCOL.md §12 (helpers/election-reference.ts), reading the accounts it knows by id.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import type { ElectionSource } from "../src/election/accounts.js";
import { committeeFor, committeeOf } from "../src/election/committee.js";
import { commitment } from "../src/election/draw.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { type RefAccount, refCommittee, refSchedule } from "./helpers/election-reference.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx, hex, makeCast, orgParams, secretOf } from "./helpers/ledger-signers.js";

const cast = makeCast(8);
const S = cast.supervisor;
const U = cast.users as Signer[];
/** Users 0-4 stand; 5-7 vote. */
const CANDIDATES = U.slice(0, 5);
const VOTERS = U.slice(5, 8);
const L = 16; // cycle c: snapshot 16c + 8, reveals 16c + 9 .. 16c + 12
const PARAMS: OrgParams = {
  ...orgParams(S, {
    supply: 1_000_000n,
    minDeposit: 100n,
    distribution: [[S, 1000n], ...U.map((u) => [u, 10_000n] as const)],
  }),
  electionCycle: L,
  committeeSize: 3,
};
const EVERYONE = [cast.orgKey.id, S.id, ...U.map((u) => u.id)];

async function open(): Promise<{ chain: Chain }> {
  const chain = new Chain(await Ledger.open(new MemoryKV()), cast.orgKey.id);
  allOk(await chain.pulse([genesisTx(cast.orgKey, PARAMS)]));
  return { chain };
}

const idleUntil = async (chain: Chain, pulse: number) => {
  while (chain.next < pulse) allOk(await chain.pulse([]));
};

/** The committee the test computes itself: accounts read by id, the rules of §12 applied by the reference. */
function expected(chain: Chain, cycle: number): string[] {
  const sch = refSchedule(cycle, L);
  const atSnapshot = new Map<string, RefAccount>();
  for (const id of EVERYONE) {
    const a = chain.ledger.account(id, sch.snapshot);
    if (a !== undefined) atSnapshot.set(hex(id), a);
  }
  const ref = refCommittee({
    cycle,
    size: PARAMS.committeeSize,
    minDeposit: PARAMS.minDeposit,
    atSnapshot,
    revealAt: (id) => chain.ledger.account(Buffer.from(id, "hex"), sch.revealLast)?.reveal ?? null,
    rootHex: hex(chain.ledger.rootAt(sch.revealLast).hash),
  });
  return ref.members.length > 0 ? ref.members : cycle === 0 ? [hex(S.id)] : expected(chain, cycle - 1);
}

describe("the committee of each cycle, from the ledger", () => {
  it("two cycles with changed votes: each committee is the one the rules give, and it changes", async () => {
    const { chain } = await open();
    const t = chain.txs;
    // The Ledger is an ElectionSource as it is.
    const src: ElectionSource = chain.ledger;
    // Pulses 1-4: everyone joins, the candidates pledge different deposits and declare.
    allOk(await chain.pulse(U.map((u) => t.apply(u, 1))));
    allOk(await chain.pulse(U.map((u, i) => t.approve(S, u, i < 5 ? Role.Member : Role.Guest, i + 1))));
    allOk(await chain.pulse(CANDIDATES.map((u, i) => t.pledge(u, 100 * (i + 1), 2))));
    allOk(await chain.pulse(CANDIDATES.map((u) => t.candidacy(u, true, 3))));
    // Cycle 0's votes: heavy ones for users 0 and 1.
    allOk(await chain.pulse([t.vote(VOTERS[0]!, U[0]!, 9000, 2), t.vote(VOTERS[1]!, U[1]!, 9000, 2)]));
    // Reveals of cycle 0 (pulses 9-12); user 4 withholds its own.
    const s0 = refSchedule(0, L);
    await idleUntil(chain, s0.revealFirst);
    allOk(await chain.pulse(CANDIDATES.slice(0, 2).map((u) => t.reveal(u, 0, 4))));
    await idleUntil(chain, s0.revealLast);
    allOk(await chain.pulse(CANDIDATES.slice(2, 4).map((u) => t.reveal(u, 0, 4))));

    const c0 = committeeFor(src, 0);
    assert.deepEqual(c0.members.map(hex), expected(chain, 0));
    assert.deepEqual([c0.snapshot, c0.seedPulse, c0.serves, c0.carried], [8, 12, 1, false]);
    assert.deepEqual(
      c0.weights.map((w) => [hex(w.id), w.weight]),
      CANDIDATES.slice(0, 4)
        .map((u, i) => [hex(u.id), BigInt(100 * (i + 1)) + (i < 2 ? 9000n : 0n)] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      "deposit plus votes; user 4, who did not reveal, takes no part",
    );
    assert.equal(c0.members.length, 3);
    assert.ok(!c0.members.some((m) => m.equals(U[4]!.id)));

    // Cycle 1: the votes move to users 2 and 3; user 4 declares again after the snapshot and
    // reveals the new secret, which the rule accepts but the draw does not count.
    const s1 = refSchedule(1, L);
    await idleUntil(chain, s1.snapshot - 1);
    allOk(
      await chain.pulse([
        t.vote(VOTERS[0]!, U[2]!, 9000, 3),
        t.vote(VOTERS[1]!, U[3]!, 9000, 3),
        t.vote(VOTERS[2]!, U[3]!, 5000, 2),
        t.vote(VOTERS[0]!, null, 0, 4), // withdrawn and cast again in one pulse: the last one stands
        t.vote(VOTERS[0]!, U[2]!, 9500, 5),
      ]),
    );
    await idleUntil(chain, s1.revealFirst);
    const fresh = Buffer.alloc(32, 0x44);
    allOk(
      await chain.pulse([
        ...CANDIDATES.slice(0, 4).map((u) => t.reveal(u, 1, 5)),
        t.candidacy(U[4]!, true, 4, { commitment: commitment(fresh) }),
      ]),
    );
    allOk(await chain.pulse([t.reveal(U[4]!, 1, 5, { secret: fresh })]));
    assert.deepEqual(chain.account(U[4]!)?.reveal, { cycle: 1, secret: fresh });
    await idleUntil(chain, s1.revealLast + 1);

    const c1 = committeeFor(src, 1);
    assert.deepEqual(c1.members.map(hex), expected(chain, 1));
    assert.equal(c1.weights.length, 4, "user 4's reveal does not open its snapshot commitment");
    assert.deepEqual(
      c1.reveals.map((r) => hex(r.commitment)).sort(),
      CANDIDATES.slice(0, 4)
        .map((u) => hex(commitment(secretOf(u, 1))))
        .sort(),
    );
    assert.notDeepEqual(
      new Set(c1.members.map(hex)),
      new Set(c0.members.map(hex)),
      "the votes moved, and so did the committee",
    );
    assert.deepEqual(committeeOf(src, 0), [S.id]);
    assert.deepEqual(committeeOf(src, 1).map(hex), c0.members.map(hex));
    assert.deepEqual(committeeOf(src, 2).map(hex), c1.members.map(hex));

    // Cycle 2: no one reveals, so cycle 2's committee continues into cycle 3.
    await idleUntil(chain, refSchedule(2, L).revealLast + 1);
    const c2 = committeeFor(src, 2);
    assert.deepEqual([c2.carried, c2.weights.length], [true, 0]);
    assert.deepEqual(c2.members.map(hex), c1.members.map(hex));
    assert.deepEqual(c2.members.map(hex), expected(chain, 2));
    await chain.close();
  });

  it("enumerates every account of a pulse; refuses a draw whose seed pulse is not committed yet", async () => {
    const { chain } = await open();
    // The Ledger is an ElectionSource as it is.
    const src: ElectionSource = chain.ledger;
    allOk(await chain.pulse(U.map((u) => chain.txs.apply(u, 1))));
    const ids = [...src.accountsAt(0)].map((e) => hex(e.id));
    assert.deepEqual(ids, EVERYONE.map(hex).sort(), "every leaf, by id");
    assert.deepEqual(
      [...src.accountsAt(1)].map((e) => e.account.role),
      [...src.accountsAt(1)].map((e) => chain.ledger.account(e.id, 1)!.role),
    );
    assert.throws(() => committeeFor(src, 0), /needs pulse 12; the ledger is at 1/);
    assert.throws(() => src.accountsAt(5), /pulse 5 is not committed yet/);
    await chain.close();
  });
});
