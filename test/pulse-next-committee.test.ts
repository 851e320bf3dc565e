/**
 * The next committee in the committee's finality (pulse/next-committee.ts), with real ledgers, sign
 * guards, committee books and signatures, bookkeepers in one process on an in-memory network: a
 * proposal naming another committee for the next pulse gets no prevote; across a 4-pulse cycle's
 * end, whose draw runs over the pulse being finalized, the certificate hands the books on to the
 * newly drawn committee, which finalizes the next pulse.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { CommitteeBook } from "../src/election/book.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { OrgParams } from "../src/ledger/tx.js";
import { createLogger } from "../src/node/log.js";
import { committeeHash, decodeCertificate, verifyCertificate } from "../src/pulse/certificate.js";
import { type Decided, Finality } from "../src/pulse/finality.js";
import { decodeProposal, encodeProposal } from "../src/pulse/proposal.js";
import { SignGuard } from "../src/pulse/sign-guard.js";
import { decodeVote, Step } from "../src/pulse/votes.js";
import { candidates, cast, keepers, Script, scriptParams } from "./helpers/committee-script.js";
import { allOk } from "./helpers/ledger-chain.js";
import { genesisTx, hex, Txs } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const log = createLogger({ level: "silent" }).root;
const TIMEOUTS = { propose: 300, proposeDelta: 150, vote: 200, voteDelta: 100 };
const ORG = cast.orgKey.id;
const keeperIds = keepers.map((k) => k.id);

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

/** Bookkeepers for `run`, each with its own committee book (the committees of the daemon), on one network. */
async function setUp(run: readonly Signer[], params: OrgParams) {
  const dir = tmpDir();
  const genesis = genesisTx(cast.orgKey, params);
  const nodes: Node[] = [];
  const sent: { from: Signer; bytes: Buffer }[] = [];
  const send = (from: Signer, bytes: Buffer) => {
    sent.push({ from, bytes });
    for (const n of nodes) if (n.key !== from) setImmediate(() => n.finality.receive(bytes));
  };
  for (const key of run) {
    const ledger = await Ledger.open(new MemoryKV());
    allOk(await ledger.applyPulse(0, [genesis]));
    const name = hex(key.id).slice(0, 8);
    const guard = await SignGuard.open(join(dir, `${name}.guard`));
    guards.push(guard);
    const book = await CommitteeBook.open(join(dir, `${name}.committees.json`), ledger);
    const decided: Decided[] = [];
    const finality = new Finality({
      ledger,
      signer: key,
      guard,
      committee: (p) => book.of(p),
      deposits: (p) => book.deposits(p),
      transport: { broadcast: (b) => send(key, b) },
      log,
      lockPath: join(dir, `${name}.lock`),
      timeouts: TIMEOUTS,
      resendMs: 150,
      onDecided: (d) => {
        decided.push(d);
        void book.committed(d.pulse);
      },
    });
    running.push(finality);
    nodes.push({ key, ledger, book, finality, decided });
  }
  return { nodes, sent, send };
}

/** Offers `batch` to every node, ending slots until each has committed `head`. */
async function pulse(nodes: readonly Node[], batch: Buffer[], head: number): Promise<void> {
  for (const n of nodes) n.finality.offer(batch);
  await until(
    async () => {
      for (const n of nodes) n.finality.tick();
      return nodes.every((n) => (n.ledger.head ?? 0) >= head) ? true : undefined;
    },
    15_000,
    `every node at pulse ${head}`,
    20,
  );
}

describe("finality: the committee a value names for the next pulse", () => {
  it("a proposal naming another next committee gets no prevote: a later round's is final", async () => {
    // The chief is not running: its proposal below is made by hand, naming the keepers in another order.
    const params = scriptParams(8);
    const { nodes, sent, send } = await setUp(keepers.slice(1), params);
    const batch = new Script(new Txs(ORG), 8).at(1);
    const scratch = await Ledger.open(new MemoryKV());
    allOk(await scratch.applyPulse(0, [genesisTx(cast.orgKey, params)]));
    const prepared = await scratch.prepare(1, batch, { committee: keeperIds });
    const root = {
      hash: Buffer.from(prepared.root.hash),
      sum: prepared.root.sum,
      count: prepared.root.count,
    };
    prepared.discard();
    await scratch.close();
    const wrong = committeeHash([...keeperIds].reverse());
    const bad = encodeProposal(
      { org: ORG, pulse: 1, round: 0, validRound: -1, root, next: wrong, txs: batch },
      keepers[0]!,
    );
    const badId = decodeProposal(bad).valueId;
    send(keepers[0]!, bad);
    await pulse(nodes, batch, 1);
    const prevotes = sent
      .filter((m) => m.bytes[1] === 0x46)
      .map((m) => decodeVote(m.bytes))
      .filter((v) => v.step === Step.Prevote && v.value.equals(badId));
    assert.deepEqual(prevotes, [], "no one prevoted the value naming another committee");
    for (const n of nodes) {
      const d = n.decided[0]!;
      assert.ok(d.round >= 1, "the chief's round is not final");
      assert.equal(hex(decodeCertificate(d.certificate).next), hex(committeeHash(keeperIds)));
    }
  });

  it("at a 4-pulse cycle's end the certificate names the committee drawn in it, which keeps the next pulse", async () => {
    // The keepers (cycles 0 and 1) and the two candidates drawn in cycle 1 (cycle 2), observers until then.
    const L = 4;
    const [U0, U1] = candidates;
    const { nodes } = await setUp([...keepers, U0, U1], scriptParams(L));
    const script = new Script(new Txs(ORG), L, true);
    for (let p = 1; p <= 2 * L; p++) await pulse(nodes, script.at(p), p);
    const drawn = nodes[0]!.book.of(2 * L);
    assert.deepEqual(drawn.map(hex).sort(), [U0.id, U1.id].map(hex).sort());
    const roots = new Set(nodes.map((n) => hex(n.ledger.rootAt().hash)));
    assert.equal(roots.size, 1, "every node has the same state");
    // A node that knows only the keepers follows: cycle 1's last certificate, by the keepers, names
    // the drawn committee, whose member list hashes to it, and which certifies the pulse after.
    const cert = (p: number) => decodeCertificate(nodes[4]!.ledger.certificateAt(p)!);
    const last = cert(2 * L - 1);
    verifyCertificate(last, keeperIds);
    assert.notDeepEqual(last.next, committeeHash(keeperIds));
    assert.deepEqual(last.next, committeeHash(drawn));
    const first = cert(2 * L);
    verifyCertificate(first, drawn);
    assert.deepEqual(first.next, committeeHash(drawn), "inside cycle 2 the committee stays");
    for (const n of nodes) assert.deepEqual(n.book.of(2 * L), drawn, "every book drew the same");
  });
});
