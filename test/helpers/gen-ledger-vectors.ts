/**
 * Writes test/vectors/ledger-messages.json (docs/PROTOCOL.md section 8) from the code:
 *
 *   npx tsc -p . && node dist/test/helpers/gen-ledger-vectors.js > test/vectors/ledger-messages.json
 *   npx biome format --write test/vectors/ledger-messages.json     (the lint checks JSON files too)
 *
 * Deterministic: every key comes from a fixed seed (32 bytes of one value) and ed25519 signatures are
 * deterministic, so a rerun gives the same file byte for byte. The scenario states what each
 * transaction is meant to get; the generator stops if the code disagrees, so the file never records a
 * verdict nobody meant. test/ledger-vectors.test.ts checks the file against the code.
 */

import { MESSAGE_FORMAT_V1, MessageKind, signingPayload } from "../../src/crypto/domain.js";
import { draw } from "../../src/election/committee.js";
import { forfeitCycle } from "../../src/election/cycle.js";
import { commitment } from "../../src/election/draw.js";
import {
  type AccountData,
  accountDataHash,
  decodeAccountData,
  encodeAccountData,
  Policy,
  Role,
} from "../../src/ledger/account.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { MemoryKV } from "../../src/ledger/memory-kv.js";
import type { RejectReason } from "../../src/ledger/transition-types.js";
import { type OrgParams, RewardCategory, type TxBody } from "../../src/ledger/tx.js";
import { countersign, decodeTx, encodeTx, signTx } from "../../src/ledger/tx-codec.js";
import { MAX_U64 } from "../../src/smt/hash.js";
import { DecodeError, Writer } from "../../src/util/bytes.js";
import { type NamedKey, namedKey } from "./named-keys.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---- keys ----------------------------------------------------------------------------------------

const org = namedKey("org", 1);
const sup = namedKey("sup", 2);
const alice = namedKey("alice", 3);
const bob = namedKey("bob", 4);
const carol = namedKey("carol", 5);
const dave = namedKey("dave", 6);
const mallory = namedKey("mallory", 7);
/** A second organization, to sign for the wrong one. */
const other = namedKey("other-org", 8);
const keys = [org, sup, alice, bob, carol, dave, mallory, other];

/** The election secret of a key for a cycle: 32 bytes of a fixed pattern, so the vectors never change. */
const secret = (k: NamedKey, cycle: number) => Buffer.alloc(32, (k.seed[0]! << 4) | (cycle & 0x0f));

// ---- JSON forms ----------------------------------------------------------------------------------

/** JSON of a body or account data: ids as hex, u64 values as decimal strings, the rest as is. */
function json(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return hex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(json);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  return v;
}

// ---- account data --------------------------------------------------------------------------------

function accountDataVectors() {
  const cases: [string, AccountData][] = [
    [
      "fresh: an account only credited (no vote)",
      {
        nonce: 0n,
        frozen: 0n,
        deposit: 0n,
        role: Role.None,
        candidate: false,
        policy: Policy.Countersign,
        vote: null,
        commitment: null,
        reveal: null,
        updated: 0,
      },
    ],
    [
      "the organization's account after genesis: accept-all",
      {
        nonce: 0n,
        frozen: 0n,
        deposit: 0n,
        role: Role.None,
        candidate: false,
        policy: Policy.AcceptAll,
        vote: null,
        commitment: null,
        reveal: null,
        updated: 1,
      },
    ],
    [
      "a supervisor who is a candidate, with a deposit and a commitment",
      {
        nonce: 3n,
        frozen: 0n,
        deposit: 200n,
        role: Role.Supervisor,
        candidate: true,
        policy: Policy.Countersign,
        vote: null,
        commitment: commitment(secret(sup, 0)),
        reveal: null,
        updated: 3,
      },
    ],
    [
      "a candidate that revealed in cycle 0 and committed to its next secret",
      {
        nonce: 4n,
        frozen: 0n,
        deposit: 200n,
        role: Role.Supervisor,
        candidate: true,
        policy: Policy.Countersign,
        vote: null,
        commitment: commitment(secret(sup, 1)),
        reveal: { cycle: 0, secret: secret(sup, 0) },
        updated: 6,
      },
    ],
    [
      "a former candidate: no commitment, its last reveal kept",
      {
        nonce: 5n,
        frozen: 0n,
        deposit: 0n,
        role: Role.Member,
        candidate: false,
        policy: Policy.Countersign,
        vote: null,
        commitment: null,
        reveal: { cycle: 3, secret: secret(dave, 3) },
        updated: 40,
      },
    ],
    [
      "a guest with a vote",
      {
        nonce: 2n,
        frozen: 0n,
        deposit: 0n,
        role: Role.Guest,
        candidate: false,
        policy: Policy.Countersign,
        vote: { candidate: sup.id, weight: 300n },
        commitment: null,
        reveal: null,
        updated: 5,
      },
    ],
    [
      "every field at its largest",
      {
        nonce: MAX_U64,
        frozen: MAX_U64,
        deposit: MAX_U64,
        role: Role.Supervisor,
        candidate: true,
        policy: Policy.AcceptAll,
        vote: { candidate: Buffer.alloc(20, 0xff), weight: MAX_U64 },
        commitment: Buffer.alloc(32, 0xff),
        reveal: { cycle: 0xffffffff, secret: Buffer.alloc(32, 0xff) },
        updated: MAX_SAFE,
      },
    ],
  ];
  return cases.map(([name, d]) => {
    const bytes = encodeAccountData(d);
    if (hex(encodeAccountData(decodeAccountData(bytes))) !== hex(bytes))
      throw new Error(`${name}: round trip`);
    return { name, data: json(d), hex: hex(bytes), dataHash: hex(accountDataHash(bytes)) };
  });
}

// ---- transactions --------------------------------------------------------------------------------

const acting = (k: NamedKey, nonce: bigint, expiry = 1000) => ({ org: org.id, actor: k.id, nonce, expiry });

const genesisParams: OrgParams = {
  name: "Leither test org — Zürich ✓",
  supervisor: sup.id,
  pulsePeriodMs: 1000,
  // 8 pulses: cycle 0's snapshot is pulse 4 and its reveal window pulses 5-6, inside the scenario.
  electionCycle: 8,
  publicityPeriod: 10,
  committeeSize: 5,
  minDeposit: 100n,
  supply: 10_000n,
  distribution: [
    { to: alice.id, amount: 1000n, reason: "founder" },
    { to: bob.id, amount: 500n, reason: "early work" },
    { to: sup.id, amount: 300n, reason: "" },
    { to: dave.id, amount: 300n, reason: "first node, 日本" },
  ],
  // A first committee of two, not led by the supervisor: alice proposes round 0 of cycle 0.
  committee: [alice.id, sup.id],
  // 45 to each of the two for every final pulse, from the organization's account.
  miningReward: 90n,
};

/** The committee every scenario pulse is applied with (cycle 0's: the genesis committee). */
const scenarioCommittee = genesisParams.committee;

/** A pulse's reward to `recipients` (no signature). */
const rewardBody = (pulse: number, recipients: readonly Buffer[] = scenarioCommittee): TxBody => ({
  kind: MessageKind.Reward,
  org: org.id,
  pulse,
  recipients,
});

/** A cycle's forfeit of `candidates` (sorted here: a forfeit names them ascending; no signature). */
const forfeitBody = (cycle: number, candidates: readonly Buffer[]): TxBody => ({
  kind: MessageKind.Forfeit,
  org: org.id,
  cycle,
  candidates: [...candidates].sort(Buffer.compare),
});

/** One valid transaction of every kind (two transfers, candidacies, reveals and votes each). */
function txVectors() {
  const cases: [string, TxBody, NamedKey[]][] = [
    ["genesis", { kind: MessageKind.Genesis, org: org.id, params: genesisParams }, [org]],
    [
      "transfer: the largest amount, the largest expiry, payer's signature only",
      { kind: MessageKind.Transfer, ...acting(alice, 1n, MAX_SAFE), to: bob.id, amount: MAX_U64 },
      [alice],
    ],
    [
      "transfer: countersigned by the payee",
      { kind: MessageKind.Transfer, ...acting(alice, 2n), to: bob.id, amount: 250n },
      [alice, bob],
    ],
    [
      "distribute",
      {
        kind: MessageKind.Distribute,
        ...acting(sup, 1n),
        to: dave.id,
        amount: 300n,
        category: RewardCategory.Mining,
        reason: "blocks 7-9 ✓",
      },
      [sup],
    ],
    ["apply", { kind: MessageKind.Apply, ...acting(dave, 1n), note: "please let me in" }, [dave]],
    [
      "approve (as member)",
      { kind: MessageKind.Approve, ...acting(sup, 2n), applicant: dave.id, role: Role.Member },
      [sup],
    ],
    [
      "set role (to supervisor)",
      { kind: MessageKind.SetRole, ...acting(sup, 3n), target: dave.id, role: Role.Supervisor },
      [sup],
    ],
    ["leave", { kind: MessageKind.Leave, ...acting(carol, 9n) }, [carol]],
    ["pledge", { kind: MessageKind.Pledge, ...acting(sup, 4n), amount: 200n }, [sup]],
    ["release", { kind: MessageKind.Release, ...acting(sup, 5n), amount: 40n }, [sup]],
    [
      "candidacy: declare, with the commitment to the first secret",
      {
        kind: MessageKind.Candidacy,
        ...acting(sup, 6n),
        declare: true,
        commitment: commitment(secret(sup, 0)),
      },
      [sup],
    ],
    [
      "candidacy: withdraw (no commitment)",
      { kind: MessageKind.Candidacy, ...acting(sup, 7n), declare: false, commitment: null },
      [sup],
    ],
    [
      "reveal: cycle 0's secret and the commitment for cycle 1",
      {
        kind: MessageKind.Reveal,
        ...acting(sup, 8n),
        cycle: 0,
        secret: secret(sup, 0),
        next: commitment(secret(sup, 1)),
      },
      [sup],
    ],
    [
      "reveal: the largest cycle",
      {
        kind: MessageKind.Reveal,
        ...acting(dave, 9n),
        cycle: 0xffffffff,
        secret: secret(dave, 15),
        next: Buffer.alloc(32, 0xff),
      },
      [dave],
    ],
    ["vote", { kind: MessageKind.Vote, ...acting(carol, 3n), candidate: sup.id, weight: 300n }, [carol]],
    [
      "vote: withdraw (weight 0, zero candidate)",
      { kind: MessageKind.Vote, ...acting(carol, 4n), candidate: Buffer.alloc(20), weight: 0n },
      [carol],
    ],
    [
      "set policy (accept all)",
      { kind: MessageKind.SetPolicy, ...acting(bob, 1n, 0), policy: Policy.AcceptAll },
      [bob],
    ],
    ["reward: pulse 7's, to the committee in drawn order; no signature", rewardBody(7), []],
    [
      "forfeit: cycle 0's, two candidates ascending by id; no signature",
      forfeitBody(0, [alice.id, dave.id]),
      [],
    ],
  ];
  const kinds = new Set(cases.map((c) => c[1].kind));
  for (const k of Object.values(MessageKind)) if (!kinds.has(k)) throw new Error(`no vector of kind ${k}`);
  return cases.map(([name, body, signers]) => {
    const { tx, bytes } = signTx(
      body,
      signers.map((k) => k.signer),
    );
    if (hex(encodeTx(decodeTx(bytes))) !== hex(bytes)) throw new Error(`${name}: round trip`);
    return {
      name,
      kind: body.kind,
      body: json(body),
      bodyHex: hex(tx.bodyBytes),
      id: hex(tx.id),
      signingPayload: hex(signingPayload(tx.bodyBytes)),
      signers: signers.map((k) => hex(k.kp.publicKey)),
      hex: hex(bytes),
    };
  });
}

// ---- invalid encodings ---------------------------------------------------------------------------

/** `format | kind | org | actor | nonce | expiry`: the start of every body but genesis. */
function head(kind: number, actor: NamedKey, expiry = 1000n): Writer {
  return new Writer().u8(MESSAGE_FORMAT_V1).u8(kind).bytes(org.id).bytes(actor.id).u64(1n).u64(expiry);
}

/** A body (as given, canonical or not) with n signatures of `signer` over it. */
function withSigs(body: Buffer, signer: NamedKey, n = 1): Buffer {
  const parts: Buffer[] = [body, Buffer.from([n])];
  for (let i = 0; i < n; i++)
    parts.push(Buffer.from(signer.kp.publicKey), signer.signer.sign(signingPayload(body)));
  return Buffer.concat(parts);
}

/** uvarint length (minimal) and the raw bytes: a text field with any content. */
const rawText = (w: Writer, b: Buffer) => w.uvarint(b.length).bytes(b);

/** An apply whose note is the given raw bytes. */
const applyWithNote = (note: Buffer) => withSigs(rawText(head(MessageKind.Apply, dave), note).finish(), dave);

/** A distribute whose reason is the given raw bytes. */
function distributeWithReason(reason: Buffer, category: number = RewardCategory.Operation): Buffer {
  const w = head(MessageKind.Distribute, sup).bytes(dave.id).u64(5n).u8(category);
  return withSigs(rawText(w, reason).finish(), sup);
}

/** A genesis body with the given name bytes, distribution count/lines, committee and reward written raw. */
function genesisRaw(
  name: Buffer,
  lines: Buffer = Buffer.from([0]),
  committee = Buffer.from([0, 0]),
  reward = Buffer.alloc(8),
): Buffer {
  const w = new Writer().u8(MESSAGE_FORMAT_V1).u8(MessageKind.Genesis).bytes(org.id);
  rawText(w, name).bytes(sup.id).u32(1000).u32(100).u32(10).u16(5).u64(100n).u64(10_000n).bytes(lines);
  return withSigs(w.bytes(committee).bytes(reward).finish(), org);
}

/** A reward body: pulse, then the count and the ids written raw. */
function rewardRaw(pulse: bigint, count: number, ids: readonly Buffer[]): Buffer {
  const w = new Writer().u8(MESSAGE_FORMAT_V1).u8(MessageKind.Reward).bytes(org.id).u64(pulse).u16(count);
  for (const id of ids) w.bytes(id);
  return w.finish();
}

/** A forfeit body: cycle, then the count and the ids written raw. */
function forfeitRaw(cycle: number, count: number, ids: readonly Buffer[]): Buffer {
  const w = new Writer().u8(MESSAGE_FORMAT_V1).u8(MessageKind.Forfeit).bytes(org.id).u32(cycle).u16(count);
  for (const id of ids) w.bytes(id);
  return w.finish();
}

function invalidVectors(validTx: { name: string; hex: string }[], validData: { hex: string }[]) {
  const out: { decoder: "tx" | "accountData"; reason: string; hex: string }[] = [];
  const tx = (reason: string, b: Buffer) => out.push({ decoder: "tx", reason, hex: hex(b) });
  const data = (reason: string, b: Buffer) => out.push({ decoder: "accountData", reason, hex: hex(b) });
  const byName = (prefix: string) => Buffer.from(validTx.find((v) => v.name.startsWith(prefix))!.hex, "hex");
  const patched = (b: Buffer, at: number, ...bytes: number[]) => {
    const c = Buffer.from(b);
    c.set(bytes, at);
    return c;
  };

  const transfer = byName("transfer: countersigned");
  tx("empty input", Buffer.alloc(0));
  tx("trailing byte after the signatures", Buffer.concat([transfer, Buffer.from([0])]));
  tx("truncated: the last byte of the last signature is missing", transfer.subarray(0, -1));
  tx("truncated: ends inside the amount", transfer.subarray(0, 80));
  tx("truncated: a signature count but no signature", transfer.subarray(0, 87));
  tx("unknown format 0x00", patched(transfer, 0, 0));
  tx("unknown format 0x02", patched(transfer, 0, 2));
  tx("unknown kind 0x00", patched(transfer, 1, 0));
  tx("unknown kind 0x0f (the first unassigned number)", patched(transfer, 1, 0x0f));
  tx("unknown kind 0x40 (outside the transaction range)", patched(transfer, 1, 0x40));

  for (const [what, role] of [
    ["none (0)", 0],
    ["applicant (1)", 1],
    ["supervisor (4)", 4],
    ["unknown (5)", 5],
  ] as const)
    tx(
      `approve as ${what}: only guest (2) or member (3)`,
      withSigs(head(MessageKind.Approve, sup).bytes(dave.id).u8(role).finish(), sup),
    );
  tx(
    "set role to applicant (1)",
    withSigs(head(MessageKind.SetRole, sup).bytes(dave.id).u8(Role.Applicant).finish(), sup),
  );
  tx(
    "set role to an unknown role (5)",
    withSigs(head(MessageKind.SetRole, sup).bytes(dave.id).u8(5).finish(), sup),
  );
  tx("set policy to an unknown policy (2)", withSigs(head(MessageKind.SetPolicy, bob).u8(2).finish(), bob));
  tx("distribute with reward category 0", distributeWithReason(Buffer.from("x"), 0));
  tx("distribute with reward category 5", distributeWithReason(Buffer.from("x"), 5));
  tx(
    "candidacy with declare = 2 (a boolean is 0 or 1)",
    withSigs(head(MessageKind.Candidacy, sup).u8(2).finish(), sup),
  );
  tx("candidacy with declare = 0xff", withSigs(head(MessageKind.Candidacy, sup).u8(0xff).finish(), sup));
  // Candidacies and reveals whose 32-byte fields are short, missing or followed by more: `tail` after
  // the declare byte (candidacy) or the cycle (reveal).
  const bad: [string, number, (w: Writer) => Writer][] = [
    ["candidacy with declare = 1 and no commitment", MessageKind.Candidacy, (w) => w.u8(1)],
    [
      "candidacy with declare = 1 and a commitment of 31 bytes",
      MessageKind.Candidacy,
      (w) => w.u8(1).bytes(Buffer.alloc(31, 7)),
    ],
    [
      "candidacy with declare = 0 followed by a commitment",
      MessageKind.Candidacy,
      (w) => w.u8(0).bytes(Buffer.alloc(32, 7)),
    ],
    [
      "reveal whose next commitment is 31 bytes",
      MessageKind.Reveal,
      (w) => w.u32(0).bytes(Buffer.alloc(63, 7)),
    ],
    [
      "reveal with a byte after the next commitment",
      MessageKind.Reveal,
      (w) => w.u32(0).bytes(Buffer.alloc(65, 7)),
    ],
  ];
  for (const [reason, kind, tail] of bad) tx(reason, withSigs(tail(head(kind, sup)).finish(), sup));
  tx(
    "vote of weight 0 naming a candidate (a withdrawal names 20 zero bytes)",
    withSigs(head(MessageKind.Vote, carol).bytes(sup.id).u64(0n).finish(), carol),
  );

  const leave = head(MessageKind.Leave, carol).finish();
  tx("leave with 0 signatures", withSigs(leave, carol, 0));
  tx("leave with 2 signatures", withSigs(leave, carol, 2));
  const tBody = head(MessageKind.Transfer, alice).bytes(bob.id).u64(5n).finish();
  tx("transfer with 0 signatures", withSigs(tBody, alice, 0));
  tx("transfer with 3 signatures", withSigs(tBody, alice, 3));
  const gen = byName("genesis");
  const genBodyLen = gen.length - 97;
  tx("genesis with 2 signatures", withSigs(gen.subarray(0, genBodyLen), org, 2));
  const rewardBytes = rewardRaw(7n, 2, [alice.id, sup.id]);
  tx("reward with 1 signature (a reward has none)", withSigs(rewardBytes, sup, 1));
  tx("reward without its signature count", rewardBytes);
  tx("reward with no recipient", withSigs(rewardRaw(7n, 0, []), sup, 0));
  tx(
    "reward with a count of 2 and one recipient (the count byte is read as part of the second)",
    withSigs(rewardRaw(7n, 2, [alice.id]), sup, 0),
  );
  tx("reward for pulse 2^53 (above 2^53 - 1)", withSigs(rewardRaw(2n ** 53n, 1, [alice.id]), sup, 0));
  const [lo, hi] = [alice.id, dave.id].sort(Buffer.compare) as [Buffer, Buffer];
  const forfeitBytes = forfeitRaw(0, 2, [lo, hi]);
  tx("forfeit with 1 signature (a forfeit has none)", withSigs(forfeitBytes, sup, 1));
  tx("forfeit without its signature count", forfeitBytes);
  tx("forfeit with no candidate", withSigs(forfeitRaw(0, 0, []), sup, 0));
  tx("forfeit with its candidates in descending order", withSigs(forfeitRaw(0, 2, [hi, lo]), sup, 0));
  tx("forfeit naming one candidate twice", withSigs(forfeitRaw(0, 2, [lo, lo]), sup, 0));

  tx(
    "note length 3 written as a non-minimal varint (83 00)",
    withSigs(
      head(MessageKind.Apply, dave)
        .bytes(Buffer.from([0x83, 0x00]))
        .bytes(Buffer.from("abc"))
        .finish(),
      dave,
    ),
  );
  tx(
    "reason length 0 written as a non-minimal varint (80 00)",
    withSigs(
      head(MessageKind.Distribute, sup)
        .bytes(dave.id)
        .u64(5n)
        .u8(RewardCategory.Operation)
        .bytes(Buffer.from([0x80, 0x00]))
        .finish(),
      sup,
    ),
  );
  tx(
    "genesis distribution count 0 written as a non-minimal varint (80 00)",
    genesisRaw(Buffer.from("o"), Buffer.from([0x80, 0])),
  );
  tx(
    "genesis with 4097 distribution lines (more than 4096)",
    genesisRaw(Buffer.from("o"), new Writer().uvarint(4097).finish()),
  );

  tx("note: a lone continuation byte (80)", applyWithNote(Buffer.from([0x61, 0x80])));
  tx("note: an overlong encoding of 'A' (c1 81)", applyWithNote(Buffer.from([0xc1, 0x81])));
  tx("note: an overlong encoding of U+20AC (e0 82 ac)", applyWithNote(Buffer.from([0xe0, 0x82, 0xac])));
  tx("note: a UTF-16 surrogate (ed a0 80)", applyWithNote(Buffer.from([0xed, 0xa0, 0x80])));
  tx("note: a truncated sequence (e2 82)", applyWithNote(Buffer.from([0xe2, 0x82])));
  tx("note: a code point above U+10FFFF (f4 90 80 80)", applyWithNote(Buffer.from([0xf4, 0x90, 0x80, 0x80])));
  tx("note: the byte ff", applyWithNote(Buffer.from([0xff])));
  tx("reason with a newline (0a)", distributeWithReason(Buffer.from("line 1\nline 2")));
  tx(
    "reason with an escape (1b): a terminal control sequence",
    distributeWithReason(Buffer.from("\x1b[2Jhi")),
  );
  tx("reason with DEL (7f)", distributeWithReason(Buffer.from([0x61, 0x7f])));
  tx("reason with the C1 control U+0085 (c2 85)", distributeWithReason(Buffer.from([0x61, 0xc2, 0x85])));
  tx("genesis name with NUL (00)", genesisRaw(Buffer.from([0x6f, 0x00])));
  tx(
    "genesis committee count 2 with one id (the signatures are read as the second)",
    genesisRaw(Buffer.from("o"), undefined, Buffer.concat([Buffer.from([0, 2]), alice.id])),
  );
  tx(
    "genesis without the committee count and the mining reward (an older layout's body)",
    genesisRaw(Buffer.from("o"), undefined, Buffer.alloc(0), Buffer.alloc(0)),
  );
  tx(
    "genesis without the mining reward (the body of the layout before it)",
    genesisRaw(Buffer.from("o"), undefined, undefined, Buffer.alloc(0)),
  );
  tx(
    "genesis with a mining reward of 7 bytes",
    genesisRaw(Buffer.from("o"), undefined, undefined, Buffer.alloc(7)),
  );
  tx("note of 257 bytes (limit 256)", applyWithNote(Buffer.alloc(257, 0x61)));
  tx("reason of 257 bytes (limit 256)", distributeWithReason(Buffer.alloc(257, 0x61)));
  tx(
    "genesis name of 65 bytes (limit 64): 21 three-byte characters and 2 ASCII",
    genesisRaw(Buffer.from(`${"€".repeat(21)}ab`)),
  );
  tx(
    "note length 2^53 (above the limit, and no such bytes follow)",
    withSigs(
      head(MessageKind.Apply, dave)
        .uvarint(2n ** 53n)
        .finish(),
      dave,
    ),
  );
  tx("expiry 2^53 (above 2^53 - 1)", withSigs(head(MessageKind.Leave, carol, 2n ** 53n).finish(), carol));
  tx("expiry 2^64 - 1", withSigs(head(MessageKind.Leave, carol, MAX_U64).finish(), carol));

  const plain = Buffer.from(validData[0]!.hex, "hex"); // no vote, commitment or reveal: 38 bytes
  const committed = Buffer.from(validData[2]!.hex, "hex"); // a candidate's commitment: 70 bytes
  const revealed = Buffer.from(validData[4]!.hex, "hex"); // a reveal, no commitment: 74 bytes
  const voted = Buffer.from(validData[5]!.hex, "hex"); // with a vote: 66 bytes
  if ([plain, committed, revealed, voted].map((b) => b.length).join() !== "38,70,74,66")
    throw new Error("the account data vectors the invalid ones patch have moved");
  data("empty input", Buffer.alloc(0));
  data("trailing byte", Buffer.concat([plain, Buffer.from([0])]));
  data("truncated: the last byte of updated is missing", plain.subarray(0, -1));
  data("truncated: ends inside the vote", voted.subarray(0, 40));
  data("unknown version 0", patched(plain, 0, 0));
  data("unknown version 2", patched(plain, 0, 2));
  data("unknown role 5", patched(plain, 25, 5));
  data("candidate = 2 (a boolean is 0 or 1)", patched(plain, 26, 2));
  data("unknown policy 2", patched(plain, 27, 2));
  data("vote flag 2", patched(voted, 28, 2));
  data("vote flag 1 with weight 0 (written as no vote)", patched(voted, 49, 0, 0, 0, 0, 0, 0, 0, 0));
  data("vote flag 0 followed by a vote's fields", patched(voted, 28, 0));
  data("updated 2^53 (above 2^53 - 1)", patched(plain, 30, 0, 0x20, 0, 0, 0, 0, 0, 0));
  data("candidate = 1 and no commitment", patched(plain, 26, 1));
  data("candidate = 0 followed by a commitment", patched(committed, 26, 0));
  data("truncated: ends inside the commitment", committed.subarray(0, 50));
  data("reveal flag 2", patched(plain, 29, 2));
  data("truncated: ends inside the reveal's secret", revealed.subarray(0, 60));
  data("reveal flag 0 followed by a reveal's fields", patched(revealed, 29, 0));

  for (const v of out) {
    const b = Buffer.from(v.hex, "hex");
    try {
      if (v.decoder === "tx") decodeTx(b);
      else decodeAccountData(b);
      process.stderr.write(`WARNING: invalid vector accepted by the code: ${v.reason}\n`);
    } catch (e) {
      if (!(e instanceof DecodeError)) process.stderr.write(`WARNING: ${v.reason}: threw ${String(e)}\n`);
    }
  }
  return out;
}

// ---- scenario ------------------------------------------------------------------------------------

type Expect = "ok" | RejectReason;
interface ScenarioTx {
  readonly note: string;
  readonly bytes: Buffer;
  readonly expect: Expect;
}

/** A signed transaction's bytes; `also` adds countersignatures. */
function signed(body: TxBody, k: NamedKey, also: NamedKey[] = []): Buffer {
  let { bytes } = signTx(body, [k.signer]);
  for (const c of also) bytes = countersign(bytes, c.signer);
  return bytes;
}

const reveal = (k: NamedKey, nonce: bigint, cycle: number, s: Buffer, next: Buffer) =>
  signed({ kind: MessageKind.Reveal, ...acting(k, nonce), cycle, secret: s, next }, k);

const transfer = (from: NamedKey, nonce: bigint, to: NamedKey, amount: bigint, countersigned: boolean) =>
  signed(
    { kind: MessageKind.Transfer, ...acting(from, nonce), to: to.id, amount },
    from,
    countersigned ? [to] : [],
  );

function scenarioPulses(): { pulse: number; txs: ScenarioTx[] }[] {
  const t = (note: string, bytes: Buffer, expect: Expect): ScenarioTx => ({ note, bytes, expect });
  /** A reveal for `cycle` of the secret `s` of `k`, committing to the secret s + 1. */
  const rv = (note: string, k: NamedKey, nonce: bigint, cycle: number, s: number, expect: Expect) =>
    t(note, reveal(k, nonce, cycle, secret(k, s), commitment(secret(k, s + 1))), expect);
  const genesis = signed({ kind: MessageKind.Genesis, org: org.id, params: genesisParams }, org);
  const aliceToBob = transfer(alice, 1n, bob, 100n, true);
  const badSig = transfer(alice, 2n, bob, 1n, true);
  badSig[badSig.length - 1]! ^= 1; // the payee's signature, last byte
  const wrongKey = signTx({ kind: MessageKind.Transfer, ...acting(alice, 2n), to: bob.id, amount: 1n }, [
    mallory.signer,
  ]).bytes;
  return [
    {
      pulse: 1,
      txs: [
        t(
          "alice -> bob 10, countersigned: alice's funds arrive in this pulse",
          transfer(alice, 1n, bob, 10n, true),
          "INSUFFICIENT_FUNDS",
        ),
        t("genesis: supply 10000; alice 1000, bob 500, sup 300, dave 300; the org keeps 7900", genesis, "ok"),
        t("undecodable bytes", Buffer.from("0102", "hex"), "DECODE"),
        t(
          "the reward of pulse 1: the org's account was credited in this pulse, so it pays nothing",
          encodeTx({ body: rewardBody(1), signatures: [] }),
          "ok",
        ),
        t(
          "sup distributes 100 to carol: the org's account was credited in this pulse",
          signed(
            {
              kind: MessageKind.Distribute,
              ...acting(sup, 1n),
              to: carol.id,
              amount: 100n,
              category: RewardCategory.Operation,
              reason: "ops",
            },
            sup,
          ),
          "INSUFFICIENT_FUNDS",
        ),
      ],
    },
    {
      pulse: 2,
      txs: [
        t("alice -> bob 100, countersigned by bob", aliceToBob, "ok"),
        t(
          "alice -> org 50, payer's signature only: the org's account accepts all",
          transfer(alice, 2n, org, 50n, false),
          "ok",
        ),
        t("bob -> carol 400, countersigned by carol", transfer(bob, 1n, carol, 400n, true), "ok"),
        t(
          "bob -> alice 10 without alice's countersignature",
          transfer(bob, 2n, alice, 10n, false),
          "PAYEE_SIGNATURE",
        ),
        t(
          "bob -> carol 101, countersigned: bob's 100 from alice arrived in this pulse",
          transfer(bob, 2n, carol, 101n, true),
          "INSUFFICIENT_FUNDS",
        ),
        t(
          "carol -> dave 5, countersigned: carol's 400 arrived in this pulse",
          transfer(carol, 1n, dave, 5n, true),
          "INSUFFICIENT_FUNDS",
        ),
        t("alice -> bob 1 with nonce 7 (expects 3)", transfer(alice, 7n, bob, 1n, true), "NONCE"),
        t(
          "alice -> bob 1, expired at pulse 1",
          signed({ kind: MessageKind.Transfer, ...acting(alice, 3n, 1), to: bob.id, amount: 1n }, alice, [
            bob,
          ]),
          "EXPIRED",
        ),
        t(
          "alice -> bob 1, signed for another organization",
          signed(
            { kind: MessageKind.Transfer, ...acting(alice, 3n), org: other.id, to: bob.id, amount: 1n },
            alice,
            [bob],
          ),
          "WRONG_ORG",
        ),
        t("alice -> bob 1 with the payee's signature altered", badSig, "BAD_SIGNATURE"),
        t("alice -> bob 1 signed by mallory's key", wrongKey, "KEY_MISMATCH"),
        t("the first transfer again, byte for byte", aliceToBob, "DUPLICATE"),
        t("the org's key moves the org's account", transfer(org, 1n, mallory, 1n, true), "ORG_ACCOUNT"),
        t("alice -> alice 1", transfer(alice, 3n, alice, 1n, false), "SELF"),
        t("alice -> bob 0", transfer(alice, 3n, bob, 0n, true), "BAD_AMOUNT"),
        t(
          "sup distributes 300 from the org's account to carol (construction)",
          signed(
            {
              kind: MessageKind.Distribute,
              ...acting(sup, 1n),
              to: carol.id,
              amount: 300n,
              category: RewardCategory.Construction,
              reason: "bridge",
            },
            sup,
          ),
          "ok",
        ),
        t(
          "sup distributes from the org's account to the org's account",
          signed(
            {
              kind: MessageKind.Distribute,
              ...acting(sup, 2n),
              to: org.id,
              amount: 1n,
              category: RewardCategory.Construction,
              reason: "",
            },
            sup,
          ),
          "SELF",
        ),
        t(
          "bob distributes: not a supervisor",
          signed(
            {
              kind: MessageKind.Distribute,
              ...acting(bob, 2n),
              to: bob.id,
              amount: 1n,
              category: RewardCategory.Mining,
              reason: "",
            },
            bob,
          ),
          "NOT_SUPERVISOR",
        ),
        t(
          "a second genesis of the same organization",
          signed(
            { kind: MessageKind.Genesis, org: org.id, params: { ...genesisParams, name: "again" } },
            org,
          ),
          "ORG_EXISTS",
        ),
      ],
    },
    {
      pulse: 3,
      txs: [
        t(
          "dave applies",
          signed({ kind: MessageKind.Apply, ...acting(dave, 1n), note: "I run a node" }, dave),
          "ok",
        ),
        t("carol applies", signed({ kind: MessageKind.Apply, ...acting(carol, 1n), note: "" }, carol), "ok"),
        t(
          "sup pledges 200",
          signed({ kind: MessageKind.Pledge, ...acting(sup, 2n), amount: 200n }, sup),
          "ok",
        ),
        t(
          "sup declares candidacy",
          signed(
            {
              kind: MessageKind.Candidacy,
              ...acting(sup, 3n),
              declare: true,
              commitment: commitment(secret(sup, 0)),
            },
            sup,
          ),
          "ok",
        ),
        t(
          "bob sets policy accept-all",
          signed({ kind: MessageKind.SetPolicy, ...acting(bob, 2n), policy: Policy.AcceptAll }, bob),
          "ok",
        ),
        t(
          "bob leaves: not in the organization",
          signed({ kind: MessageKind.Leave, ...acting(bob, 3n) }, bob),
          "NOT_MEMBER",
        ),
        t(
          "bob votes: not a member or guest",
          signed({ kind: MessageKind.Vote, ...acting(bob, 3n), candidate: sup.id, weight: 1n }, bob),
          "NOT_MEMBER",
        ),
        t(
          "sup sets bob's role: bob is not a member or guest",
          signed({ kind: MessageKind.SetRole, ...acting(sup, 4n), target: bob.id, role: Role.Member }, sup),
          "NOT_MEMBER",
        ),
        t(
          "sup pledges 200 more: only 100 left to spend",
          signed({ kind: MessageKind.Pledge, ...acting(sup, 4n), amount: 200n }, sup),
          "INSUFFICIENT_FUNDS",
        ),
        t("alice applies", signed({ kind: MessageKind.Apply, ...acting(alice, 3n), note: "1" }, alice), "ok"),
        t(
          "alice applies again",
          signed({ kind: MessageKind.Apply, ...acting(alice, 4n), note: "2" }, alice),
          "ALREADY_MEMBER",
        ),
        t(
          "alice declares candidacy: an applicant is not a member",
          signed(
            {
              kind: MessageKind.Candidacy,
              ...acting(alice, 4n),
              declare: true,
              commitment: commitment(secret(alice, 0)),
            },
            alice,
          ),
          "NOT_MEMBER",
        ),
      ],
    },
    {
      pulse: 4,
      txs: [
        t(
          "sup approves dave as member",
          signed(
            { kind: MessageKind.Approve, ...acting(sup, 4n), applicant: dave.id, role: Role.Member },
            sup,
          ),
          "ok",
        ),
        t(
          "sup approves carol as guest",
          signed(
            { kind: MessageKind.Approve, ...acting(sup, 5n), applicant: carol.id, role: Role.Guest },
            sup,
          ),
          "ok",
        ),
        t(
          "sup approves bob: bob has not applied",
          signed(
            { kind: MessageKind.Approve, ...acting(sup, 6n), applicant: bob.id, role: Role.Member },
            sup,
          ),
          "NOT_APPLICANT",
        ),
        t(
          "dave approves alice: dave is not a supervisor",
          signed(
            { kind: MessageKind.Approve, ...acting(dave, 2n), applicant: alice.id, role: Role.Guest },
            dave,
          ),
          "NOT_SUPERVISOR",
        ),
        t(
          "alice withdraws her application (leave)",
          signed({ kind: MessageKind.Leave, ...acting(alice, 4n) }, alice),
          "ok",
        ),
        t(
          "sup releases 150: a candidate keeps 100",
          signed({ kind: MessageKind.Release, ...acting(sup, 6n), amount: 150n }, sup),
          "DEPOSIT",
        ),
        t(
          "sup releases 201: the deposit is 200",
          signed({ kind: MessageKind.Release, ...acting(sup, 6n), amount: 201n }, sup),
          "DEPOSIT",
        ),
        t(
          "sup leaves: a supervisor cannot",
          signed({ kind: MessageKind.Leave, ...acting(sup, 6n) }, sup),
          "BAD_ROLE",
        ),
      ],
    },
    {
      pulse: 5,
      txs: [
        t(
          "carol (guest) votes for sup with 300",
          signed({ kind: MessageKind.Vote, ...acting(carol, 2n), candidate: sup.id, weight: 300n }, carol),
          "ok",
        ),
        t(
          "carol -> bob 500 (bob accepts all): her vote drops to 200",
          transfer(carol, 3n, bob, 500n, false),
          "ok",
        ),
        t(
          "dave declares candidacy: deposit 0, at least 100",
          signed(
            {
              kind: MessageKind.Candidacy,
              ...acting(dave, 2n),
              declare: true,
              commitment: commitment(secret(dave, 0)),
            },
            dave,
          ),
          "DEPOSIT",
        ),
        t(
          "dave votes for carol: not a candidate",
          signed({ kind: MessageKind.Vote, ...acting(dave, 2n), candidate: carol.id, weight: 1n }, dave),
          "NOT_CANDIDATE",
        ),
        t(
          "dave votes 301 for sup: his balance is 300",
          signed({ kind: MessageKind.Vote, ...acting(dave, 2n), candidate: sup.id, weight: 301n }, dave),
          "VOTE_WEIGHT",
        ),
        t(
          "sup makes dave a supervisor",
          signed(
            { kind: MessageKind.SetRole, ...acting(sup, 6n), target: dave.id, role: Role.Supervisor },
            sup,
          ),
          "ok",
        ),
        t(
          "sup sets its own role",
          signed({ kind: MessageKind.SetRole, ...acting(sup, 7n), target: sup.id, role: Role.Member }, sup),
          "SELF",
        ),
        t(
          "sup sets the org account's role",
          signed({ kind: MessageKind.SetRole, ...acting(sup, 7n), target: org.id, role: Role.Member }, sup),
          "ORG_ACCOUNT",
        ),
        t(
          "sup pledges 0",
          signed({ kind: MessageKind.Pledge, ...acting(sup, 7n), amount: 0n }, sup),
          "BAD_AMOUNT",
        ),
        rv("sup reveals a secret that is not its commitment's", sup, 7n, 0, 1, "BAD_REVEAL"),
        rv("sup reveals for cycle 1 in pulse 5: cycle 0's window", sup, 7n, 1, 0, "REVEAL_WINDOW"),
        rv("dave reveals: not a candidate", dave, 2n, 0, 0, "NOT_CANDIDATE"),
      ],
    },
    {
      pulse: 6,
      txs: [
        rv(
          "sup reveals cycle 0's secret (the window's last pulse) and commits to cycle 1's",
          sup,
          7n,
          0,
          0,
          "ok",
        ),
        rv("sup reveals for cycle 0 again, with cycle 1's secret", sup, 8n, 0, 1, "ALREADY_REVEALED"),
        t(
          "sup releases 1: deposits are locked in a reveal window",
          signed({ kind: MessageKind.Release, ...acting(sup, 8n), amount: 1n }, sup),
          "DEPOSIT",
        ),
        t(
          "carol withdraws her vote",
          signed(
            { kind: MessageKind.Vote, ...acting(carol, 4n), candidate: Buffer.alloc(20), weight: 0n },
            carol,
          ),
          "ok",
        ),
        t("carol leaves", signed({ kind: MessageKind.Leave, ...acting(carol, 5n) }, carol), "ok"),
        t(
          "dave leaves: a supervisor cannot",
          signed({ kind: MessageKind.Leave, ...acting(dave, 2n) }, dave),
          "BAD_ROLE",
        ),
      ],
    },
    {
      pulse: 7,
      txs: [
        rv("sup reveals for cycle 0 in pulse 7: after the window", sup, 8n, 0, 1, "REVEAL_WINDOW"),
        t(
          "sup withdraws candidacy: the commitment goes, the reveal stays",
          signed({ kind: MessageKind.Candidacy, ...acting(sup, 8n), declare: false, commitment: null }, sup),
          "ok",
        ),
        t(
          "sup releases 200",
          signed({ kind: MessageKind.Release, ...acting(sup, 9n), amount: 200n }, sup),
          "ok",
        ),
        t("a reward for pulse 6", encodeTx({ body: rewardBody(6), signatures: [] }), "REWARD_PULSE"),
        t(
          "the reward of pulse 7, listed last: applied first, 90 from the org's account, 45 to alice and sup",
          encodeTx({ body: rewardBody(7), signatures: [] }),
          "ok",
        ),
        t(
          "a reward of pulse 7 naming the committee in another order",
          encodeTx({ body: rewardBody(7, [sup.id, alice.id]), signatures: [] }),
          "REWARD_RECIPIENTS",
        ),
        t("the reward of pulse 7 again", encodeTx({ body: rewardBody(7), signatures: [] }), "DUPLICATE"),
        t(
          "a forfeit of cycle 0 naming sup, who revealed: no one withheld",
          encodeTx({ body: forfeitBody(0, [sup.id]), signatures: [] }),
          "FORFEIT_CANDIDATES",
        ),
        t(
          "a forfeit of cycle 1 in pulse 7: it is due in pulse 15",
          encodeTx({ body: forfeitBody(1, [sup.id]), signatures: [] }),
          "FORFEIT_PULSE",
        ),
      ],
    },
  ];
}

async function scenario() {
  const ledger = await Ledger.open(new MemoryKV(), { sync: false });
  const pulses = [];
  for (const p of scenarioPulses()) {
    // Who withheld, where a forfeit is due: read from the ledger by the draw's own code.
    const c = forfeitCycle(p.pulse, genesisParams.electionCycle);
    const withheld = c === undefined ? undefined : draw(ledger, c).withheld;
    const out = await ledger.applyPulse(
      p.pulse,
      p.txs.map((x) => x.bytes),
      { proofs: false, committee: scenarioCommittee, withheld },
    );
    const results = out.results.map((r, i) => {
      const want = p.txs[i]!.expect;
      const got = r.ok ? "ok" : r.reason;
      if (got !== want)
        throw new Error(
          `pulse ${p.pulse}, "${p.txs[i]!.note}": expected ${want}, got ${got}${r.ok ? "" : ` (${r.message})`}`,
        );
      const txId = r.txId === undefined ? null : hex(r.txId);
      return r.ok ? { txId, ok: true, position: r.position } : { txId, ok: false, reason: r.reason };
    });
    const accounts = keys.map((k) => {
      const a = ledger.account(k.id);
      if (a === undefined) return { name: k.name, id: hex(k.id), account: null };
      const data = encodeAccountData(a);
      return {
        name: k.name,
        id: hex(k.id),
        account: { amount: a.amount.toString(), data: hex(data), dataHash: hex(accountDataHash(data)) },
      };
    });
    pulses.push({
      pulse: p.pulse,
      withheld: withheld === undefined ? null : withheld.map(hex),
      txs: p.txs.map((x) => ({ note: x.note, hex: hex(x.bytes) })),
      results,
      issued: out.issued.toString(),
      root: { hash: hex(out.root.hash), sum: out.root.sum.toString(), count: out.root.count },
      accounts,
    });
  }
  await ledger.close();
  return pulses;
}

async function main(): Promise<void> {
  const accountData = accountDataVectors();
  const transactions = txVectors();
  const doc = {
    about:
      "Ledger message vectors of docs/PROTOCOL.md section 8, made by test/helpers/gen-ledger-vectors.ts and checked by test/ledger-vectors.test.ts. Byte strings are hex; u64 values decimal strings.",
    keys: keys.map((k) => ({
      name: k.name,
      seed: hex(k.seed),
      publicKey: hex(k.kp.publicKey),
      id: hex(k.id),
    })),
    accountData,
    transactions,
    scenario: {
      about:
        "Each pulse's txs are submitted in this order to a fresh ledger, with `committee` as the pulse's committee (a reward names it) and, where a forfeit is due, `withheld` as the candidates that withheld (null: no forfeit due); results are in the same order; accounts are every named key's leaf after the pulse (null: no leaf).",
      committee: scenarioCommittee.map(hex),
      pulses: await scenario(),
    },
    invalid: invalidVectors(transactions, accountData),
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

await main();
