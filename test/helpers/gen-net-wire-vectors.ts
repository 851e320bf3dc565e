/**
 * Writes test/vectors/net-wire.json (docs/PROTOCOL.md section 11, the network) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-net-wire-vectors.js > test/vectors/net-wire.json
 *   npx biome format --write test/vectors/net-wire.json     (the lint checks JSON files too)
 *
 * Deterministic: every key comes from a fixed seed (32 bytes of one value), every time is fixed, and
 * ed25519 signs deterministically, so a rerun gives the same file byte for byte.
 *
 * A small organization is built on a fresh ledger (genesis, two applications, two approvals, one
 * countersigned transfer). Its genesis names no committee, so its committee is the supervisor alone
 * (docs/PROTOCOL.md §12), which certifies every pulse after the genesis pulse: real finality
 * certificates (helpers/certify.ts), stored with the pulses as a bookkeeper stores them. Then the real
 * request server (src/org/server.ts) answers one signed request per op, as the bookkeeper's node and
 * as a member's node (bob's, which answers from the committee chain it checked, the payee's and the
 * addressee's ops, and forwards applications only). Each request is recorded with the response the
 * server gave, so the file shows what each op answers and to whom, and each answer's proof of finality
 * (a certificate, or the genesis pulse's number) with its fields. test/net-wire.test.ts checks the
 * file against the code.
 */

import { NodeMessageKind, signingPayload } from "../../src/crypto/domain.js";
import type { Signer } from "../../src/crypto/ed25519.js";
import { memberRecordKey, signMemberRecord } from "../../src/dht/records.js";
import {
  decodeGroupMessage,
  decodeRequest,
  decodeResponse,
  encodeList,
  errorResponse,
  MAX_TEXT_BYTES,
  NetError,
  type NetErrorCode,
  Op,
  okResponse,
  signGroupMessage,
  signRequest,
} from "../../src/dht/wire.js";
import { type Account, encodeAccountData, Role } from "../../src/ledger/account.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { MemoryKV } from "../../src/ledger/memory-kv.js";
import { type OrgParams, TxKind } from "../../src/ledger/tx.js";
import { decodeTx, signTx } from "../../src/ledger/tx-codec.js";
import {
  type CertifiedPulse,
  CommitteeChain,
  type CommitteeLink,
  decodeCommittees,
  encodeCommittees,
  encodeCommitteesRequest,
  genesisProof,
} from "../../src/org/committee-chain.js";
import { groupTopic, pulseTopic, txTopic } from "../../src/org/discovery.js";
import {
  checkProven,
  decodePulses,
  encodeIds,
  encodeProven,
  encodePulsesRequest,
  encodeStatus,
} from "../../src/org/protocol.js";
import { type Joined, orgServer } from "../../src/org/server.js";
import type { TxStatus } from "../../src/pulse/bookkeeper.js";
import { committeeHash, decodeCertificate, encodeCertificate } from "../../src/pulse/certificate.js";
import { signHeartbeat } from "../../src/pulse/heartbeat.js";
import { batchHashOf, valueIdOf } from "../../src/pulse/proposal.js";
import { Step, signVote } from "../../src/pulse/votes.js";
import { encodeProof } from "../../src/smt/proof.js";
import { Writer } from "../../src/util/bytes.js";
import { writeText } from "../../src/util/text.js";
import { testBooks } from "./books.js";
import { certificateOf, proofsBy } from "./certify.js";
import { type NamedKey, namedKey } from "./named-keys.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** JSON of a value: byte strings as hex, bigints as decimal strings, the rest as is. */
export function json(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(json);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  return v;
}

// ---- keys, times, the organization ---------------------------------------------------------------

const orgKey = namedKey("org", 1);
/** The founder: genesis supervisor, so the organization's bookkeeper (its node's key). */
const sup = namedKey("sup", 2);
const alice = namedKey("alice", 3);
/** A member whose node answers the payee's and the addressee's ops, and forwards applications. */
const bob = namedKey("bob", 4);
/** A newcomer: no leaf in the tree. */
const carol = namedKey("carol", 5);
/** Another organization's key (a request for the wrong organization). */
const other = namedKey("other-org", 8);
const keys = [orgKey, sup, alice, bob, carol, other];
const byName = new Map(keys.map((k) => [k.name, k]));

/** The receiver's clock and every request's time: 2026-01-01T00:00:00Z. */
const NOW = 1_767_225_600_000;
/** The slot the head pulse closed: the one that ended at NOW. */
const HEAD_SLOT = NOW / 1000 - 1;
const EXPIRY = 100;

const params: OrgParams = {
  name: "Leither net",
  supervisor: sup.id,
  pulsePeriodMs: 1000,
  electionCycle: 10,
  publicityPeriod: 5,
  committeeSize: 3,
  minDeposit: 10n,
  supply: 1_000_000n,
  distribution: [
    { to: alice.id, amount: 1000n, reason: "founding member" },
    { to: bob.id, amount: 500n, reason: "founding member" },
  ],
  committee: [],
  miningReward: 0n,
};
const org = orgKey.id;

const act = (who: NamedKey, nonce: bigint, fields: object, cosign?: NamedKey) =>
  signTx(
    { ...fields, org, actor: who.id, nonce, expiry: EXPIRY } as never,
    cosign ? [who.signer, cosign.signer] : [who.signer],
  );

const genesis = signTx({ kind: TxKind.Genesis, org, params }, [orgKey.signer]).bytes;
const transfer = act(alice, 2n, { kind: TxKind.Transfer, to: bob.id, amount: 25n }, bob);
const pulses: { pulse: number; note: string; txs: Buffer[] }[] = [
  { pulse: 0, note: "genesis", txs: [genesis] },
  {
    pulse: 1,
    note: "alice and bob apply",
    txs: [
      act(alice, 1n, { kind: TxKind.Apply, note: "alice" }).bytes,
      act(bob, 1n, { kind: TxKind.Apply, note: "bob" }).bytes,
    ],
  },
  {
    pulse: 2,
    note: "the supervisor approves both as members",
    txs: [
      act(sup, 1n, { kind: TxKind.Approve, applicant: alice.id, role: Role.Member }).bytes,
      act(sup, 2n, { kind: TxKind.Approve, applicant: bob.id, role: Role.Member }).bytes,
    ],
  },
  { pulse: 3, note: "alice pays bob 25, countersigned", txs: [transfer.bytes] },
];

/** Signs a message made by hand (for vectors the encoders refuse to make). */
function signRaw(message: Buffer, s: Signer): Buffer {
  return Buffer.concat([message, s.publicKey, s.sign(signingPayload(message))]);
}

// ---- the world: a ledger, the bookkeeper's server, bob's server ---------------------------------

/** The pulse of the genesis: it has no certificate, its proof of finality is its number. */
const GENESIS_PULSE = 0;
/** The committee of every pulse here: the genesis names none, so the supervisor alone (§12). */
const committee = [sup.signer];

async function world() {
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  const roots = [];
  for (const p of pulses) {
    const out = await ledger.applyPulse(p.pulse, p.txs);
    for (const r of out.results) if (!r.ok) throw new Error(`pulse ${p.pulse}: ${r.reason}`);
    // Stored as a bookkeeper stores it (Pulses hands it out as kept); the genesis pulse has none.
    if (p.pulse !== GENESIS_PULSE)
      await ledger.putCertificate(p.pulse, certificateOf(ledger, p.pulse, committee));
    roots.push({ pulse: p.pulse, root: out.root });
  }
  const head = ledger.head!;
  const proof = proofsBy(ledger, committee, GENESIS_PULSE);
  const books = testBooks(ledger, proof);
  // Bob's node: the organization as it checked it (Info), and the committee links it learnt (none yet).
  const chain = new CommitteeChain(org, params, books.genesis());
  const latest = await chain.check(books.final());
  const never = () => undefined;
  const bookkeeper = orgServer({
    books: () => books,
    joined: () => undefined,
    key: (id) => (id === hex(sup.id) ? sup.signer : undefined),
    autoCountersign: true,
    applied: never,
    received: never,
    now: () => NOW,
  });
  const joined: Joined = {
    org,
    info: () => [books.genesis(), latest.bytes],
    committees: (from, count) => chain.links(from, count),
    role: async (id) => ledger.account(id)?.role ?? Role.None,
    forward: (request, signal) => bookkeeper(request, signal),
    countersigned: never,
  };
  const bobNode = orgServer({
    books: () => undefined,
    joined: () => joined,
    key: (id) => (id === hex(bob.id) ? bob.signer : undefined),
    autoCountersign: true,
    applied: never,
    received: never,
    now: () => NOW,
  });
  return { ledger, roots, head, proof, chain, latest, servers: { bookkeeper, bob: bobNode } };
}

// ---- vectors -------------------------------------------------------------------------------------

const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k])) as Record<number, string>;

const accountJson = (a: Account | undefined) => (a === undefined ? null : json(a));

/** The fields of an account entry, checked against `final` as a member checks them. */
function entryJson(entry: Buffer, id: Buffer, final: CertifiedPulse) {
  const p = checkProven(entry, id, final);
  return {
    id: hex(id),
    account: accountJson(p.account),
    result: p.account === undefined ? "exclusion" : "inclusion",
  };
}

/** The fields of a proof of finality: the genesis pulse's number, or a certificate's. */
function finalJson(bytes: Buffer) {
  if (bytes.length === 8) return { kind: "genesis", pulse: Number(bytes.readBigUInt64BE(0)) };
  const c = decodeCertificate(bytes);
  return {
    kind: "certificate",
    org: hex(c.org),
    pulse: c.pulse,
    round: c.round,
    valueId: hex(c.valueId),
    root: json(c.root),
    batchHash: hex(c.batchHash),
    next: hex(c.next),
    signers: c.signers.map(hex),
  };
}

/** A certificate made by hand: `signers` precommit round 0's value of these fields. */
function makeCertificate(o: {
  org?: Buffer;
  pulse: number;
  root: { hash: Buffer; sum: bigint; count: number };
  next: Buffer;
  signers: readonly NamedKey[];
}): Buffer {
  const c = {
    org: o.org ?? org,
    pulse: o.pulse,
    round: 0,
    root: o.root,
    batchHash: batchHashOf([]),
    next: o.next,
  };
  const value = valueIdOf(c.org, c.pulse, c.root, c.batchHash, c.next);
  const precommits = o.signers.map((s) =>
    signVote({ org: c.org, pulse: c.pulse, round: 0, step: Step.Precommit, value }, s.signer),
  );
  return encodeCertificate({ ...c, precommits });
}

/**
 * A committee chain made by hand, past this organization's pulses: cycle 1 kept by bob and alice (in
 * that drawn order), bound by a certificate of cycle 0's last pulse (9) by the supervisor; cycle 2 by
 * bob alone, bound by a certificate of pulse 19 by both of cycle 1's members (quorum 2 of 2).
 */
function handLinks(): CommitteeLink[] {
  const root = (fill: number) => ({ hash: Buffer.alloc(32, fill), sum: params.supply, count: 3 });
  const one = [bob, alice];
  const two = [bob];
  return [
    {
      cycle: 1,
      members: one.map((k) => k.id),
      certificate: makeCertificate({
        pulse: 9,
        root: root(0x91),
        next: committeeHash(one.map((k) => k.id)),
        signers: [sup],
      }),
    },
    {
      cycle: 2,
      members: two.map((k) => k.id),
      certificate: makeCertificate({
        pulse: 19,
        root: root(0x92),
        next: committeeHash(two.map((k) => k.id)),
        signers: one,
      }),
    },
  ];
}

async function main(): Promise<void> {
  const w = await world();
  const { ledger, head, chain } = w;
  const final = w.latest;
  const signal = AbortSignal.timeout(10_000);
  const certified = (b: Uint8Array) => chain.check(b);

  // Carol's application: her Apply transaction and her member record.
  const carolApply = act(carol, 1n, { kind: TxKind.Apply, note: "" });
  const carolRecord = signMemberRecord(
    {
      org,
      account: carol.id,
      seq: BigInt(NOW),
      peerId: Buffer.concat([Buffer.from("002408011220", "hex"), Buffer.alloc(32, 0x55)]),
      addrs: [Buffer.from("047f000001061dc5", "hex")],
    },
    carol.signer,
  );
  // Alice's second payment to bob: signed by her alone (Countersign), then by both (Submit).
  const payOnly = act(alice, 3n, { kind: TxKind.Transfer, to: bob.id, amount: 10n });
  const payBoth = act(alice, 3n, { kind: TxKind.Transfer, to: bob.id, amount: 10n }, bob);
  const genesisId = decodeTx(genesis).id;
  const messageBody = (to: Buffer, text: string) => {
    const mw = new Writer(64).exact(to, 20, "to");
    writeText(mw, text, MAX_TEXT_BYTES, "text");
    return mw.finish();
  };

  type Case = {
    name: string;
    op: Op;
    signer: NamedKey;
    node: "bookkeeper" | "bob";
    body: Buffer;
    bodyFields: unknown;
    timeMs?: number;
    org?: Buffer;
    /** The answer's fields, from its body. */
    answer?: (body: Buffer) => unknown;
  };
  const statusAnswer = (b: Buffer) => json(decodeStatusLocal(b));
  const cases: Case[] = [
    {
      name: "Info: a newcomer asks the bookkeeper",
      op: Op.Info,
      signer: carol,
      node: "bookkeeper",
      body: Buffer.alloc(0),
      bodyFields: {},
      answer: (b) => infoJson(b),
    },
    {
      name: "Info: a member's node answers from its own checked view",
      op: Op.Info,
      signer: carol,
      node: "bob",
      body: Buffer.alloc(0),
      bodyFields: {},
      answer: (b) => infoJson(b),
    },
    {
      name: "Apply: carol's Apply transaction and member record",
      op: Op.Apply,
      signer: carol,
      node: "bookkeeper",
      body: encodeList([carolApply.bytes, carolRecord]),
      bodyFields: { tx: hex(carolApply.bytes), record: hex(carolRecord), txId: hex(carolApply.tx.id) },
      answer: statusAnswer,
    },
    {
      name: "Submit: a member submits a countersigned transfer",
      op: Op.Submit,
      signer: alice,
      node: "bookkeeper",
      body: payBoth.bytes,
      bodyFields: { tx: hex(payBoth.bytes), txId: hex(payBoth.tx.id) },
      answer: statusAnswer,
    },
    {
      name: "Accounts: alice's own account (inclusion)",
      op: Op.Accounts,
      signer: alice,
      node: "bookkeeper",
      body: encodeIds([alice.id]),
      bodyFields: { ids: [hex(alice.id)] },
      answer: (b) => accountsJson(b, [alice.id]),
    },
    {
      name: "Accounts: carol's own account, which has no leaf (exclusion)",
      op: Op.Accounts,
      signer: carol,
      node: "bookkeeper",
      body: encodeIds([carol.id]),
      bodyFields: { ids: [hex(carol.id)] },
      answer: (b) => accountsJson(b, [carol.id]),
    },
    {
      name: "Receipt: the payer's receipt of the transfer of pulse 4",
      op: Op.Receipt,
      signer: alice,
      node: "bookkeeper",
      body: transfer.tx.id,
      bodyFields: { txId: hex(transfer.tx.id) },
      answer: (b) => receiptJson(b, alice.id),
    },
    {
      name: "Receipt: the payee's receipt of the same transfer",
      op: Op.Receipt,
      signer: bob,
      node: "bookkeeper",
      body: transfer.tx.id,
      bodyFields: { txId: hex(transfer.tx.id) },
      answer: (b) => receiptJson(b, bob.id),
    },
    {
      name: "Receipt: alice's receipt of the genesis, whose pulse has no certificate (its number proves it)",
      op: Op.Receipt,
      signer: alice,
      node: "bookkeeper",
      body: genesisId,
      bodyFields: { txId: hex(genesisId) },
      answer: (b) => receiptJson(b, alice.id),
    },
    {
      name: "Countersign: the payer asks the payee's node",
      op: Op.Countersign,
      signer: alice,
      node: "bob",
      body: payOnly.bytes,
      bodyFields: { tx: hex(payOnly.bytes), txId: hex(payOnly.tx.id) },
      answer: (b) => ({ tx: hex(b), signatures: decodeTx(b).signatures.length, txId: hex(decodeTx(b).id) }),
    },
    {
      name: "Message: a direct message to bob's node",
      op: Op.Message,
      signer: alice,
      node: "bob",
      body: messageBody(bob.id, "hello bob"),
      bodyFields: { to: hex(bob.id), text: "hello bob" },
      answer: () => ({}),
    },
    {
      name: "Role: asked of the bookkeeper",
      op: Op.Role,
      signer: alice,
      node: "bookkeeper",
      body: bob.id,
      bodyFields: { account: hex(bob.id) },
      answer: (b) => ({ role: b[0], head: Number(b.readBigUInt64BE(1)) }),
    },
    {
      name: "Status: the transfer of pulse 4",
      op: Op.Status,
      signer: alice,
      node: "bookkeeper",
      body: transfer.tx.id,
      bodyFields: { txId: hex(transfer.tx.id) },
      answer: statusAnswer,
    },
    {
      name: "Pulses: a member catching up from pulse 3",
      op: Op.Pulses,
      signer: alice,
      node: "bookkeeper",
      body: encodePulsesRequest(3, 256),
      bodyFields: { from: 3, count: 256 },
      answer: (b) =>
        decodePulses(b).map((p) => ({
          pulse: p.pulse,
          certificate: hex(p.certificate),
          txs: p.txs.map(hex),
        })),
    },
    {
      name: "Committees: a newcomer asks the bookkeeper for the chain from cycle 1 (none: still in cycle 0)",
      op: Op.Committees,
      signer: carol,
      node: "bookkeeper",
      body: encodeCommitteesRequest(1, 64),
      bodyFields: { from: 1, count: 64 },
      answer: committeesJson,
    },
    {
      name: "Committees: a member's node answers with the links it checked (none)",
      op: Op.Committees,
      signer: carol,
      node: "bob",
      body: encodeCommitteesRequest(1, 1),
      bodyFields: { from: 1, count: 1 },
      answer: committeesJson,
    },
    // Refusals, as the server answers them.
    {
      name: "refused: Committees from cycle 0 (its committee is in the genesis)",
      op: Op.Committees,
      signer: carol,
      node: "bookkeeper",
      body: encodeCommitteesRequest(0, 1),
      bodyFields: { from: 0, count: 1 },
    },
    {
      name: "refused: Pulses asked by an account that is not a member",
      op: Op.Pulses,
      signer: carol,
      node: "bookkeeper",
      body: encodePulsesRequest(1, 1),
      bodyFields: { from: 1, count: 1 },
    },
    {
      name: "refused: Accounts for another account than the asker's",
      op: Op.Accounts,
      signer: alice,
      node: "bookkeeper",
      body: encodeIds([bob.id]),
      bodyFields: { ids: [hex(bob.id)] },
    },
    {
      name: "refused: Submit by an account that is not a member",
      op: Op.Submit,
      signer: carol,
      node: "bookkeeper",
      body: carolApply.bytes,
      bodyFields: { tx: hex(carolApply.bytes), txId: hex(carolApply.tx.id) },
    },
    {
      name: "refused: Receipt asked by an account that is not a party",
      op: Op.Receipt,
      signer: carol,
      node: "bookkeeper",
      body: transfer.tx.id,
      bodyFields: { txId: hex(transfer.tx.id) },
    },
    {
      name: "refused: Receipt of a transaction never applied",
      op: Op.Receipt,
      signer: alice,
      node: "bookkeeper",
      body: payBoth.tx.id,
      bodyFields: { txId: hex(payBoth.tx.id) },
    },
    {
      name: "refused: Role of another account, asked by a non-member",
      op: Op.Role,
      signer: carol,
      node: "bookkeeper",
      body: alice.id,
      bodyFields: { account: hex(alice.id) },
    },
    {
      name: "refused: Countersign sent to a node without the payee's key",
      op: Op.Countersign,
      signer: alice,
      node: "bookkeeper",
      body: payOnly.bytes,
      bodyFields: { tx: hex(payOnly.bytes), txId: hex(payOnly.tx.id) },
    },
    {
      name: "refused: bob's node does not keep the books and forwards only applications",
      op: Op.Role,
      signer: alice,
      node: "bob",
      body: bob.id,
      bodyFields: { account: hex(bob.id) },
    },
    {
      name: "refused: a request 6 minutes old",
      op: Op.Info,
      signer: carol,
      node: "bookkeeper",
      body: Buffer.alloc(0),
      bodyFields: {},
      timeMs: NOW - 6 * 60_000,
    },
    {
      name: "refused: a request for another organization",
      op: Op.Info,
      signer: carol,
      node: "bookkeeper",
      body: Buffer.alloc(0),
      bodyFields: {},
      org: other.id,
    },
    {
      name: "refused: a Status body that is not a 32-byte id",
      op: Op.Status,
      signer: alice,
      node: "bookkeeper",
      body: Buffer.alloc(20, 0xaa),
      bodyFields: { txId: hex(Buffer.alloc(20, 0xaa)) },
    },
  ];

  function infoJson(b: Buffer) {
    const [g, f] = decodeListLocal(b);
    const tx = decodeTx(g!);
    return { genesis: hex(g!), genesisTxId: hex(tx.id), final: hex(f!), finalFields: finalJson(f!) };
  }
  async function accountsJson(b: Buffer, ids: Buffer[]) {
    const [f, ...entries] = decodeListLocal(b);
    const fin = await certified(f!);
    return {
      final: hex(f!),
      finalFields: finalJson(f!),
      entries: entries.map((e, i) => ({ entry: hex(e), ...entryJson(e, ids[i]!, fin) })),
    };
  }
  async function receiptJson(b: Buffer, party: Buffer) {
    const [f, txb, e] = decodeListLocal(b);
    const fin = await certified(f!);
    return {
      final: hex(f!),
      finalFields: finalJson(f!),
      tx: hex(txb!),
      txId: hex(decodeTx(txb!).id),
      entries: [{ entry: hex(e!), ...entryJson(e!, party, fin) }],
    };
  }
  function committeesJson(b: Buffer) {
    return { links: linksJson(decodeCommittees(b)) };
  }

  const requests = [];
  for (const c of cases) {
    const timeMs = c.timeMs ?? NOW;
    const bytes = signRequest({ org: c.org ?? org, op: c.op, body: c.body, timeMs }, c.signer.signer);
    const d = decodeRequest(bytes);
    if (d.timeMs !== timeMs || d.op !== c.op || !d.from.equals(c.signer.id)) throw new Error(c.name);
    const res = Buffer.from(await w.servers[c.node](bytes, signal));
    let response: unknown;
    try {
      const body = decodeResponse(res);
      if (c.answer === undefined) throw new Error(`${c.name}: answered, not refused`);
      response = { hex: hex(res), ok: true, body: hex(body), fields: await c.answer(body) };
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      if (c.answer !== undefined) throw new Error(`${c.name}: refused: ${err.message}`);
      response = { hex: hex(res), ok: false, code: err.code, codeNumber: res[1], message: err.message };
    }
    requests.push({
      name: c.name,
      node: c.node,
      signer: c.signer.name,
      fields: {
        org: hex(c.org ?? org),
        from: hex(c.signer.id),
        timeMs,
        op: c.op,
        opName: OP_NAMES[c.op],
        body: hex(c.body),
      },
      body: c.bodyFields,
      hex: hex(bytes),
      response,
    });
  }

  // The proofs of finality: each certified pulse's certificate as stored, and the genesis pulse's number.
  const certificates = pulses
    .filter((p) => p.pulse !== GENESIS_PULSE)
    .map((p) => {
      const bytes = ledger.certificateAt(p.pulse)!;
      if (!bytes.equals(w.proof(p.pulse))) throw new Error(`pulse ${p.pulse}: served another certificate`);
      return { pulse: p.pulse, signers: ["sup"], fields: finalJson(bytes), hex: hex(bytes) };
    });
  const genesisBytes = genesisProof(GENESIS_PULSE);
  const genesisFinal = await certified(genesisBytes);
  const genesisPulse = {
    pulse: GENESIS_PULSE,
    hex: hex(genesisBytes),
    root: json(genesisFinal.root),
    entries: [alice, carol].map((k) => {
      const a = ledger.account(k.id, GENESIS_PULSE);
      const entry = encodeProven(
        a === undefined ? undefined : encodeAccountData(a),
        encodeProof(ledger.prove(k.id, GENESIS_PULSE)),
      );
      return { name: k.name, hex: hex(entry), ...entryJson(entry, k.id, genesisFinal) };
    }),
  };

  // Committee links made by hand, as a Committees answer carries them, checked by a chain.
  const links = handLinks();
  const linksBytes = encodeCommittees(links);
  const handChain = new CommitteeChain(org, params, genesis);
  handChain.extend(decodeCommittees(linksBytes));
  if (handChain.known !== 2) throw new Error("the hand-made links do not hold");

  const heartbeat = signHeartbeat(
    { org, slot: HEAD_SLOT + 1, pulse: head, rootHash: Buffer.from(ledger.rootAt(head).hash) },
    sup.signer,
  );

  const groupMessages = [
    { signer: alice, text: "hello, everyone" },
    { signer: bob, text: "dag ✓ 👋" },
  ].map((m) => {
    const bytes = signGroupMessage({ org, text: m.text, timeMs: NOW }, m.signer.signer);
    const g = decodeGroupMessage(bytes);
    return {
      signer: m.signer.name,
      fields: { org: hex(g.org), from: hex(g.from), timeMs: g.timeMs, text: g.text },
      hex: hex(bytes),
    };
  });

  const lists = [[], [Buffer.of(1)], [Buffer.alloc(0), Buffer.from("abcd", "hex")]].map((items) => ({
    items: items.map(hex),
    hex: hex(encodeList(items)),
  }));

  const ids = [[alice.id], [alice.id, alice.id]].map((l) => ({ ids: l.map(hex), hex: hex(encodeIds(l)) }));

  const someId = hex(payBoth.tx.id);
  const statuses = (
    [
      { txId: someId, state: "pending" },
      { txId: hex(transfer.tx.id), state: "accepted", pulse: 3 },
      {
        txId: someId,
        state: "rejected",
        slot: HEAD_SLOT + 2,
        reason: "INSUFFICIENT_FUNDS",
        message: "the payer can spend 965, not 1000",
      },
      { txId: someId, state: "unknown" },
    ] as TxStatus[]
  ).map((s) => ({ status: s, hex: hex(encodeStatus(s)) }));

  const codes: [NetErrorCode, string][] = [
    ["BAD_REQUEST", "the request's time is more than 5 minutes from this node's clock"],
    ["FORBIDDEN", "an account's leaf and proof go only to its owner"],
    ["NOT_FOUND", "no such transaction has been applied"],
    ["REFUSED", "the transaction is for organization 0000000000000000000000000000000000000000"],
    ["BUSY", "too many transactions are waiting for a pulse; try again shortly"],
    ["UNAVAILABLE", "the bookkeeper cannot be reached"],
  ];
  const roleBody = new Writer(9).u8(Role.Member).u64n(head).finish();
  const responses = {
    ok: [
      { name: "an empty body (Message)", body: "", hex: hex(okResponse(Buffer.alloc(0))) },
      { name: "a Role answer: member at pulse 4", body: hex(roleBody), hex: hex(okResponse(roleBody)) },
    ],
    errors: codes.map(([code, message]) => {
      const bytes = errorResponse(new NetError(code, message));
      return { code, codeNumber: bytes[1], message, hex: hex(bytes) };
    }),
  };

  // The account entries of the Accounts answers, on their own.
  const accountEntries = [alice, bob, carol].map((k) => {
    const a = ledger.account(k.id, head);
    const data = a === undefined ? Buffer.alloc(0) : encodeAccountData(a);
    const proof = encodeProof(ledger.prove(k.id, head));
    const entry = encodeProven(a === undefined ? undefined : data, proof);
    return {
      name: k.name,
      data: hex(data),
      proof: hex(proof),
      hex: hex(entry),
      ...entryJson(entry, k.id, final),
    };
  });

  const invalid = invalidVectors(ledger, carolApply.bytes);

  const doc = {
    about:
      "Network message vectors of docs/PROTOCOL.md section 11, made by test/helpers/gen-net-wire-vectors.ts and checked by test/net-wire.test.ts. Byte strings are hex; u64 amounts decimal strings; times in unix ms.",
    keys: keys.map((k) => ({
      name: k.name,
      seed: hex(k.seed),
      publicKey: hex(k.kp.publicKey),
      id: hex(k.id),
    })),
    org: hex(org),
    nowMs: NOW,
    topics: { pulse: pulseTopic(org), tx: txTopic(org), group: groupTopic(org) },
    memberRecordKey: Buffer.from(memberRecordKey(org, carol.id)).toString(),
    scenario: {
      about:
        "Applied to a fresh ledger (indexTxs on); every transaction is accepted. The genesis names no committee, so the supervisor alone keeps and certifies every pulse after the genesis pulse (`final`: its certificate, stored with the pulse; the genesis pulse's proof is its number). The bookkeeper's node keeps these books and holds sup's key; bob's node has joined (it checked the head's certificate), holds bob's key and forwards to the bookkeeper.",
      params: json(params),
      genesisPulse: GENESIS_PULSE,
      committee: { members: [hex(sup.id)], hash: hex(committeeHash([sup.id])) },
      pulses: pulses.map((p, i) => ({
        pulse: p.pulse,
        note: p.note,
        txs: p.txs.map(hex),
        root: json(w.roots[i]!.root),
        final: hex(w.proof(p.pulse)),
      })),
    },
    requests,
    finality: {
      about:
        "Proofs of finality (docs/PROTOCOL.md §11.4): each certified pulse's certificate by the committee of one, checked by CommitteeChain against the genesis committee; and the genesis pulse's 8-byte number, checked by applying the genesis alone, with entries proven against the root that gives.",
      certificates,
      genesisPulse,
    },
    committeeLinks: {
      about:
        "A Committees answer made by hand (this organization is still in cycle 0): cycle 1's committee bob, alice (drawn order) bound by sup's certificate of pulse 9; cycle 2's, bob, bound by bob's and alice's certificate of pulse 19. A chain that knows cycle 0 (sup) learns both.",
      links: linksJson(links),
      hex: hex(linksBytes),
    },
    heartbeat: {
      signer: "sup",
      fields: { org: hex(org), slot: HEAD_SLOT + 1, pulse: head, rootHash: hex(ledger.rootAt(head).hash) },
      hex: hex(heartbeat),
    },
    groupMessages,
    responses,
    lists,
    ids,
    statuses,
    accountEntries,
    invalid,
  };
  await ledger.close();
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function linksJson(links: readonly CommitteeLink[]) {
  return links.map((l) => ({
    cycle: l.cycle,
    members: l.members.map(hex),
    certificate: hex(l.certificate),
    certificateFields: finalJson(l.certificate),
  }));
}

// Small local readers, so the file records what the bytes say, not only what the code under test says.
function decodeListLocal(b: Buffer): Buffer[] {
  const n = b.readUInt16BE(0);
  const out: Buffer[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const len = b.readUInt32BE(at);
    out.push(b.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== b.length) throw new Error("list: trailing bytes");
  return out;
}

function decodeStatusLocal(b: Buffer): unknown {
  const state = ["pending", "accepted", "rejected", "unknown"][b[0]!]!;
  const txId = hex(b.subarray(1, 33));
  const n = Number(b.readBigUInt64BE(33));
  if (state === "accepted") return { txId, state, pulse: n };
  if (state === "rejected") throw new Error("no rejected answer in the requests");
  return { txId, state };
}

// ---- invalid inputs -------------------------------------------------------------------------------

/** What a refusal throws. */
type Refusal = "DecodeError" | "CertificateError" | "UnknownCommittee";

function invalidVectors(ledger: Ledger, applyTx: Buffer) {
  const out: { decoder: string; reason: string; error: Refusal; hex: string }[] = [];
  const add = (decoder: string, reason: string, b: Uint8Array, error: Refusal = "DecodeError") =>
    out.push({ decoder, reason, error, hex: hex(b) });
  const k = (n: string) => byName.get(n)!.signer;
  const req = (o: {
    kind?: number;
    format?: number;
    from?: Buffer;
    op?: number;
    body?: Buffer;
    len?: number;
  }) => {
    const body = o.body ?? Buffer.alloc(0);
    const w = new Writer(256)
      .u8(o.format ?? 1)
      .u8(o.kind ?? NodeMessageKind.NetRequest)
      .exact(org, 20, "org")
      .exact(o.from ?? alice.id, 20, "from")
      .u64n(NOW)
      .u8(o.op ?? Op.Info)
      .u32(o.len ?? body.length)
      .bytes(body);
    return w.finish();
  };
  const good = signRequest({ org, op: Op.Info, body: Buffer.alloc(0), timeMs: NOW }, alice.signer);
  add("request", "signed by another account than its sender", signRaw(req({ from: bob.id }), k("alice")));
  add("request", "unknown op 0", signRaw(req({ op: 0 }), k("alice")));
  add("request", "unknown op 12", signRaw(req({ op: 12 }), k("alice")));
  add("request", "format 2", signRaw(req({ format: 2 }), k("alice")));
  add(
    "request",
    "kind 0x44 (the retired pulse statement's)",
    signRaw(req({ kind: NodeMessageKind.PulseFinal }), k("alice")),
  );
  add("request", "body length past the end", signRaw(req({ body: Buffer.of(1, 2), len: 200 }), k("alice")));
  add("request", "a trailing byte", Buffer.concat([good, Buffer.of(0)]));
  add("request", "truncated: no signature", good.subarray(0, good.length - 64));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1]! ^= 1;
  add("request", "the signature does not verify", flipped);
  const weak = Buffer.from(good);
  weak.fill(0, good.length - 96, good.length - 64);
  weak[good.length - 96] = 1; // y = 1: a point of small order
  add("request", "weak public key", weak);

  // Proofs of finality, checked by a CommitteeChain that knows cycle 0's committee (the supervisor).
  const headRoot = ledger.rootAt(3);
  const rootHead = { hash: Buffer.from(headRoot.hash), sum: headRoot.sum, count: headRoot.count };
  const ours = committeeHash([sup.id]);
  // Kind 0x44, the retired pulse statement: u8 1 | u8 0x44 | org | u64 slot | u64 pulse | root | key | signature.
  const statement = new Writer(96)
    .u8(1)
    .u8(NodeMessageKind.PulseFinal)
    .exact(org, 20, "org")
    .u64n(HEAD_SLOT)
    .u64n(3)
    .exact(rootHead.hash, 32, "root hash")
    .u64(rootHead.sum)
    .u64n(rootHead.count)
    .finish();
  add(
    "final",
    "a pulse statement (kind 0x44, retired) signed by the supervisor",
    signRaw(statement, k("sup")),
  );
  const badSignature = certificateOf(ledger, 3, committee);
  badSignature[badSignature.length - 1]! ^= 1;
  add("final", "a certificate whose signature does not verify", badSignature);
  const outsider = certificateOf(ledger, 3, [alice.signer], ours);
  add("final", "a certificate signed by an account outside the committee", outsider, "CertificateError");
  const otherOrg = makeCertificate({ org: other.id, pulse: 3, root: rootHead, next: ours, signers: [sup] });
  add("final", "the certificate of another organization", otherOrg, "CertificateError");
  add(
    "final",
    "a certificate of cycle 1, whose committee is not known yet",
    makeCertificate({ pulse: 10, root: rootHead, next: ours, signers: [sup] }),
    "UnknownCommittee",
  );
  add("final", "a genesis pulse above 2^53 - 1", Buffer.from("0020000000000000", "hex"));
  add("final", "a genesis proof of pulse 1: the genesis pulse is pulse 0", genesisProof(1));
  add("final", "7 bytes", Buffer.alloc(7));

  // Committees requests and answers.
  const link = (cycle: Buffer, members: Buffer, certificate: Buffer) =>
    encodeList([cycle, members, certificate]);
  const cycle1 = new Writer(4).u32(1).finish();
  const someCertificate = handLinks()[0]!.certificate;
  add("committeesRequest", "from cycle 0", encodeCommitteesRequest(0, 1));
  add("committeesRequest", "count 0", encodeCommitteesRequest(1, 0));
  add("committeesRequest", "count 65", encodeCommitteesRequest(1, 65));
  add("committeesRequest", "a trailing byte", Buffer.concat([encodeCommitteesRequest(1, 1), Buffer.of(0)]));
  add("committees", "a link with 2 parts", encodeList([encodeList([cycle1, encodeList([bob.id])])]));
  add(
    "committees",
    "a member id of 21 bytes",
    encodeList([link(cycle1, encodeList([Buffer.concat([bob.id, Buffer.of(0)])]), someCertificate)]),
  );
  add("committees", "a link with no members", encodeList([link(cycle1, encodeList([]), someCertificate)]));
  add(
    "committees",
    "a cycle of 3 bytes",
    encodeList([link(Buffer.of(0, 0, 1), encodeList([bob.id]), someCertificate)]),
  );
  add(
    "committees",
    "65 links",
    encodeList(Array.from({ length: 65 }, () => link(cycle1, encodeList([bob.id]), someCertificate))),
  );

  const grp = (o: { from?: Buffer; text?: Buffer }) => {
    const text = o.text ?? Buffer.from("hi");
    return new Writer(128)
      .u8(1)
      .u8(NodeMessageKind.GroupMessage)
      .exact(org, 20, "org")
      .exact(o.from ?? alice.id, 20, "from")
      .u64n(NOW)
      .uvarint(text.length)
      .bytes(text)
      .finish();
  };
  add(
    "groupMessage",
    "signed by another account than its sender",
    signRaw(grp({ from: bob.id }), k("alice")),
  );
  add("groupMessage", "a control character", signRaw(grp({ text: Buffer.from("a\nb") }), k("alice")));
  add("groupMessage", "invalid UTF-8", signRaw(grp({ text: Buffer.of(0xc0, 0x80) }), k("alice")));
  add("groupMessage", "text over 4,096 bytes", signRaw(grp({ text: Buffer.alloc(4097, 0x61) }), k("alice")));
  add(
    "groupMessage",
    "non-minimal text length",
    signRaw(
      Buffer.concat([grp({ text: Buffer.alloc(0) }).subarray(0, 50), Buffer.of(0x82, 0x00, 0x61, 0x62)]),
      k("alice"),
    ),
  );

  add("response", "empty", Buffer.alloc(0));
  add("response", "unknown status 2", Buffer.of(2));
  add("response", "unknown error code 0", Buffer.of(1, 0, 0));
  add("response", "unknown error code 7", Buffer.of(1, 7, 0));
  add("response", "error text truncated", Buffer.of(1, 2, 5, 0x61));
  add("response", "error text trailing byte", Buffer.of(1, 2, 1, 0x61, 0x62));
  add(
    "response",
    "error text over 1,024 bytes",
    Buffer.concat([Buffer.of(1, 2, 0x81, 0x08), Buffer.alloc(1025, 0x61)]),
  );

  add("list", "count above the maximum (3 > 2)", Buffer.from("0003000000000000000000000000", "hex"));
  add("list", "item past the end", Buffer.from("00010000000561", "hex"));
  add("list", "trailing byte", Buffer.from("00010000000161ff", "hex"));
  add("list", "truncated count", Buffer.of(0));

  add("ids", "an id of 19 bytes", encodeList([Buffer.alloc(19, 1)]));
  add("ids", "17 ids", encodeList(Array.from({ length: 17 }, () => alice.id)));

  const st = (state: number, reason = Buffer.of(0), message = Buffer.of(0)) =>
    Buffer.concat([Buffer.of(state), Buffer.alloc(32, 0x11), Buffer.alloc(8), reason, message]);
  add("status", "state 4", st(4));
  add("status", "reason over 64 bytes", st(2, Buffer.concat([Buffer.of(65), Buffer.alloc(65, 0x41)])));
  add(
    "status",
    "message over 512 bytes",
    st(2, Buffer.of(0), Buffer.concat([Buffer.of(0x81, 0x04), Buffer.alloc(513, 0x61)])),
  );
  add("status", "a trailing byte", Buffer.concat([st(0), Buffer.of(0)]));
  add("status", "truncated txId", Buffer.of(0, 1, 2));
  add(
    "status",
    "pulse above 2^53 - 1",
    Buffer.concat([Buffer.of(1), Buffer.alloc(32), Buffer.from("0020000000000000", "hex"), Buffer.of(0, 0)]),
  );

  add("info", "one part only", encodeList([genesis]));
  add("info", "the genesis is another transaction", encodeList([applyTx, Buffer.alloc(0)]));
  add(
    "info",
    "the proof is a certificate signed outside the committee",
    encodeList([genesis, outsider]),
    "CertificateError",
  );
  add(
    "info",
    "the proof is another organization's certificate",
    encodeList([genesis, otherOrg]),
    "CertificateError",
  );
  return out;
}

await main();
