/**
 * The committee's finality with real ledgers, sign guards, signatures and locks, four bookkeepers
 * (and an observer) in one process joined by an in-memory transport that can take a node off the
 * network. The daemon's devnet test runs the same over libp2p in separate processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { createLogger } from "../src/node/log.js";
import { CERTIFICATE_COUNT_OFFSET, decodeCertificate, verifyCertificate } from "../src/pulse/certificate.js";
import { type Decided, Finality } from "../src/pulse/finality.js";
import { SignGuard } from "../src/pulse/sign-guard.js";
import { checkEvidence, Step, signVote } from "../src/pulse/votes.js";
import { genesisTx, makeCast, orgParams, Txs } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

/** Waits until `cond` holds. */
const waitFor = (cond: () => boolean, ms: number, what: string) =>
  until(async () => (cond() ? true : undefined), ms, what, 20);

const log = createLogger({ level: "silent" }).root;
const TIMEOUTS = { propose: 300, proposeDelta: 150, vote: 200, voteDelta: 100 };
const cast = makeCast(12);
const keepers = cast.users.slice(0, 4);
const observerKey = cast.users[4]!;
const applicants = cast.users.slice(5);
const txs = new Txs(cast.orgKey.id);

interface Node {
  readonly key: Signer;
  readonly ledger: Ledger;
  readonly guard: SignGuard;
  readonly finality: Finality;
  readonly decided: Decided[];
  readonly evidence: Buffer[];
  readonly refused: Buffer[];
}

/** An in-memory network: every broadcast reaches every other node that is up, on a later tick. */
class Net {
  readonly nodes: Node[] = [];
  readonly down = new Set<Node>();

  send(from: Signer, bytes: Buffer): void {
    for (const n of this.nodes)
      if (n.key !== from && !this.down.has(n))
        setImmediate(() => this.down.has(n) || n.finality.receive(bytes));
  }
}

const opened: Node[] = [];
after(async () => {
  for (const n of opened) {
    await n.finality.stop();
    await n.guard.close();
  }
});

async function setUp(
  committee: readonly Signer[],
  o: { byzantine?: Map<Signer, "wrong-root" | "equivocate">; observer?: boolean } = {},
): Promise<{ net: Net; nodes: Node[] }> {
  const dir = tmpDir();
  const net = new Net();
  const ids = committee.map((k) => k.id);
  const genesis = genesisTx(cast.orgKey, orgParams(cast.supervisor));
  const who = o.observer === true ? [...committee, observerKey] : [...committee];
  for (const key of who) {
    const ledger = await Ledger.open(new MemoryKV());
    await ledger.applyPulse(0, [genesis]);
    const name = key.id.toString("hex").slice(0, 8);
    const guard = await SignGuard.open(join(dir, `${name}.guard`));
    const decided: Decided[] = [];
    const evidence: Buffer[] = [];
    const refused: Buffer[] = [];
    const finality = new Finality({
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
      onEvidence: (ev) => evidence.push(ev),
      onRefused: (txs) => refused.push(...txs),
      byzantine: o.byzantine?.get(key),
    });
    const n = { key, ledger, guard, finality, decided, evidence, refused };
    net.nodes.push(n);
    opened.push(n);
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

const applications = (from: number, count: number) =>
  applicants.slice(from, from + count).map((a) => txs.apply(a, 1));

function checkCertificate(d: Decided, committee: readonly Signer[]): void {
  const c = decodeCertificate(d.certificate);
  verifyCertificate(
    c,
    committee.map((k) => k.id),
  );
  assert.equal(c.pulse, d.pulse);
  assert.ok(Buffer.from(d.outcome.root.hash).equals(c.root.hash), "the certificate names the committed root");
}

test("four bookkeepers finalize a pulse with the same root and a certificate of 2f+1", async () => {
  const { nodes } = await setUp(keepers);
  slot(nodes, applications(0, 3));
  await waitFor(
    () => nodes.every((n) => n.decided.length === 1),
    10_000,
    "nodes.every((n) => n.decided.length === 1)",
  );
  const roots = new Set(nodes.map((n) => Buffer.from(n.ledger.rootAt().hash).toString("hex")));
  assert.equal(roots.size, 1);
  for (const n of nodes) {
    assert.equal(n.ledger.head, 1);
    assert.equal(n.decided[0]!.round, 0, "the chief's proposal is final in round 0");
    assert.equal(n.decided[0]!.outcome.receipts.length, 3);
    checkCertificate(n.decided[0]!, keepers);
  }
  assert.ok(nodes[0]!.decided[0]!.proposal.signer.equals(keepers[0]!.id), "round 0 is the first drawn's");
});

test("with the chief down, a backup's proposal is final in a later round", async () => {
  const { net, nodes } = await setUp(keepers);
  const [chief, ...rest] = nodes;
  net.down.add(chief!);
  const t0 = Date.now();
  slot(rest, applications(0, 2));
  await waitFor(
    () => rest.every((n) => n.decided.length === 1),
    10_000,
    "rest.every((n) => n.decided.length === 1)",
  );
  const d = rest[0]!.decided[0]!;
  assert.ok(d.round >= 1);
  assert.ok(d.proposal.signer.equals(keepers[d.round % 4]!.id));
  assert.ok(Date.now() - t0 < 3000, "final within three one-second periods");
  for (const n of rest) checkCertificate(n.decided[0]!, keepers);
  assert.equal(chief!.ledger.head, 0);
  // Back on the network, the chief learns how pulse 1 ended as soon as the others speak of pulse 2.
  net.down.delete(chief!);
  slot(nodes, applications(2, 1));
  await waitFor(
    () => nodes.every((n) => n.ledger.head === 2),
    10_000,
    "nodes.every((n) => n.ledger.head === 2)",
  );
  const roots = new Set(nodes.map((n) => Buffer.from(n.ledger.rootAt().hash).toString("hex")));
  assert.equal(roots.size, 1);
});

test("a byzantine chief proposing a root its batch does not lead to gets no certificate", async () => {
  const { nodes } = await setUp(keepers, { byzantine: new Map([[keepers[0]!, "wrong-root"]]) });
  slot(nodes, applications(0, 2));
  const honest = nodes.slice(1);
  await waitFor(
    () => honest.every((n) => n.decided.length === 1),
    10_000,
    "honest.every((n) => n.decided.length === 1)",
  );
  for (const n of honest) {
    const d = n.decided[0]!;
    assert.ok(d.round >= 1, "round 0 (the byzantine chief's) is not final");
    assert.ok(!d.proposal.signer.equals(keepers[0]!.id));
    checkCertificate(d, keepers);
  }
  // The byzantine chief's own ledger never committed its bad value.
  assert.ok(nodes[0]!.decided.every((d) => d.round >= 1));
});

test("equivocation gives evidence that an observer outside the committee verifies", async () => {
  const { nodes } = await setUp(keepers, {
    byzantine: new Map([[keepers[1]!, "equivocate"]]),
    observer: true,
  });
  const observer = nodes[4]!;
  slot(nodes.slice(0, 4), applications(0, 2));
  await waitFor(
    () => observer.evidence.length > 0 && nodes.slice(0, 4).every((n) => n.decided.length === 1),
    10_000,
    "observer.evidence.length > 0 && nodes.slice(0, 4).every((n) => n.decided.length === 1)",
  );
  const e = checkEvidence(observer.evidence[0]!);
  assert.ok(e.signer.equals(keepers[1]!.id));
  assert.equal(e.pulse, 1);
  // The observer followed the pulse too, from the certificate and the proposal it saw.
  await waitFor(() => observer.ledger.head === 1, 10_000, "observer.ledger.head === 1");
});

test("a committee of one finalizes alone", async () => {
  const { nodes } = await setUp([keepers[0]!]);
  slot(nodes, applications(0, 1));
  await waitFor(() => nodes[0]!.decided.length === 1, 5000, "nodes[0]!.decided.length === 1");
  checkCertificate(nodes[0]!.decided[0]!, [keepers[0]!]);
  assert.equal(decodeCertificate(nodes[0]!.decided[0]!.certificate).signers.length, 1);
});

test("a peer's message is checked whole before anything is done with it", async () => {
  const { nodes } = await setUp(keepers);
  const f = nodes[0]!.finality;
  const org = cast.orgKey.id;
  const v = (signer: Signer, o: Partial<{ org: Buffer; pulse: number }> = {}) =>
    signVote(
      { org: o.org ?? org, pulse: o.pulse ?? 1, round: 0, step: Step.Prevote, value: Buffer.alloc(32, 7) },
      signer,
    );
  assert.equal(f.check(v(keepers[1]!)), 1);
  assert.throws(() => f.check(v(applicants[0]!)), /not in the committee/);
  assert.throws(() => f.check(v(keepers[1]!, { org: cast.otherOrgKey.id })), /another organization/);
  const forged = v(keepers[1]!);
  forged[forged.length - 1]! ^= 1;
  assert.throws(() => f.check(forged));
  // A certificate claiming more signers than the committee has is refused before any signature is checked.
  const cert = Buffer.alloc(CERTIFICATE_COUNT_OFFSET + 2 + 96 * 5);
  cert[0] = 1;
  cert[1] = 0x49;
  org.copy(cert, 2);
  cert.writeBigUInt64BE(1n, 22);
  cert.writeUInt16BE(5, CERTIFICATE_COUNT_OFFSET);
  assert.throws(() => f.check(cert), /more signers than the committee/);
  assert.throws(() => f.check(Buffer.alloc(2 * 1024 * 1024)), /at most 1 MiB/);
  // Junk from an outsider about an old or future pulse starts nothing and helps no one.
  f.receive(v(applicants[0]!, { pulse: 3 }));
  assert.equal(f.status, undefined);
});

test("a pool that would change nothing is refused at the slot's end: no round starts for it", async () => {
  const { nodes } = await setUp([keepers[0]!]);
  const n = nodes[0]!;
  // An application with a nonce far ahead: refused now (NONCE), whatever batch it is in.
  const bad = txs.apply(applicants[0]!, 5);
  slot(nodes, [bad]);
  await waitFor(() => n.refused.length === 1, 5000, "the transaction refused");
  assert.equal(n.finality.status, undefined, "no round started");
  assert.equal(n.finality.pending, 0);
  assert.equal(n.decided.length, 0);
});
