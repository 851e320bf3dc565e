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
 * countersigned transfer), then the real request server (src/org/server.ts) answers one signed request
 * per op, as the bookkeeper's node and as a member's node (bob's, which answers the payee's and the
 * addressee's ops and forwards applications only). Each request is recorded with the response the server gave, so the file shows
 * what each op answers and to whom. test/net-wire.test.ts checks the file against the code.
 */

import { NodeMessageKind, signingPayload } from "../../src/crypto/domain.js";
import type { Signer } from "../../src/crypto/ed25519.js";
import { memberRecordKey, signMemberRecord } from "../../src/dht/records.js";
import {
  decodeGroupMessage,
  decodePulseFinal,
  decodeRequest,
  decodeResponse,
  encodeList,
  errorResponse,
  MAX_TEXT_BYTES,
  NetError,
  type NetErrorCode,
  Op,
  okResponse,
  type PulseFinal,
  signGroupMessage,
  signPulseFinal,
  signRequest,
} from "../../src/dht/wire.js";
import { type Account, encodeAccountData, Role } from "../../src/ledger/account.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { MemoryKV } from "../../src/ledger/memory-kv.js";
import { type OrgParams, TxKind } from "../../src/ledger/tx.js";
import { decodeTx, signTx } from "../../src/ledger/tx-codec.js";
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
import { signHeartbeat } from "../../src/pulse/heartbeat.js";
import { encodeProof } from "../../src/smt/proof.js";
import { Writer } from "../../src/util/bytes.js";
import { writeText } from "../../src/util/text.js";
import { testBooks } from "./books.js";
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
  { pulse: 1, note: "genesis", txs: [genesis] },
  {
    pulse: 2,
    note: "alice and bob apply",
    txs: [
      act(alice, 1n, { kind: TxKind.Apply, note: "alice" }).bytes,
      act(bob, 1n, { kind: TxKind.Apply, note: "bob" }).bytes,
    ],
  },
  {
    pulse: 3,
    note: "the supervisor approves both as members",
    txs: [
      act(sup, 1n, { kind: TxKind.Approve, applicant: alice.id, role: Role.Member }).bytes,
      act(sup, 2n, { kind: TxKind.Approve, applicant: bob.id, role: Role.Member }).bytes,
    ],
  },
  { pulse: 4, note: "alice pays bob 25, countersigned", txs: [transfer.bytes] },
];

/** Signs a message made by hand (for vectors the encoders refuse to make). */
function signRaw(message: Buffer, s: Signer): Buffer {
  return Buffer.concat([message, s.publicKey, s.sign(signingPayload(message))]);
}

// ---- the world: a ledger, the bookkeeper's server, bob's server ---------------------------------

async function world() {
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  const roots = [];
  for (const p of pulses) {
    // Certificates are opaque to the server (Pulses hands them out as kept): a stand-in per pulse.
    const certificate = p.pulse === 0 ? undefined : Buffer.from(`certificate of pulse ${p.pulse}`);
    const out = await ledger.applyPulse(p.pulse, p.txs, certificate === undefined ? {} : { certificate });
    for (const r of out.results) if (!r.ok) throw new Error(`pulse ${p.pulse}: ${r.reason}`);
    roots.push({ pulse: p.pulse, root: out.root });
  }
  const head = ledger.head!;
  const headStatement = signPulseFinal(
    { org, slot: HEAD_SLOT, pulse: head, root: ledger.rootAt(head) },
    sup.signer,
  );
  // As src/org/bookkeeping.ts: the head's statement as announced, older ones signed on demand with slot 0.
  const books = testBooks(ledger, (pulse) =>
    pulse === head
      ? headStatement
      : signPulseFinal({ org, slot: 0, pulse, root: ledger.rootAt(pulse) }, sup.signer),
  );
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
    info: () => [books.genesis(), headStatement],
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
  return { ledger, roots, head, headStatement, servers: { bookkeeper, bob: bobNode } };
}

// ---- vectors -------------------------------------------------------------------------------------

const OP_NAMES = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k])) as Record<number, string>;

const accountJson = (a: Account | undefined) => (a === undefined ? null : json(a));

/** The fields of an account entry, checked against `final` as a member checks them. */
function entryJson(entry: Buffer, id: Buffer, final: PulseFinal) {
  const p = checkProven(entry, id, final);
  return {
    id: hex(id),
    account: accountJson(p.account),
    result: p.account === undefined ? "exclusion" : "inclusion",
  };
}

async function main(): Promise<void> {
  const w = await world();
  const { ledger, head, headStatement } = w;
  const final = decodePulseFinal(headStatement);
  const signal = AbortSignal.timeout(10_000);

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
    // Refusals, as the server answers them.
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
    return {
      genesis: hex(g!),
      genesisTxId: hex(tx.id),
      statement: hex(f!),
      statementFields: finalJson(decodePulseFinal(f!)),
    };
  }
  function accountsJson(b: Buffer, ids: Buffer[]) {
    const [f, ...entries] = decodeListLocal(b);
    const fin = decodePulseFinal(f!);
    return {
      statement: hex(f!),
      entries: entries.map((e, i) => ({ entry: hex(e), ...entryJson(e, ids[i]!, fin) })),
    };
  }
  function receiptJson(b: Buffer, party: Buffer) {
    const [f, txb, e] = decodeListLocal(b);
    const fin = decodePulseFinal(f!);
    return {
      statement: hex(f!),
      statementFields: finalJson(fin),
      tx: hex(txb!),
      txId: hex(decodeTx(txb!).id),
      entries: [{ entry: hex(e!), ...entryJson(e!, party, fin) }],
    };
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
      response = { hex: hex(res), ok: true, body: hex(body), fields: c.answer(body) };
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

  // Pulse statements: the head's as announced, and an older pulse's as signed on demand.
  const older = signPulseFinal({ org, slot: 0, pulse: 3, root: ledger.rootAt(3) }, sup.signer);
  const pulseStatements = [
    { name: "the head, as announced on the pulse topic", signer: "sup", bytes: headStatement },
    { name: "an older pulse, signed on demand (slot 0)", signer: "sup", bytes: older },
  ].map((s) => ({
    name: s.name,
    signer: s.signer,
    fields: finalJson(decodePulseFinal(s.bytes)),
    hex: hex(s.bytes),
  }));

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
      { txId: hex(transfer.tx.id), state: "accepted", pulse: 4 },
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

  const invalid = invalidVectors(carolApply.bytes);

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
        "Applied to a fresh ledger (indexTxs on); every transaction is accepted. The bookkeeper's node keeps these books and holds sup's key; bob's node has joined, holds bob's key and forwards to the bookkeeper.",
      params: json(params),
      pulses: pulses.map((p, i) => ({
        pulse: p.pulse,
        note: p.note,
        txs: p.txs.map(hex),
        root: json(w.roots[i]!.root),
      })),
    },
    requests,
    pulseStatements,
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

function finalJson(f: PulseFinal) {
  return { org: hex(f.org), slot: f.slot, pulse: f.pulse, root: json(f.root), signer: hex(f.signer) };
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

function invalidVectors(applyTx: Buffer) {
  const out: { decoder: string; reason: string; hex: string }[] = [];
  const add = (decoder: string, reason: string, b: Uint8Array) => out.push({ decoder, reason, hex: hex(b) });
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
  add("request", "unknown op 11", signRaw(req({ op: 11 }), k("alice")));
  add("request", "format 2", signRaw(req({ format: 2 }), k("alice")));
  add(
    "request",
    "kind 0x44 (a pulse statement's)",
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

  const fin = (o: { kind?: number; pulse?: bigint }) =>
    new Writer(96)
      .u8(1)
      .u8(o.kind ?? NodeMessageKind.PulseFinal)
      .exact(org, 20, "org")
      .u64n(HEAD_SLOT)
      .u64(o.pulse ?? 4n)
      .exact(Buffer.alloc(32, 0xab), 32, "root hash")
      .u64(1500n)
      .u64n(2)
      .finish();
  add("pulseFinal", "pulse above 2^53 - 1", signRaw(fin({ pulse: 1n << 53n }), k("sup")));
  add("pulseFinal", "kind 0x40 (a heartbeat's)", signRaw(fin({ kind: NodeMessageKind.Heartbeat }), k("sup")));
  add("pulseFinal", "over 256 bytes", Buffer.concat([signRaw(fin({}), k("sup")), Buffer.alloc(80)]));
  add("checkedFinal", "signed by an account that is not the bookkeeper", signRaw(fin({}), k("alice")));

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
  add("info", "the statement is not the supervisor's", encodeList([genesis, signRaw(fin({}), k("alice"))]));
  add(
    "info",
    "the statement is another organization's",
    encodeList([genesis, signRaw(fin({}).fill(0x22, 2, 22), k("sup"))]),
  );
  return out;
}

await main();
