/**
 * committee_info: on a real ledger with a 16-pulse election cycle (the handler, since a daemon's
 * genesis fixes 1800 pulses), its members, weights, reveals and phase checked against src/election
 * across three cycles, what retention dropped said in notes; the no-organization and member-node
 * errors; and on a daemon (--no-net), cycle 0 kept by the supervisor.
 */
import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import type { ElectionSource } from "../src/election/accounts.js";
import { committeeFor, committeeOf } from "../src/election/committee.js";
import { candidateWeights } from "../src/election/weights.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import type { LedgerOptions } from "../src/ledger/ledger-types.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { NonceBook } from "../src/pulse/nonces.js";
import { type CommitteeInfoJson, METHODS } from "../src/rpc/api.js";
import { RpcCallError } from "../src/rpc/client.js";
import { RpcError, RpcErrorCode } from "../src/rpc/errors.js";
import type { RpcDeps } from "../src/rpc/methods.js";
import { handlers, type NetDeps } from "../src/rpc/methods-net.js";
import { validate } from "../src/rpc/schema.js";
import { cleanupDaemons, daemonDir, spawnDaemon, stopDaemon, waitReady } from "./helpers/daemon.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx, hex, makeCast, orgParams } from "./helpers/ledger-signers.js";

const cast = makeCast(8);
const S = cast.supervisor;
const U = cast.users as Signer[];
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
  committee: [], // cycle 0: the supervisor alone
};

/** RpcDeps enough for the committee (and the handlers' construction). */
function deps(ledger: Ledger): RpcDeps {
  return {
    ledger,
    keys: { node: { id: S.id } },
    nonces: new NonceBook(),
  } as unknown as RpcDeps;
}

async function open(opts: LedgerOptions = {}) {
  const kv = new MemoryKV();
  const chain = new Chain(await Ledger.open(kv, opts), cast.orgKey.id);
  allOk(await chain.pulse([genesisTx(cast.orgKey, PARAMS)]));
  const h = handlers(deps(chain.ledger), undefined);
  const signal = new AbortController().signal;
  const info = async (cycle?: number): Promise<CommitteeInfoJson> => {
    const r = await h.committee_info(cycle === undefined ? {} : { cycle }, { signal });
    assert.equal(validate(METHODS.committee_info.result, r, "result"), undefined, "fits its schema");
    return r;
  };
  return { chain, info, src: chain.ledger as ElectionSource };
}

const idleUntil = async (chain: Chain, pulse: number) => {
  while (chain.next < pulse) allOk(await chain.pulse([]));
};

/** The candidates' weights at `pulse` as src/election computes them, by id. */
function weightsAt(src: ElectionSource, pulse: number): [string, string][] {
  return candidateWeights(src.accountsAt(pulse), PARAMS.minDeposit)
    .map((w) => [hex(w.id), w.weight.toString()] as [string, string])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const weightsOf = (r: CommitteeInfoJson) => r.next.candidates.map((c) => [c.id, c.weight]);
const flags = (r: CommitteeInfoJson, f: "committed" | "revealed" | "forfeits") =>
  new Set(r.next.candidates.filter((c) => c[f]).map((c) => c.id));
const ids = (who: readonly Signer[]) => new Set(who.map((u) => hex(u.id)));

async function rpcError(p: unknown, code: number, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => p,
    (err: unknown) => err instanceof RpcError && err.rpcCode === code && message.test(err.message),
  );
}

describe("committee_info on a ledger with a 16-pulse cycle", () => {
  it("follows the draw through its phases, each answer what src/election computes", async () => {
    const { chain, info, src } = await open();
    const t = chain.txs;
    allOk(await chain.pulse(U.map((u) => t.apply(u, 1))));
    allOk(await chain.pulse(U.map((u, i) => t.approve(S, u, i < 5 ? Role.Member : Role.Guest, i + 1))));
    allOk(await chain.pulse(CANDIDATES.map((u, i) => t.pledge(u, 100 * (i + 1), 2))));
    allOk(await chain.pulse(CANDIDATES.map((u) => t.candidacy(u, true, 3))));
    allOk(await chain.pulse([t.vote(VOTERS[0]!, U[0]!, 9000, 2), t.vote(VOTERS[1]!, U[1]!, 9000, 2)]));

    // Pulse 5, before the snapshot: the supervisor serves; candidates as at the head.
    let r = await info();
    assert.deepEqual([r.cycle, r.cycleLength, r.head], [0, L, 5]);
    assert.deepEqual(r.serving, { cycle: 0, members: [hex(S.id)], chief: hex(S.id) });
    assert.deepEqual(
      [
        r.next.cycle,
        r.next.snapshotPulse,
        r.next.revealWindow,
        r.next.seedPulse,
        r.next.forfeitPulse,
        r.next.phase,
      ],
      [1, 8, { from: 9, to: 12 }, 12, 13, "before-snapshot"],
    );
    assert.ok(
      r.next.candidates.every((c) => c.forfeits === undefined),
      "who forfeits is known once drawn",
    );
    assert.equal(r.next.candidatesAt, 5);
    assert.match(r.next.note!, /snapshot \(pulse 8\) is not reached/);
    assert.deepEqual(weightsOf(r), weightsAt(src, 5));
    assert.deepEqual(flags(r, "committed"), ids(CANDIDATES));
    assert.deepEqual(flags(r, "revealed"), new Set());
    const u0 = r.next.candidates.find((c) => c.id === hex(U[0]!.id))!;
    assert.deepEqual([u0.deposit, u0.votes, u0.weight], ["100", "9000", "9100"]);
    assert.equal(r.next.drawn, undefined);

    // In the window: candidates as at the snapshot, reveals as they come.
    await idleUntil(chain, 9);
    allOk(await chain.pulse(CANDIDATES.slice(0, 2).map((u) => t.reveal(u, 0, 4))));
    // A vote after the snapshot changes nothing in this draw.
    allOk(await chain.pulse([t.vote(VOTERS[2]!, U[4]!, 5000, 2)]));
    r = await info();
    assert.deepEqual(
      [r.head, r.next.phase, r.next.candidatesAt, r.next.note],
      [10, "reveal-window", 8, undefined],
    );
    assert.deepEqual(weightsOf(r), weightsAt(src, 8));
    assert.deepEqual(flags(r, "revealed"), ids(CANDIDATES.slice(0, 2)));

    // The seed pulse: drawn, user 4 withheld its reveal.
    await idleUntil(chain, 12);
    allOk(await chain.pulse(CANDIDATES.slice(2, 4).map((u) => t.reveal(u, 0, 4))));
    r = await info();
    assert.deepEqual([r.head, r.next.phase], [12, "drawn"]);
    assert.deepEqual(flags(r, "revealed"), ids(CANDIDATES.slice(0, 4)));
    assert.deepEqual(flags(r, "forfeits"), ids([U[4]!]), "the forfeit of pulse 13 charges user 4");
    const c0 = committeeFor(src, 0);
    assert.deepEqual(r.next.drawn, { members: c0.members.map(hex), seed: hex(c0.seed), carried: false });
    assert.equal(r.next.drawn.members.length, 3);
    assert.deepEqual(r.serving.members, [hex(S.id)], "the drawn committee serves from the next cycle");

    // Cycle 1: the drawn committee serves, its chief first; cycle 0 can still be asked for.
    await idleUntil(chain, 17);
    r = await info();
    assert.deepEqual([r.cycle, r.head, r.next.cycle, r.next.phase], [1, 16, 2, "before-snapshot"]);
    assert.deepEqual(r.serving.members, committeeOf(src, 1).map(hex));
    assert.deepEqual([r.serving.chief, r.serving.carried], [hex(c0.members[0]!), false]);
    assert.deepEqual(flags(r, "committed"), ids(CANDIDATES), "each reveal committed to the next secret");
    const back = await info(0);
    assert.deepEqual([back.cycle, back.next.phase], [0, "drawn"]);
    assert.deepEqual(back.next.drawn?.members, c0.members.map(hex));
    assert.deepEqual(back.serving.members, [hex(S.id)]);
    await rpcError(
      info(2),
      RpcErrorCode.INVALID_PARAMS,
      /cycle 2 has not begun: the head is pulse 16, in cycle 1/,
    );

    // Cycles 1 and 2 with no reveals: the committee drawn in cycle 0 carries into cycles 2 and 3.
    await idleUntil(chain, 3 * L + 1);
    r = await info();
    assert.equal(r.cycle, 3);
    assert.deepEqual(r.serving.members, committeeOf(src, 3).map(hex));
    assert.deepEqual([r.serving.members, r.serving.carried], [c0.members.map(hex), true]);
    const c2 = await info(2);
    assert.deepEqual(c2.next.drawn, {
      members: c0.members.map(hex),
      seed: hex(committeeFor(src, 2).seed),
      carried: true,
    });
    assert.deepEqual(flags(c2, "revealed"), new Set());
    await chain.close();
  });

  it("says what retention dropped instead of failing", async () => {
    const { chain, info } = await open({ retention: { keepLast: 3, keepEvery: 0 } });
    const t = chain.txs;
    allOk(await chain.pulse(U.map((u) => t.apply(u, 1))));
    allOk(await chain.pulse(CANDIDATES.map((u, i) => t.approve(S, u, Role.Member, i + 1))));
    allOk(await chain.pulse(CANDIDATES.map((u) => t.pledge(u, 200, 2))));
    allOk(await chain.pulse(CANDIDATES.map((u) => t.candidacy(u, true, 3))));
    await idleUntil(chain, 9);
    allOk(await chain.pulse(CANDIDATES.map((u) => t.reveal(u, 0, 4))));
    await idleUntil(chain, L + 1);
    // Pulse 16: pulses 8 (snapshot) and 12 (seed) of cycle 0's draw are pruned.
    await chain.ledger.pruneAll();
    let r = await info(0);
    assert.equal(r.next.phase, "drawn");
    assert.equal(r.next.candidatesAt, 16);
    assert.match(r.next.note!, /snapshot \(pulse 8\) is no longer retained.*the draw cannot be read here/);
    assert.equal(r.next.drawn, undefined);
    assert.equal(r.next.candidates.length, 5);
    assert.deepEqual(flags(r, "revealed"), new Set(), "no reveals shown without the snapshot");
    r = await info();
    assert.deepEqual([r.serving.members, r.serving.chief], [[], null]);
    assert.match(r.serving.note!, /the draw of cycle 0 cannot be read here/);
    await chain.close();
  });

  it("no organization: NO_ORG; a member node that keeps no books: NOT_RETAINED, read on a bookkeeper", async () => {
    const kv = new MemoryKV();
    const ledger = await Ledger.open(kv);
    const signal = new AbortController().signal;
    await rpcError(
      (async () => handlers(deps(ledger), undefined).committee_info({}, { signal }))(),
      RpcErrorCode.NO_ORG,
      /no organization/,
    );
    const net = {
      org: { joined: () => ({ org: cast.orgKey.id, latest: { pulse: 7 } }) },
    } as unknown as NetDeps;
    await rpcError(
      (async () => handlers(deps(ledger), net).committee_info({}, { signal }))(),
      RpcErrorCode.NOT_RETAINED,
      /the committee is read on a bookkeeper node/,
    );
    await ledger.close();
  });
});

describe("committee_info on a daemon", { timeout: 30_000 }, () => {
  after(() => cleanupDaemons());

  it("cycle 0 is kept by the supervisor; the draw of cycle 1 is before its snapshot", async () => {
    const d = spawnDaemon(daemonDir(), { args: ["--no-net"] });
    const client = await waitReady(d, 0);
    const me = (await client.request("node_info")).account;
    const r = await client.call<CommitteeInfoJson>("committee_info", {});
    assert.equal(validate(METHODS.committee_info.result, r, "result"), undefined);
    assert.deepEqual([r.cycle, r.cycleLength], [0, 1800]);
    assert.deepEqual(r.serving, { cycle: 0, members: [me], chief: me });
    assert.deepEqual(
      [r.next.cycle, r.next.phase, r.next.snapshotPulse, r.next.revealWindow, r.next.seedPulse],
      [1, "before-snapshot", 900, { from: 901, to: 1350 }, 1350],
    );
    assert.deepEqual(r.next.candidates, []);
    assert.equal(r.next.candidatesAt, r.head);
    await assert.rejects(
      client.call("committee_info", { cycle: 1 }),
      (err: unknown) => err instanceof RpcCallError && err.code === RpcErrorCode.INVALID_PARAMS,
    );
    const exit = await stopDaemon(d);
    assert.deepEqual(exit, { code: 0, signal: null }, d.out.stderr);
  });
});
