/**
 * A withheld reveal costs deposit (docs/PROTOCOL.md §12): over two election cycles on a ledger fed
 * as a bookkeeper node feeds it (the CommitteeBook's list for each pulse, the forfeit made when one
 * is due), each candidate that withheld is charged once, in the pulse after the window; then in the
 * committee's finality, with real ledgers, sign guards and signatures: the proposer carries the
 * forfeit, a proposal without it (or with another list) is not prevoted, and a replica catching up
 * replays it to the same root, which it cannot without the list.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { CommitteeBook } from "../src/election/book.js";
import { forfeitCycle, schedule } from "../src/election/cycle.js";
import { Role } from "../src/ledger/account.js";
import { Ledger, type PreparedPulse } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { forfeitTx, rewardTx } from "../src/ledger/tx-codec.js";
import { createLogger } from "../src/node/log.js";
import { catchUp, ReplicaError } from "../src/org/replica.js";
import { type Decided, Finality } from "../src/pulse/finality.js";
import { NextCommittee } from "../src/pulse/next-committee.js";
import { batchHashOf, valueIdOf } from "../src/pulse/proposal.js";
import { SignGuard } from "../src/pulse/sign-guard.js";
import { decodeVote, Step } from "../src/pulse/votes.js";
import { handProposal } from "./helpers/hand-proposal.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx, hex, makeCast, orgParams, secretOf, Txs } from "./helpers/ledger-signers.js";
import { pulsesPort } from "./helpers/pulses-port.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const log = createLogger({ level: "silent" }).root;
const cast = makeCast(8);
const S = cast.supervisor;
const keepers = cast.users.slice(0, 4);
const [C0, C1, C2] = cast.users.slice(4, 7) as [Signer, Signer, Signer];
const ORG = cast.orgKey.id;
const ids = keepers.map((k) => k.id);
const MIN = 100n;
const L = 8; // cycle c: snapshot 8c + 4, reveals 8c + 5 .. 8c + 6, forfeit in 8c + 7
const PARAMS: OrgParams = {
  ...orgParams(S, {
    minDeposit: MIN,
    miningReward: 40n,
    committee: keepers,
    distribution: [C0, C1, C2].map((c) => [c, 1000n] as const),
  }),
  electionCycle: L,
  committeeSize: 4,
};
const GENESIS = genesisTx(cast.orgKey, PARAMS);
const txs = new Txs(ORG);

/** Cycle 0's pulses 1-6: three candidates pledge 200 and stand at the snapshot; C0 and C1 reveal, C2 withholds. */
const CYCLE0: Buffer[][] = [
  [C0, C1, C2].map((c) => txs.apply(c, 1)),
  [C0, C1, C2].map((c, i) => txs.approve(S, c, Role.Member, i + 1)),
  [C0, C1, C2].map((c) => txs.pledge(c, 200, 2)),
  [C0, C1, C2].map((c) => txs.candidacy(c, true, 3)),
  [txs.reveal(C0, 0, 4), txs.reveal(C1, 0, 4)],
  [],
];

describe("a withheld reveal costs deposit, over two cycles", () => {
  it("each withholder is charged minDeposit once, in the pulse after its window; the sum never moves", async () => {
    const chain = await Chain.open(ORG);
    allOk(await chain.pulse([GENESIS]));
    const path = join(tmpDir("leither-forfeit-"), "committees.json");
    const book = await CommitteeBook.open(path, chain.ledger);
    const supply = chain.root().sum;
    const forfeits: { pulse: number; candidates: string[] }[] = [];
    // As a bookkeeper node does: the book's list for the pulse, and the forfeit when someone withheld.
    const pulse = async (batch: Buffer[]) => {
      const p = chain.next++;
      const withheld = book.withheld(p);
      const c = forfeitCycle(p, L);
      assert.equal(withheld !== undefined, c !== undefined, `a list exactly where a forfeit is due (${p})`);
      const made = withheld !== undefined && withheld.length > 0 ? [forfeitTx(ORG, c!, withheld)] : [];
      if (made.length > 0) forfeits.push({ pulse: p, candidates: withheld!.map(hex) });
      allOk(await chain.ledger.applyPulse(p, [...made, ...batch], { withheld }));
      await book.committed(p);
      assert.equal(chain.root().sum, supply, `pulse ${p}: a forfeit moves tokens, it issues none`);
    };
    for (const batch of CYCLE0) await pulse(batch);
    const org0 = chain.amount(ORG);
    await pulse([]); // pulse 7: cycle 0's forfeit
    assert.deepEqual(forfeits, [{ pulse: 7, candidates: [hex(C2.id)] }]);
    assert.deepEqual(
      [C0, C1, C2].map((c) => [chain.account(c)!.deposit, chain.amount(c)]),
      [
        [200n, 1000n],
        [200n, 1000n],
        [100n, 900n],
      ],
    );
    assert.equal(chain.amount(ORG), org0 + MIN);

    // Cycle 1: all three still stand (C2 with 100 left); C0 reveals its next secret, C2 the one it
    // still holds (it never revealed); C1 withholds this time.
    const s1 = schedule(1, L);
    while (chain.next < s1.revealFirst) await pulse([]);
    await pulse([txs.reveal(C0, 1, 5), txs.reveal(C2, 1, 4, { secret: secretOf(C2, 0) })]);
    while (chain.next <= s1.revealLast + 1) await pulse([]);
    assert.deepEqual(forfeits.at(-1), { pulse: s1.revealLast + 1, candidates: [hex(C1.id)] });
    assert.equal(forfeits.length, 2, "no forfeit but in the pulses after the windows");
    assert.deepEqual(
      [C0, C1, C2].map((c) => chain.account(c)!.deposit),
      [200n, 100n, 100n],
      "C2 was charged once, for cycle 0 only",
    );
    assert.equal(chain.amount(ORG), org0 + 2n * MIN);
    // The book's file keeps each list (the snapshot may be pruned by the time a restart needs it).
    const doc = JSON.parse(await readFile(path, "utf8")) as { withheld: Record<string, string[]> };
    assert.deepEqual(doc.withheld, { "0": [hex(C2.id)], "1": [hex(C1.id)] });
    const reopened = await CommitteeBook.open(path, chain.ledger);
    assert.deepEqual(reopened.withheld(s1.revealLast + 1)?.map(hex), [hex(C1.id)]);
    assert.equal(book.withheld(8), undefined);
    await chain.close();
  });
});

// ---- finality ------------------------------------------------------------------------------------

const TIMEOUTS = { propose: 300, proposeDelta: 150, vote: 200, voteDelta: 100 };

interface Node {
  readonly key: Signer;
  readonly ledger: Ledger;
  readonly book: CommitteeBook;
  readonly finality: Finality;
  readonly decided: Decided[];
}

const guards: SignGuard[] = [];
const running: Finality[] = [];
after(async () => {
  for (const f of running) await f.stop();
  for (const g of guards) await g.close();
});

/** A ledger at the end of cycle 0's window (pulse 6), as every node has it, and its committee book. */
async function atWindowEnd(dir: string, name: string): Promise<{ ledger: Ledger; book: CommitteeBook }> {
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  allOk(await ledger.applyPulse(0, [GENESIS]));
  for (const [i, batch] of CYCLE0.entries()) allOk(await ledger.applyPulse(i + 1, batch));
  return { ledger, book: await CommitteeBook.open(join(dir, `${name}.committees.json`), ledger) };
}

/** Bookkeepers for `run` (the committee is always the four keepers), on an in-memory network that keeps what is sent. */
async function setUp(run: readonly Signer[]) {
  const dir = tmpDir();
  const sent: { from: Signer; bytes: Buffer }[] = [];
  const nodes: Node[] = [];
  const send = (from: Signer, bytes: Buffer) => {
    sent.push({ from, bytes });
    for (const n of nodes) if (n.key !== from) setImmediate(() => n.finality.receive(bytes));
  };
  for (const key of run) {
    const name = hex(key.id).slice(0, 8);
    const { ledger, book } = await atWindowEnd(dir, name);
    const guard = await SignGuard.open(join(dir, `${name}.guard`));
    guards.push(guard);
    const decided: Decided[] = [];
    const finality = new Finality({
      ledger,
      signer: key,
      guard,
      committee: () => ids,
      withheld: (p) => book.withheld(p),
      transport: { broadcast: (b) => send(key, b) },
      log,
      lockPath: join(dir, `${name}.lock`),
      timeouts: TIMEOUTS,
      resendMs: 150,
      onDecided: (d) => decided.push(d),
    });
    running.push(finality);
    nodes.push({ key, ledger, book, finality, decided });
  }
  /** The signers that prevoted `valueId` (hex). */
  const prevotesFor = (valueId: string) =>
    sent
      .filter((m) => m.bytes[1] === 0x46)
      .map((m) => decodeVote(m.bytes))
      .filter((v) => v.step === Step.Prevote && hex(v.value) === valueId)
      .map((v) => hex(v.signer));
  return { nodes, send, prevotesFor, dir };
}

/** Offers `batch` to each node and ends slots until every one has committed pulse 7. */
async function finalize(nodes: readonly Node[], batch: Buffer[]): Promise<void> {
  for (const n of nodes) n.finality.offer(batch);
  await until(
    async () => {
      for (const n of nodes) n.finality.tick();
      return nodes.every((n) => n.ledger.head === 7) ? true : undefined;
    },
    15_000,
    "every node at pulse 7",
    20,
  );
}

const FORFEIT = forfeitTx(ORG, 0, [C2.id]);
const REWARD = rewardTx(ORG, 7, ids);

describe("the forfeit in the committee's finality", () => {
  it("the proposer carries it; every node charges C2; a replica replays it, and cannot without the list", async () => {
    const { nodes, dir } = await setUp(keepers);
    const before = nodes[0]!.ledger.account(C2.id)!;
    await finalize(nodes, [txs.setPolicy(C0, 1, 5)]);
    for (const n of nodes) {
      const d = n.decided[0]!;
      assert.deepEqual(d.proposal.txs.slice(0, 2), [REWARD, FORFEIT], "the reward, then the forfeit");
      assert.ok(d.outcome.results.every((r) => r.ok));
      const c2 = n.ledger.account(C2.id)!;
      assert.deepEqual([c2.deposit, c2.amount], [before.deposit - MIN, before.amount - MIN]);
      assert.equal(hex(n.ledger.rootAt().hash), hex(nodes[0]!.ledger.rootAt().hash));
    }

    // A replica at pulse 6 catches up pulse 7 (Op.Pulses) with its own book's list: the same root.
    const source = nodes[0]!.ledger;
    const net = pulsesPort(source, GENESIS);
    const replay = async (withList: boolean) => {
      const { ledger, book } = await atWindowEnd(dir, withList ? "replica" : "blind");
      const deps = {
        net,
        node: C0,
        ledger,
        committee: () => ids,
        ...(withList ? { withheld: (p: number) => book.withheld(p) } : {}),
        log,
      };
      try {
        return { applied: await catchUp(deps, ORG, AbortSignal.timeout(10_000), ["keeper"]), ledger };
      } catch (err) {
        await ledger.close();
        throw err;
      }
    };
    const replica = await replay(true);
    assert.equal(replica.applied, 1);
    assert.equal(hex(replica.ledger.rootAt().hash), hex(source.rootAt().hash));
    assert.equal(replica.ledger.account(C2.id)!.deposit, before.deposit - MIN);
    await replica.ledger.close();
    await assert.rejects(replay(false), (e: unknown) => e instanceof ReplicaError);
  });

  for (const [what, forfeit] of [
    ["without the forfeit", [] as Buffer[]],
    ["with a forfeit of another list", [forfeitTx(ORG, 0, [C1.id, C2.id].sort(Buffer.compare))]],
  ] as const)
    it(`a proposal ${what} gets no prevote: a later round's, with it, is final`, async () => {
      // The chief is not running: its round-0 proposal is made by hand.
      const { nodes, send, prevotesFor, dir } = await setUp(keepers.slice(1));
      const batch = [txs.setPolicy(C0, 1, 5)];
      const bad = [REWARD, ...forfeit, ...batch];
      const { ledger: scratch, book } = await atWindowEnd(dir, "scratch");
      const made = { committee: ids, withheld: [C2.id] };
      // The right next committee (pulse 7 ends cycle 0): only the forfeit is wrong.
      const nextOf = (p: PreparedPulse) => new NextCommittee(scratch, (q) => book.of(q)).hashAfter(p);
      const { bytes: proposal, root, next } = await handProposal(scratch, 7, bad, made, keepers[0]!, nextOf);
      await scratch.close();
      for (const n of nodes) n.finality.offer(batch);
      send(keepers[0]!, proposal);
      await finalize(nodes, []);
      assert.deepEqual(
        prevotesFor(hex(valueIdOf(ORG, 7, root, batchHashOf(bad), next))),
        [],
        "no one prevoted it",
      );
      for (const n of nodes) {
        const d = n.decided[0]!;
        assert.ok(d.round >= 1);
        assert.ok(d.proposal.txs.some((tx) => tx.equals(FORFEIT)));
        assert.equal(n.ledger.account(C2.id)!.deposit, 200n - MIN);
      }
    });
});
