/**
 * The mining reward and the deposit bound in the committee's finality (issue 7 item 5), with real
 * ledgers, sign guards and signatures, bookkeepers in one process on an in-memory network: each final
 * pulse carries its reward and credits the committee; a proposal without it gets no prevote; a
 * proposer's batch keeps its transfers within its deposit, and peers drop a fresh proposal over it; a
 * replica catching up replays the rewards. Then the CommitteeBook's record of the deposits.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { CommitteeBook } from "../src/election/book.js";
import { schedule } from "../src/election/cycle.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { decodeTx, rewardTx } from "../src/ledger/tx-codec.js";
import { createLogger } from "../src/node/log.js";
import { catchUp } from "../src/org/replica.js";
import { type Decided, Finality, type FinalityOptions } from "../src/pulse/finality.js";
import { transfersOf } from "../src/pulse/finality-batch.js";
import type { PulseRoundOptions } from "../src/pulse/finality-round.js";
import { batchHashOf, decodeProposal, valueIdOf } from "../src/pulse/proposal.js";
import { SignGuard } from "../src/pulse/sign-guard.js";
import { decodeVote, Step } from "../src/pulse/votes.js";
import { handProposal } from "./helpers/hand-proposal.js";
import { allOk, Chain } from "./helpers/ledger-chain.js";
import { genesisTx, hex, makeCast, orgParams, Txs } from "./helpers/ledger-signers.js";
import { pulsesPort } from "./helpers/pulses-port.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const waitFor = (cond: () => boolean, ms: number, what: string) =>
  until(async () => (cond() ? true : undefined), ms, what, 20);

const log = createLogger({ level: "silent" }).root;
const TIMEOUTS = { propose: 300, proposeDelta: 150, vote: 200, voteDelta: 100 };
const cast = makeCast(10);
const keepers = cast.users.slice(0, 4);
const payers = cast.users.slice(4);
const ORG = cast.orgKey.id;
const txs = new Txs(ORG);
const ids = keepers.map((k) => k.id);
const REWARD = 100n;
const PARAMS: OrgParams = orgParams(cast.supervisor, {
  miningReward: REWARD,
  distribution: payers.map((p) => [p, 1000n] as const),
});
const GENESIS = genesisTx(cast.orgKey, PARAMS);

/** Deposits as FinalityOptions will carry them (PulseRoundOptions has the option already). */
type Options = FinalityOptions & Pick<PulseRoundOptions, "deposits">;

interface Node {
  readonly key: Signer;
  readonly ledger: Ledger;
  readonly finality: Finality;
  readonly decided: Decided[];
}

/** An in-memory network that also keeps every message sent, with its sender. */
class Net {
  readonly nodes: Node[] = [];
  readonly sent: { from: Signer; bytes: Buffer }[] = [];

  send(from: Signer, bytes: Buffer): void {
    this.sent.push({ from, bytes });
    for (const n of this.nodes) if (n.key !== from) setImmediate(() => n.finality.receive(bytes));
  }

  /** The prevotes sent for `valueId` (hex), by signer. */
  prevotesFor(valueId: string): string[] {
    return this.sent
      .filter((m) => m.bytes[1] === 0x46)
      .map((m) => decodeVote(m.bytes))
      .filter((v) => v.step === Step.Prevote && hex(v.value) === valueId)
      .map((v) => hex(v.signer));
  }
}

const guards: SignGuard[] = [];
const running: Finality[] = [];
after(async () => {
  for (const f of running) await f.stop();
  for (const g of guards) await g.close();
});

/**
 * Bookkeepers for `run` (the committee is always the four keepers, in order), each with the
 * deposits `deposits(key)` gives it (undefined: no bound).
 */
async function setUp(
  run: readonly Signer[],
  deposits: (key: Signer) => readonly bigint[] | undefined = () => undefined,
): Promise<{ net: Net; nodes: Node[] }> {
  const dir = tmpDir();
  const net = new Net();
  for (const key of run) {
    const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
    allOk(await ledger.applyPulse(0, [GENESIS]));
    const name = hex(key.id).slice(0, 8);
    const guard = await SignGuard.open(join(dir, `${name}.guard`));
    guards.push(guard);
    const decided: Decided[] = [];
    const bound = deposits(key);
    const opts: Options = {
      ledger,
      signer: key,
      guard,
      committee: () => ids,
      transport: { broadcast: (b) => net.send(key, b) },
      log,
      lockPath: join(dir, `${name}.lock`),
      timeouts: TIMEOUTS,
      resendMs: 150,
      onDecided: (d) => decided.push(d),
      ...(bound === undefined ? {} : { deposits: () => bound }),
    };
    const finality = new Finality(opts);
    running.push(finality);
    net.nodes.push({ key, ledger, finality, decided });
  }
  return { net, nodes: net.nodes };
}

/** Offers `batch` to the nodes given and ends a slot on each. */
function slot(nodes: readonly Node[], batch: Buffer[]): void {
  for (const n of nodes) {
    n.finality.offer(batch);
    n.finality.tick();
  }
}

/** Waits until every node has committed `head`, ending a slot on each meanwhile (the pool may hold more). */
const untilHead = (nodes: readonly Node[], head: number) =>
  waitFor(
    () => {
      for (const n of nodes) n.finality.tick();
      return nodes.every((n) => (n.ledger.head ?? 0) >= head);
    },
    15_000,
    `every node at pulse ${head}`,
  );

const applications = (count: number) => payers.slice(0, count).map((p) => txs.apply(p, 1));
/** A transfer of `amount` from payer `i` to the organization's account (it accepts all). */
const toOrg = (i: number, amount: number) => txs.transfer(payers[i]!, ORG, amount, 1);

describe("finality with a mining reward", () => {
  it("each final pulse carries its reward first and credits the committee; the receipts show it", async () => {
    const { nodes } = await setUp(keepers);
    const orgBefore = nodes[0]!.ledger.account(ORG)!.amount;
    slot(nodes, applications(3));
    await untilHead(nodes, 1);
    for (const n of nodes) {
      const d = n.decided[0]!;
      const reward = rewardTx(ORG, 1, ids);
      assert.ok(d.proposal.txs[0]!.equals(reward), "the reward comes first in the batch");
      assert.equal(d.outcome.receipts.length, 4, "three applications and the reward");
      const receipt = d.outcome.receipts[0]!;
      assert.equal(hex(receipt.txId), hex(decodeTx(reward).id), "applied first");
      assert.ok(d.outcome.results.every((r) => r.ok));
      for (const k of keepers) assert.equal(n.ledger.account(k.id)!.amount, REWARD / 4n);
      assert.equal(n.ledger.account(ORG)!.amount, orgBefore - REWARD);
    }
    // The next pulse pays again, with its own reward.
    slot(nodes, [txs.setPolicy(payers[0]!, 1, 2)]);
    await untilHead(nodes, 2);
    assert.ok(nodes[0]!.decided[1]!.proposal.txs[0]!.equals(rewardTx(ORG, 2, ids)));
    for (const k of keepers) assert.equal(nodes[0]!.ledger.account(k.id)!.amount, REWARD / 2n);

    // A replica catching up (Op.Pulses) replays the rewards with each pulse's committee.
    const source = nodes[0]!.ledger;
    const replica = await Ledger.open(new MemoryKV());
    const deps = {
      net: pulsesPort(source, GENESIS),
      node: payers[5]!,
      ledger: replica,
      committee: () => ids,
      log,
    };
    assert.equal(await catchUp(deps, ORG, AbortSignal.timeout(10_000), ["bookkeeper"]), 2);
    assert.equal(hex(replica.rootAt().hash), hex(source.rootAt().hash));
    assert.equal(replica.account(keepers[0]!.id)!.amount, REWARD / 2n);
    await replica.close();
  });

  it("a proposal without the reward gets no prevote: a later round's proposal, with it, is final", async () => {
    // The chief is not running: its proposal below is made by hand, without the reward.
    const { net, nodes } = await setUp(keepers.slice(1));
    const batch = applications(2);
    const scratch = await Ledger.open(new MemoryKV());
    allOk(await scratch.applyPulse(0, [GENESIS]));
    const { bytes: bad, root, next } = await handProposal(scratch, 1, batch, { committee: ids }, keepers[0]!);
    await scratch.close();
    slot(nodes, batch);
    net.send(keepers[0]!, bad);
    await untilHead(nodes, 1);
    const badId = hex(valueIdOf(ORG, 1, root, batchHashOf(batch), next));
    assert.deepEqual(net.prevotesFor(badId), [], "no one prevoted the value without the reward");
    for (const n of nodes) {
      const d = n.decided[0]!;
      assert.ok(d.round >= 1);
      assert.ok(d.proposal.txs.some((tx) => tx.equals(rewardTx(ORG, 1, ids))));
    }
  });
});

describe("finality: the deposit bound", () => {
  const BOUND = 150n;

  it("a proposer's batch keeps its transfers within its deposit; the rest waits for later pulses", async () => {
    const { nodes } = await setUp(keepers, () => ids.map(() => BOUND));
    const batch = [toOrg(0, 100), toOrg(1, 100), toOrg(2, 40), txs.apply(payers[3]!, 1)];
    slot(nodes, batch);
    await untilHead(nodes, 1);
    const first = nodes[0]!.decided[0]!;
    assert.equal(first.round, 0);
    // 100, then 100 would pass 150 (held), then 40 fits: 140.
    assert.equal(transfersOf(first.proposal.txs), 140n);
    assert.ok(!first.proposal.txs.some((tx) => tx.equals(batch[1]!)), "the second transfer waits");
    assert.ok(
      first.proposal.txs.some((tx) => tx.equals(batch[3]!)),
      "what is not a transfer goes in",
    );
    await untilHead(nodes, 2);
    const second = nodes[0]!.decided[1]!;
    assert.ok(
      second.proposal.txs.some((tx) => tx.equals(batch[1]!)),
      "the next pulse takes it",
    );
    for (const d of nodes[0]!.decided) assert.ok(transfersOf(d.proposal.txs) <= BOUND);
    assert.equal(nodes[0]!.ledger.account(ORG)!.amount, PARAMS.supply - 6000n - 2n * REWARD + 240n);
  });

  it("a fresh proposal over its proposer's deposit is dropped: no prevote, a later round is final", async () => {
    // The chief's own node knows no bound and proposes everything; its peers bound it.
    const { net, nodes } = await setUp(keepers, (key) =>
      key === keepers[0] ? undefined : ids.map(() => BOUND),
    );
    const batch = [toOrg(0, 100), toOrg(1, 100)];
    slot(nodes, batch);
    await untilHead(nodes.slice(1), 1);
    const chiefs = net.sent.filter((m) => m.from === keepers[0] && m.bytes[1] === 0x48);
    assert.ok(chiefs.length > 0, "the chief proposed");
    const chiefValue = hex(decodeProposal(chiefs[0]!.bytes).valueId);
    const others = net.prevotesFor(chiefValue).filter((s) => s !== hex(keepers[0]!.id));
    assert.deepEqual(others, [], "only the chief prevoted its value");
    for (const n of nodes.slice(1)) {
      const d = n.decided[0]!;
      assert.ok(d.round >= 1, "the chief's round is not final");
      assert.ok(transfersOf(d.proposal.txs) <= BOUND);
    }
  });
});

describe("CommitteeBook: deposits of each drawn committee", () => {
  const L = 8; // cycle c: snapshot 8c + 4, reveals 8c + 5 .. 8c + 6
  const [U0, U1, U2] = cast.users as [Signer, Signer, Signer];
  const params: OrgParams = {
    ...orgParams(cast.supervisor, {
      minDeposit: 100n,
      distribution: [
        [U0, 1000n],
        [U1, 1000n],
        [U2, 1000n],
      ],
    }),
    electionCycle: L,
    committeeSize: 2,
  };

  it("records each member's deposit at the draw's snapshot, keeps it carried, reads old files", async () => {
    const chain = await Chain.open(ORG);
    allOk(await chain.pulse([genesisTx(cast.orgKey, params)]));
    const t = chain.txs;
    const path = join(tmpDir("leither-book-"), "committees.json");
    const book = await CommitteeBook.open(path, chain.ledger);
    const step = async (batch: Buffer[]) => {
      allOk(await chain.pulse(batch));
      await book.committed(chain.next - 1);
    };
    await step([U0, U1].map((u) => t.apply(u, 1)));
    await step([
      t.approve(cast.supervisor, U0, Role.Member, 1),
      t.approve(cast.supervisor, U1, Role.Member, 2),
    ]);
    await step([t.pledge(U0, 100, 2), t.pledge(U1, 300, 2)]);
    await step([t.candidacy(U0, true, 3), t.candidacy(U1, true, 3)]); // pulse 4: the snapshot
    await step([t.pledge(U1, 200, 4), ...[U0].map((u) => t.reveal(u, 0, 4))]); // after the snapshot
    await step([t.reveal(U1, 0, 5)]); // pulse 6: the seed pulse, the draw
    assert.equal(book.deposits(1), undefined, "cycle 0 (the genesis committee) is unbounded");
    const members = book.of(L).map(hex);
    assert.deepEqual([...members].sort(), [U0, U1].map((u) => hex(u.id)).sort());
    const byId = new Map([
      [hex(U0.id), 100n],
      [hex(U1.id), 300n],
    ]);
    assert.deepEqual(
      book.deposits(L),
      members.map((m) => byId.get(m)),
      "as at the snapshot (pulse 4)",
    );
    // No one stands for cycle 2's draw (no reveals): cycle 1's committee and deposits carry on.
    while (chain.next <= schedule(1, L).revealLast) await step([]);
    assert.deepEqual(book.of(2 * L).map(hex), members);
    assert.deepEqual(book.deposits(2 * L), book.deposits(L));

    // The file keeps them; a reopened book reads them back.
    const doc = JSON.parse(await readFile(path, "utf8")) as {
      cycles: Record<string, string[]>;
      deposits: Record<string, string[]>;
    };
    assert.deepEqual(doc.deposits["1"], book.deposits(L)!.map(String));
    assert.deepEqual((await CommitteeBook.open(path, chain.ledger)).deposits(2 * L), book.deposits(L));
    // A file written before deposits were kept: the committees read, with no bound.
    const { deposits: _, ...old } = doc;
    await writeFile(path, JSON.stringify({ ...old, format: "leither-committees", org: hex(ORG) }));
    const reopened = await CommitteeBook.open(path, chain.ledger);
    assert.deepEqual(reopened.of(L).map(hex), members);
    assert.equal(reopened.deposits(L), undefined);
    await chain.close();
  });
});
