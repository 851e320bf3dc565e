/**
 * The network's messages (docs/PROTOCOL.md §11) against test/vectors/net-wire.json: encoding each
 * vector's inputs gives its bytes, decoding gives its fields, the request server answers each
 * request as recorded, every answer's proof of finality (a certificate of the pulse's committee, or
 * the genesis pulse's number) holds for the committee chain (src/org/committee-chain.ts) and a
 * tampered one does not, a changed bit anywhere in a signed message (or in an answer proven against a
 * certificate) is refused, and the decoders are bounded: whatever bytes a peer sends, they end in a
 * DecodeError, a NetError, a CertificateError or an UnknownCommittee, never another error, and
 * over-limit sizes are refused.
 */

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { NodeMessageKind, signingPayload } from "../src/crypto/domain.js";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { memberRecordKey, validateRecord } from "../src/dht/records.js";
import {
  decodeGroupMessage,
  decodeList,
  decodeRequest,
  decodeResponse,
  encodeList,
  errorResponse,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_TEXT_BYTES,
  NetError,
  NetErrorCode,
  Op,
  okResponse,
  REQUEST_SKEW_MS,
  signGroupMessage,
  signRequest,
} from "../src/dht/wire.js";
import { genesisCommittee } from "../src/election/committee.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { type Tx, TxKind } from "../src/ledger/tx.js";
import {
  type CertifiedPulse,
  CommitteeChain,
  type CommitteeLink,
  decodeCommittees,
  decodeCommitteesRequest,
  encodeCommittees,
  encodeCommitteesRequest,
  genesisProof,
  UnknownCommittee,
} from "../src/org/committee-chain.js";
import { checkInfo, groupTopic, pulseTopic, txTopic } from "../src/org/discovery.js";
import {
  checkProven,
  checkReceipt,
  decodeIds,
  decodePulses,
  decodePulsesRequest,
  decodeStatus,
  encodeIds,
  encodeProven,
  encodePulsesRequest,
  encodeStatus,
  MAX_ACCOUNTS_PER_REQUEST,
  verifiedTx,
} from "../src/org/protocol.js";
import { type Joined, orgServer } from "../src/org/server.js";
import type { TxStatus } from "../src/pulse/bookkeeper.js";
import {
  CertificateError,
  committeeHash,
  decodeCertificate,
  encodeCertificate,
} from "../src/pulse/certificate.js";
import { decodeHeartbeat, signHeartbeat, verifyHeartbeat } from "../src/pulse/heartbeat.js";
import { valueIdOf } from "../src/pulse/proposal.js";
import { Step, signVote } from "../src/pulse/votes.js";
import { DecodeError, Reader, Writer } from "../src/util/bytes.js";
import { readText } from "../src/util/text.js";
import { testBooks } from "./helpers/books.js";
import { certificateOf, proofsBy } from "./helpers/certify.js";

const v = JSON.parse(readFileSync(new URL("../../test/vectors/net-wire.json", import.meta.url), "utf8"));

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s, "hex");
/** JSON of a value as the vectors write it: byte strings hex, bigints decimal strings. */
function json(x: unknown): unknown {
  if (x instanceof Uint8Array) return hex(x);
  if (typeof x === "bigint") return x.toString();
  if (Array.isArray(x)) return x.map(json);
  if (x !== null && typeof x === "object")
    return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, json(y)]));
  return x;
}

const keys = new Map<string, Signer>(
  v.keys.map((k: { name: string; seed: string }) => [k.name, new Signer(generateKeyPair(unhex(k.seed)))]),
);
const key = (name: string) => keys.get(name)!;
const org = unhex(v.org);
const sup = key("sup");
const NOW: number = v.nowMs;
const GENESIS_PULSE: number = v.scenario.genesisPulse;
const genesis = unhex(v.scenario.pulses[0].txs[0]);
const params = (() => {
  const tx = verifiedTx(genesis);
  if (tx.body.kind !== TxKind.Genesis) throw new Error("the scenario starts with its genesis");
  return tx.body.params;
})();

/** A member's view of the committees: cycle 0's from the genesis, nothing learnt yet. */
const newChain = () => new CommitteeChain(org, params, genesis);
/** One chain for the checks that learn nothing (no `learn` is given, so it stays at cycle 0). */
const chain = newChain();
const certified = (b: Uint8Array) => chain.check(b);

interface CertificateVector {
  pulse: number;
  signers: string[];
  fields: FinalFields;
  hex: string;
}
interface FinalFields {
  kind: "certificate" | "genesis";
  pulse: number;
  org?: string;
  round?: number;
  valueId?: string;
  root?: { hash: string; sum: string; count: number };
  batchHash?: string;
  next?: string;
  signers?: string[];
}
const certificates: CertificateVector[] = v.finality.certificates;
const head = certificates.at(-1)!;
const headFinal = await chain.check(unhex(head.hex));

interface RequestVector {
  name: string;
  node: "bookkeeper" | "bob";
  signer: string;
  fields: { org: string; from: string; timeMs: number; op: number; opName: string; body: string };
  body: Record<string, unknown>;
  hex: string;
  response: {
    hex: string;
    ok: boolean;
    body?: string;
    fields?: Record<string, unknown>;
    code?: string;
    message?: string;
  };
}
const requests: RequestVector[] = v.requests;
const ok = (name: string) => requests.find((r) => r.name.startsWith(name) && r.response.ok)!;

/** Signs a message made by hand (what the encoders refuse to make). */
const signRaw = (message: Buffer, s: Signer) =>
  Buffer.concat([message, s.publicKey, s.sign(signingPayload(message))]);

/** How a peer's bytes may be refused: not decoded, no certificate of the committee, a committee not known yet. */
const REFUSALS = { DecodeError, CertificateError, UnknownCommittee } as const;
const isRefusal = (err: unknown) => Object.values(REFUSALS).some((c) => err instanceof c);

/** Expects a refusal (or a NetError when `net`), from a function or its promise. */
async function refused(fn: () => unknown, what: string, net = false): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (err: unknown) => isRefusal(err) || (net && err instanceof NetError),
    what,
  );
}

/** The fields of a proof of finality, read by the decoder. */
function finalFields(bytes: Buffer): FinalFields {
  if (bytes.length === 8) return { kind: "genesis", pulse: Number(bytes.readBigUInt64BE(0)) };
  const c = decodeCertificate(bytes);
  return {
    kind: "certificate",
    org: hex(c.org),
    pulse: c.pulse,
    round: c.round,
    valueId: hex(c.valueId),
    root: json(c.root) as FinalFields["root"],
    batchHash: hex(c.batchHash),
    next: hex(c.next),
    signers: c.signers.map(hex),
  };
}

/**
 * A proof of finality against its recorded fields: decoded, and read field by field at its offsets
 * (u8 1 | u8 0x49 | org | u64 pulse | u32 round | valueId | root hash | u64 sum | u64 count |
 * batchHash | next | u16 n | n × (publicKey | signature)), the value id recomputed.
 */
function checkFinalBytes(bytes: Buffer, f: FinalFields, what: string): void {
  assert.deepEqual(finalFields(bytes), f, what);
  if (f.kind === "genesis") {
    assert.equal(hex(bytes), hex(genesisProof(f.pulse)), what);
    return;
  }
  const n = f.signers!.length;
  assert.equal(bytes.length, 180 + 96 * n, `${what}: 180 bytes and 96 a signer`);
  assert.equal(bytes[0], 1);
  assert.equal(bytes[1], NodeMessageKind.Certificate);
  assert.equal(hex(bytes.subarray(2, 22)), f.org);
  assert.equal(Number(bytes.readBigUInt64BE(22)), f.pulse);
  assert.equal(bytes.readUInt32BE(30), f.round);
  assert.equal(hex(bytes.subarray(34, 66)), f.valueId);
  assert.equal(hex(bytes.subarray(66, 98)), f.root!.hash);
  assert.equal(bytes.readBigUInt64BE(98).toString(), f.root!.sum);
  assert.equal(Number(bytes.readBigUInt64BE(106)), f.root!.count);
  assert.equal(hex(bytes.subarray(114, 146)), f.batchHash);
  assert.equal(hex(bytes.subarray(146, 178)), f.next);
  assert.equal(bytes.readUInt16BE(178), n);
  const root = { hash: unhex(f.root!.hash), sum: BigInt(f.root!.sum), count: f.root!.count };
  assert.equal(
    hex(valueIdOf(unhex(f.org!), f.pulse, root, unhex(f.batchHash!), unhex(f.next!))),
    f.valueId,
    `${what}: the value id`,
  );
}

/** A certificate of these fields, its precommits signed by `signers` (not through a ledger). */
function certificateFrom(f: FinalFields, signers: readonly Signer[], o: { org?: Buffer } = {}): Buffer {
  const c = {
    org: o.org ?? unhex(f.org!),
    pulse: f.pulse,
    round: f.round!,
    root: { hash: unhex(f.root!.hash), sum: BigInt(f.root!.sum), count: f.root!.count },
    batchHash: unhex(f.batchHash!),
    next: unhex(f.next!),
  };
  const value = valueIdOf(c.org, c.pulse, c.root, c.batchHash, c.next);
  const precommits = signers.map((s) =>
    signVote({ org: c.org, pulse: c.pulse, round: c.round, step: Step.Precommit, value }, s),
  );
  return encodeCertificate({ ...c, precommits });
}

/** Committee links as the vectors write them. */
function linksJson(links: readonly CommitteeLink[]) {
  return links.map((l) => ({
    cycle: l.cycle,
    members: l.members.map(hex),
    certificate: hex(l.certificate),
    certificateFields: finalFields(l.certificate),
  }));
}

/** The ledger of the vectors' scenario, its certificates, and the two servers of the generator. */
async function world() {
  const ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
  for (const p of v.scenario.pulses) {
    const out = await ledger.applyPulse(p.pulse, p.txs.map(unhex));
    assert.ok(
      out.results.every((r) => r.ok),
      `pulse ${p.pulse}`,
    );
    assert.deepEqual(json(out.root), p.root, `pulse ${p.pulse}'s root`);
    if (p.pulse === GENESIS_PULSE) {
      assert.equal(hex(genesisProof(p.pulse)), p.final, "the genesis pulse's proof is its number");
      continue;
    }
    // The committee of one certifies the pulse; stored with it, as a bookkeeper stores it.
    const certificate = certificateOf(ledger, p.pulse, [sup]);
    assert.equal(hex(certificate), p.final, `pulse ${p.pulse}'s certificate`);
    await ledger.putCertificate(p.pulse, certificate);
  }
  const books = testBooks(ledger, proofsBy(ledger, [sup], GENESIS_PULSE));
  // Bob's node: the head it checked and the links it learnt (none: the organization is in cycle 0).
  const bobChain = newChain();
  const latest = await bobChain.check(books.final());
  const applied: string[] = [];
  const received: string[] = [];
  const countersigned: Tx[] = [];
  const bookkeeper = orgServer({
    books: () => books,
    joined: () => undefined,
    key: (id) => (id === hex(sup.id) ? sup : undefined),
    autoCountersign: true,
    applied: (a) => applied.push(hex(a.account)),
    received: (m) => received.push(`${m.from}>${m.to}:${m.text}`),
    now: () => NOW,
  });
  const joined: Joined = {
    org,
    info: () => [books.genesis(), latest.bytes],
    committees: (from, count) => bobChain.links(from, count),
    role: async (id) => ledger.account(id)?.role ?? Role.None,
    forward: (request, signal) => bookkeeper(request, signal),
    countersigned: (tx) => countersigned.push(tx),
  };
  const bob = orgServer({
    books: () => undefined,
    joined: () => joined,
    key: (id) => (id === hex(key("bob").id) ? key("bob") : undefined),
    autoCountersign: true,
    applied: (a) => applied.push(hex(a.account)),
    received: (m) => received.push(`${m.from}>${m.to}:${m.text}`),
    now: () => NOW,
  });
  return { ledger, servers: { bookkeeper, bob }, applied, received, countersigned };
}

describe("network vectors (docs/PROTOCOL.md §11)", () => {
  it("keys, topics, the committee of one and the member record key", () => {
    for (const k of v.keys) {
      assert.equal(hex(key(k.name).publicKey), k.publicKey);
      assert.equal(hex(key(k.name).id), k.id);
    }
    assert.equal(hex(key("org").id), v.org);
    assert.deepEqual(v.topics, {
      pulse: pulseTopic(org),
      tx: txTopic(org),
      group: groupTopic(org),
    });
    assert.equal(v.topics.pulse, `/leither/1/${v.org}/pulse`);
    assert.equal(Buffer.from(memberRecordKey(org, key("carol").id)).toString(), v.memberRecordKey);
    // The genesis names no committee: the supervisor alone keeps cycle 0.
    assert.equal(params.committee.length, 0);
    assert.deepEqual(genesisCommittee(params).map(hex), v.scenario.committee.members);
    assert.deepEqual(v.scenario.committee.members, [hex(sup.id)]);
    assert.equal(hex(committeeHash(genesisCommittee(params))), v.scenario.committee.hash);
    assert.deepEqual(chain.committee(0)?.map(hex), v.scenario.committee.members);
  });

  it("requests: signing the fields gives the bytes, decoding gives the fields", () => {
    assert.ok(requests.length >= 9);
    const ops = new Set(requests.map((r) => r.fields.op));
    for (const op of Object.values(Op)) assert.ok(ops.has(op), `a vector of op ${op}`);
    for (const r of requests) {
      const f = r.fields;
      const bytes = signRequest(
        { org: unhex(f.org), op: f.op as Op, body: unhex(f.body), timeMs: f.timeMs },
        key(r.signer),
      );
      assert.equal(hex(bytes), r.hex, r.name);
      const d = decodeRequest(bytes);
      assert.deepEqual(
        {
          org: hex(d.org),
          from: hex(d.from),
          timeMs: d.timeMs,
          op: d.op,
          opName: f.opName,
          body: hex(d.body),
        },
        f,
        r.name,
      );
      assert.equal(Op[f.opName as keyof typeof Op], f.op);
      assert.equal(bytes.length, 151 + d.body.length, "a request is 151 bytes and its body");
      // The layout, field by field.
      assert.equal(bytes[0], 1);
      assert.equal(bytes[1], NodeMessageKind.NetRequest);
      assert.equal(hex(bytes.subarray(2, 22)), f.org);
      assert.equal(hex(bytes.subarray(22, 42)), f.from);
      assert.equal(Number(bytes.readBigUInt64BE(42)), f.timeMs);
      assert.equal(bytes[50], f.op);
      assert.equal(bytes.readUInt32BE(51), d.body.length);
      assert.equal(hex(bytes.subarray(55 + d.body.length, 87 + d.body.length)), hex(key(r.signer).publicKey));
      // The body's own fields.
      const body = d.body;
      switch (d.op) {
        case Op.Info:
          assert.equal(body.length, 0);
          break;
        case Op.Apply: {
          const [tx, record] = decodeList(body, 2, "application");
          assert.equal(hex(tx!), r.body.tx);
          assert.equal(hex(record!), r.body.record);
          assert.equal(hex(verifiedTx(tx!).id), r.body.txId);
          assert.equal(validateRecord(memberRecordKey(org, d.from), record!).kind, "member");
          break;
        }
        case Op.Submit:
        case Op.Countersign:
          assert.equal(hex(body), r.body.tx);
          assert.equal(hex(verifiedTx(body).id), r.body.txId);
          break;
        case Op.Accounts:
          assert.deepEqual(decodeIds(body).map(hex), r.body.ids);
          assert.equal(hex(encodeIds(decodeIds(body))), hex(body));
          break;
        case Op.Receipt:
        case Op.Status:
          assert.equal(hex(body), r.body.txId);
          break;
        case Op.Message: {
          const rd = new Reader(body);
          assert.equal(hex(rd.bytes(20, "to")), r.body.to);
          assert.equal(readText(rd, MAX_TEXT_BYTES, "text"), r.body.text);
          rd.end();
          break;
        }
        case Op.Role:
          assert.equal(hex(body), r.body.account);
          break;
        case Op.Pulses:
          assert.deepEqual(decodePulsesRequest(body), r.body);
          assert.equal(hex(encodePulsesRequest(r.body.from as number, r.body.count as number)), hex(body));
          break;
        case Op.Committees: {
          // u32 from | u16 count, read by hand: the refused one (from 0) does not decode.
          const rd = new Reader(body);
          assert.deepEqual({ from: rd.u32(), count: rd.u16() }, r.body);
          rd.end();
          assert.equal(
            hex(encodeCommitteesRequest(r.body.from as number, r.body.count as number)),
            hex(body),
          );
          if (r.response.ok) assert.deepEqual(decodeCommitteesRequest(body), r.body);
          else assert.throws(() => decodeCommitteesRequest(body), DecodeError);
          break;
        }
      }
    }
  });

  it("the server answers each request as recorded, and the asker's checks pass on every answer", async () => {
    const w = await world();
    const signal = AbortSignal.timeout(10_000);
    const kinds = new Set<string>();
    for (const r of requests) {
      const res = Buffer.from(await w.servers[r.node](unhex(r.hex), signal));
      assert.equal(hex(res), r.response.hex, r.name);
      if (!r.response.ok) {
        assert.throws(
          () => decodeResponse(res),
          (err: unknown) =>
            err instanceof NetError && err.code === r.response.code && err.message === r.response.message,
          r.name,
        );
        continue;
      }
      const body = decodeResponse(res);
      assert.equal(hex(body), r.response.body, r.name);
      const f = r.response.fields!;
      const from = unhex(r.fields.from);
      // The answer's proof of finality, where it carries one: its bytes and fields as recorded.
      const proof = (bytes: Buffer, final: CertifiedPulse) => {
        assert.equal(hex(bytes), f.final, r.name);
        const ff = f.finalFields as FinalFields;
        checkFinalBytes(bytes, ff, r.name);
        assert.equal(final.pulse, ff.pulse);
        const pulse = v.scenario.pulses.find((p: { pulse: number }) => p.pulse === ff.pulse);
        assert.deepEqual(json(final.root), pulse.root, `${r.name}: the certified root is the pulse's`);
        assert.equal(hex(final.bytes), pulse.final);
        kinds.add(ff.kind);
      };
      switch (r.fields.op) {
        case Op.Info: {
          const view = await checkInfo(body, org);
          assert.equal(hex(view.genesis), f.genesis);
          assert.equal(hex(verifiedTx(view.genesis).id), f.genesisTxId);
          proof(view.latest.bytes, view.latest);
          assert.equal(view.latest.pulse, head.pulse, "Info carries the head's certificate");
          assert.equal(view.chain.known, 0);
          assert.equal(view.params.name, v.scenario.params.name);
          assert.deepEqual(json(view.params), v.scenario.params);
          break;
        }
        case Op.Apply:
        case Op.Submit:
        case Op.Status:
          assert.deepEqual(decodeStatus(body), f);
          assert.equal(hex(encodeStatus(decodeStatus(body))), hex(body));
          break;
        case Op.Accounts: {
          const [finalBytes, ...entries] = decodeList(body, 1 + MAX_ACCOUNTS_PER_REQUEST, "accounts");
          const final = await certified(finalBytes!);
          proof(finalBytes!, final);
          const want = f.entries as { entry: string; id: string; account: unknown }[];
          assert.equal(entries.length, want.length);
          entries.forEach((e, i) => {
            assert.equal(hex(e), want[i]!.entry);
            const p = checkProven(e, unhex(want[i]!.id), final);
            assert.deepEqual(p.account === undefined ? null : json(p.account), want[i]!.account);
            assert.ok(unhex(want[i]!.id).equals(from), "an account's leaf goes only to its owner");
          });
          break;
        }
        case Op.Receipt: {
          const rc = await checkReceipt(body, unhex(r.body.txId as string), certified, [from]);
          assert.equal(hex(rc.txBytes), f.tx);
          assert.equal(hex(rc.tx.id), f.txId);
          proof(rc.final.bytes, rc.final);
          const entries = f.entries as { entry: string; account: unknown }[];
          assert.deepEqual(json(rc.proofs[0]!.account), entries[0]!.account);
          const [, , entry] = decodeList(body, 2 + MAX_ACCOUNTS_PER_REQUEST, "receipt");
          assert.equal(hex(entry!), entries[0]!.entry);
          break;
        }
        case Op.Countersign: {
          const tx = verifiedTx(body);
          assert.equal(tx.signatures.length, 2);
          assert.equal(hex(tx.id), r.body.txId);
          assert.equal(hex(body), f.tx);
          break;
        }
        case Op.Message:
          assert.equal(body.length, 0);
          break;
        case Op.Role:
          assert.equal(body.length, 9);
          assert.deepEqual({ role: body[0], head: Number(body.readBigUInt64BE(1)) }, f);
          break;
        case Op.Pulses: {
          // Each pulse holds for the committee, certifies the scenario's root, and carries its batch.
          const got = decodePulses(body);
          assert.deepEqual(
            got.map((p) => ({ pulse: p.pulse, certificate: hex(p.certificate), txs: p.txs.map(hex) })),
            f,
          );
          assert.ok(got.length > 0);
          for (const p of got) {
            const c = chain.certified(p.certificate);
            const s = v.scenario.pulses.find((x: { pulse: number }) => x.pulse === p.pulse);
            assert.equal(c.pulse, p.pulse);
            assert.deepEqual(json(c.root), s.root);
            assert.deepEqual(p.txs.map(hex), s.txs);
          }
          break;
        }
        case Op.Committees: {
          const links = decodeCommittees(body);
          assert.deepEqual(linksJson(links), f.links);
          assert.equal(hex(encodeCommittees(links)), hex(body));
          const c = newChain();
          c.extend(links);
          assert.equal(c.known, links.length);
          break;
        }
      }
    }
    // Answers carried both kinds of proof: certificates, and the genesis pulse's number.
    assert.deepEqual([...kinds].sort(), ["certificate", "genesis"]);
    // What the nodes did besides answering.
    assert.deepEqual(w.applied, [v.keys.find((k: { name: string }) => k.name === "carol").id]);
    assert.equal(w.received.length, 1);
    assert.equal(w.countersigned.length, 1);
    // A replayed direct message answers again but is delivered once.
    const msg = ok("Message");
    assert.equal(hex(await w.servers.bob(unhex(msg.hex), signal)), msg.response.hex);
    assert.equal(w.received.length, 1);
    await w.ledger.close();
  });

  it("certificates: the committee of one certifies each pulse after the genesis pulse", async () => {
    const pulses = v.scenario.pulses.filter((p: { pulse: number }) => p.pulse !== GENESIS_PULSE);
    assert.deepEqual(
      certificates.map((c) => c.pulse),
      pulses.map((p: { pulse: number }) => p.pulse),
    );
    for (const c of certificates) {
      const bytes = unhex(c.hex);
      const what = `certificate of pulse ${c.pulse}`;
      checkFinalBytes(bytes, c.fields, what);
      // Made again from its fields and its signers' precommits alone.
      assert.equal(hex(certificateFrom(c.fields, c.signers.map(key))), c.hex, what);
      assert.deepEqual(
        c.fields.signers,
        c.signers.map((n) => hex(key(n).id)),
      );
      // Inside cycle 0, next is cycle 0's own committee.
      assert.equal(c.fields.next, v.scenario.committee.hash);
      const s = v.scenario.pulses.find((p: { pulse: number }) => p.pulse === c.pulse);
      assert.equal(c.hex, s.final);
      for (const got of [chain.certified(bytes), await chain.check(bytes)]) {
        assert.equal(got.pulse, c.pulse);
        assert.deepEqual(json(got.root), s.root);
        assert.equal(hex(got.bytes), c.hex);
        assert.ok(got.org.equals(org));
      }
    }
  });

  it("a tampered certificate is refused by the committee chain", async () => {
    const f = head.fields;
    const good = unhex(head.hex);
    // A flipped signature byte: the certificate does not decode.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 1;
    assert.throws(() => chain.certified(flipped), DecodeError);
    await assert.rejects(chain.check(flipped), DecodeError);
    // A signer outside the committee: valid signatures, no quorum of cycle 0's committee.
    const alice = key("alice");
    for (const signers of [[alice], [sup, alice]]) {
      const outsider = certificateFrom(f, signers);
      assert.ok(decodeCertificate(outsider).signers.length === signers.length, "it decodes");
      assert.throws(() => chain.certified(outsider), CertificateError);
      await assert.rejects(chain.check(outsider), CertificateError);
      await assert.rejects(checkInfo(encodeList([genesis, outsider]), org), CertificateError);
    }
    // Another organization's certificate, signed by the same key.
    const other = certificateFrom(f, [sup], { org: key("other-org").id });
    assert.equal(decodeCertificate(other).pulse, f.pulse);
    assert.throws(() => chain.certified(other), CertificateError);
    await assert.rejects(chain.check(other), CertificateError);
    // Changed fields under the same signatures: the value id no longer matches.
    const moved = Buffer.from(good);
    moved.writeBigUInt64BE(BigInt(f.root!.count + 1), 106);
    assert.throws(() => chain.certified(moved), DecodeError);
    // A certificate of cycle 1, whose committee is not known: neither accepted nor refused.
    const later = certificateFrom({ ...f, pulse: 10 }, [sup]);
    assert.throws(
      () => chain.certified(later),
      (err: unknown) => err instanceof UnknownCommittee && err.cycle === 1,
    );
    await assert.rejects(
      chain.check(later, async () => []),
      (err: unknown) => err instanceof UnknownCommittee && err.cycle === 1,
    );
    // The retired pulse statement (kind 0x44) is no proof of finality.
    const statement = v.invalid.find(
      (x: { decoder: string; hex: string }) => x.decoder === "final" && unhex(x.hex)[1] === 0x44,
    );
    assert.ok(statement !== undefined, "an invalid vector of a 0x44 message as a proof");
    await assert.rejects(chain.check(unhex(statement.hex)), DecodeError);
    assert.throws(() => chain.certified(unhex(statement.hex)), DecodeError);
  });

  it("the genesis pulse: its proof is its number, checked by applying the genesis alone", async () => {
    const g = v.finality.genesisPulse;
    assert.equal(g.pulse, GENESIS_PULSE);
    const bytes = genesisProof(g.pulse);
    assert.equal(hex(bytes), g.hex);
    assert.equal(bytes.length, 8);
    assert.equal(Number(bytes.readBigUInt64BE(0)), g.pulse);
    const final = await chain.check(bytes);
    assert.equal(final.pulse, GENESIS_PULSE);
    assert.deepEqual(json(final.root), g.root);
    assert.deepEqual(g.root, v.scenario.pulses[0].root, "the genesis pulse's root");
    assert.equal(hex(final.bytes), g.hex);
    const results = new Set<string>();
    for (const e of g.entries) {
      const p = checkProven(unhex(e.hex), unhex(e.id), final);
      assert.deepEqual(p.account === undefined ? null : json(p.account), e.account, e.name);
      results.add(e.result);
      // Not against the head's root.
      if (e.result === "inclusion")
        await refused(() => checkProven(unhex(e.hex), unhex(e.id), headFinal), e.name);
    }
    assert.deepEqual([...results].sort(), ["exclusion", "inclusion"]);
    // The genesis pulse's proof is no certificate: the certificate decoder refuses its 8 bytes.
    assert.throws(() => chain.certified(bytes), DecodeError);
  });

  it("committee links: decoded, encoded, and learnt in order by a chain", async () => {
    const cl = v.committeeLinks;
    const bytes = unhex(cl.hex);
    const links = decodeCommittees(bytes);
    assert.deepEqual(linksJson(links), cl.links);
    assert.equal(hex(encodeCommittees(links)), cl.hex);
    for (const l of cl.links) checkFinalBytes(unhex(l.certificate), l.certificateFields, `link ${l.cycle}`);
    // The layout: list(list(u32 cycle, list(member id), certificate)).
    const [first] = decodeList(bytes, 64, "committees");
    const [cycle, members, certificate] = decodeList(first!, 3, "link");
    assert.equal(hex(cycle!), "00000001");
    assert.deepEqual(decodeList(members!, 1024, "members").map(hex), cl.links[0].members);
    assert.equal(hex(certificate!), cl.links[0].certificate);

    const c = newChain();
    c.extend(links);
    assert.equal(c.known, 2);
    assert.deepEqual(c.committee(1)?.map(hex), cl.links[0].members);
    assert.deepEqual(c.committee(2)?.map(hex), cl.links[1].members);
    assert.equal(hex(encodeCommittees(c.links(1, 64))), cl.hex, "what it answers Committees with in turn");
    assert.deepEqual(linksJson(c.links(2, 64)), cl.links.slice(1));
    c.extend(links); // links already known are skipped
    assert.equal(c.known, 2);
    // Cycle 2's committee (bob) now certifies pulses of cycle 2, and the supervisor no longer does.
    const f = head.fields;
    const bob = key("bob");
    assert.equal(c.certified(certificateFrom({ ...f, pulse: 20 }, [bob])).pulse, 20);
    assert.throws(() => c.certified(certificateFrom({ ...f, pulse: 20 }, [sup])), CertificateError);
    assert.throws(() => c.certified(certificateFrom({ ...f, pulse: 10 }, [bob])), CertificateError, "1 of 2");
    // A certificate of a later cycle makes a chain learn the links it lacks.
    const learner = newChain();
    const asked: [number, number][] = [];
    const got = await learner.check(certificateFrom({ ...f, pulse: 25 }, [bob]), async (from, count) => {
      asked.push([from, count]);
      return links.filter((l) => l.cycle >= from).slice(0, count);
    });
    assert.equal(got.pulse, 25);
    assert.deepEqual(asked, [[1, 2]]);

    // What extend refuses (CertificateError); the links before a bad one stay learnt.
    const [one, two] = links as [CommitteeLink, CommitteeLink];
    const refusedBy = (bad: CommitteeLink[], known: number, what: string) => {
      const x = newChain();
      assert.throws(() => x.extend(bad), CertificateError, what);
      assert.equal(x.known, known, what);
    };
    refusedBy([{ ...one, members: [...one.members].reverse() }], 0, "the members in another order");
    refusedBy([{ ...one, members: [one.members[0]!] }], 0, "a member left out");
    refusedBy([two], 0, "a link skipping cycle 1");
    refusedBy([{ ...one, certificate: two.certificate }], 0, "the certificate of another pulse");
    const twoFields = cl.links[1].certificateFields as FinalFields;
    refusedBy(
      [one, { ...two, certificate: certificateFrom(twoFields, [bob]) }],
      1,
      "1 of cycle 1's 2 members",
    );
    refusedBy([one, { ...two, certificate: certificateFrom(twoFields, [sup]) }], 1, "cycle 0's committee");
  });

  it("the heartbeat, on the same topic as certificates", () => {
    const hb = v.heartbeat;
    const bytes = signHeartbeat(
      { org, slot: hb.fields.slot, pulse: hb.fields.pulse, rootHash: unhex(hb.fields.rootHash) },
      key(hb.signer),
    );
    assert.equal(hex(bytes), hb.hex);
    assert.ok(verifyHeartbeat(bytes));
    const d = decodeHeartbeat(bytes);
    assert.equal(hex(d.signer), hex(sup.id));
    // For the head, signed by a member of the committee that keeps the pulse after it.
    assert.equal(d.pulse, head.pulse);
    assert.equal(hex(d.rootHash), head.fields.root!.hash);
    assert.ok(chain.keeps(d.signer, head.pulse + 1));
    // On the pulse topic a receiver tells them apart by the kind byte.
    assert.equal(bytes[1], NodeMessageKind.Heartbeat);
    assert.equal(unhex(head.hex)[1], NodeMessageKind.Certificate);
    assert.throws(() => chain.certified(bytes), DecodeError, "a heartbeat is not a certificate");
    assert.throws(() => decodeHeartbeat(unhex(head.hex)), DecodeError, "a certificate is not a heartbeat");
  });

  it("group messages", () => {
    for (const g of v.groupMessages) {
      const f = g.fields;
      const bytes = signGroupMessage({ org: unhex(f.org), text: f.text, timeMs: f.timeMs }, key(g.signer));
      assert.equal(hex(bytes), g.hex);
      const d = decodeGroupMessage(bytes);
      assert.deepEqual({ org: hex(d.org), from: hex(d.from), timeMs: d.timeMs, text: d.text }, f);
      assert.equal(
        bytes.length,
        147 + Buffer.byteLength(f.text),
        "146 bytes, the text's length byte and its text",
      );
    }
  });

  it("responses: OK and one of each error code", () => {
    for (const r of v.responses.ok) {
      const bytes = okResponse(unhex(r.body));
      assert.equal(hex(bytes), r.hex);
      assert.equal(hex(decodeResponse(bytes)), r.body);
    }
    assert.deepEqual(
      v.responses.errors.map((e: { code: string }) => e.code),
      Object.keys(NetErrorCode),
    );
    for (const e of v.responses.errors) {
      const bytes = errorResponse(new NetError(e.code, e.message));
      assert.equal(hex(bytes), e.hex);
      assert.equal(bytes[1], NetErrorCode[e.code as NetErrorCode]);
      assert.equal(e.codeNumber, NetErrorCode[e.code as NetErrorCode]);
      assert.throws(
        () => decodeResponse(bytes),
        (err: unknown) => err instanceof NetError && err.code === e.code && err.message === e.message,
      );
    }
    // What crosses to a peer is short and printable.
    const long = errorResponse(new NetError("BUSY", `a\nb\u0085${"x".repeat(400)}`));
    assert.throws(
      () => decodeResponse(long),
      (err: unknown) => err instanceof NetError && err.message === `a b ${"x".repeat(296)}`,
    );
  });

  it("lists, ids and statuses", () => {
    for (const l of v.lists) {
      assert.equal(hex(encodeList(l.items.map(unhex))), l.hex);
      assert.deepEqual(decodeList(unhex(l.hex), 2, "list").map(hex), l.items);
    }
    for (const l of v.ids) {
      assert.equal(hex(encodeIds(l.ids.map(unhex))), l.hex);
      assert.deepEqual(decodeIds(unhex(l.hex)).map(hex), l.ids);
    }
    const states = new Set<string>();
    for (const s of v.statuses) {
      assert.equal(hex(encodeStatus(s.status as TxStatus)), s.hex);
      assert.deepEqual(decodeStatus(unhex(s.hex)), s.status);
      states.add(s.status.state);
    }
    assert.deepEqual([...states], ["pending", "accepted", "rejected", "unknown"]);
  });

  it("account entries: inclusion and exclusion, checked against the head's certificate", async () => {
    const older = await chain.check(unhex(certificates.find((c) => c.pulse === head.pulse - 1)!.hex));
    const results = new Set<string>();
    for (const e of v.accountEntries) {
      const data = unhex(e.data);
      const bytes = encodeProven(data.length === 0 ? undefined : data, unhex(e.proof));
      assert.equal(hex(bytes), e.hex);
      const p = checkProven(bytes, unhex(e.id), headFinal);
      assert.deepEqual(p.account === undefined ? null : json(p.account), e.account);
      results.add(e.result);
      // Not for another account, not against another root.
      await refused(() => checkProven(bytes, key("org").id, headFinal), "another account");
      if (e.result === "inclusion")
        await refused(() => checkProven(bytes, unhex(e.id), older), "another root");
    }
    assert.deepEqual([...results].sort(), ["exclusion", "inclusion"]);
  });

  it("invalid inputs are refused, each with its recorded error", async () => {
    const txId = unhex(ok("Receipt").body.txId as string);
    const run: Record<string, (b: Buffer) => unknown> = {
      request: decodeRequest,
      final: (b) => newChain().check(b),
      committeesRequest: decodeCommitteesRequest,
      committees: decodeCommittees,
      groupMessage: decodeGroupMessage,
      response: decodeResponse,
      list: (b) => decodeList(b, 2, "list"),
      ids: decodeIds,
      status: decodeStatus,
      info: (b) => checkInfo(b, org),
      receipt: (b) => checkReceipt(b, txId, certified, [key("alice").id]),
    };
    assert.ok(v.invalid.length >= 40);
    const errors = new Set<string>();
    for (const x of v.invalid) {
      const fn = run[x.decoder];
      assert.ok(fn !== undefined, x.decoder);
      const want = REFUSALS[x.error as keyof typeof REFUSALS];
      assert.ok(want !== undefined, x.error);
      await assert.rejects(
        async () => fn(unhex(x.hex)),
        (err: unknown) => err instanceof want,
        `${x.decoder}: ${x.reason}`,
      );
      errors.add(x.error);
    }
    assert.deepEqual([...errors].sort(), ["CertificateError", "DecodeError", "UnknownCommittee"]);
  });

  it("a changed bit anywhere in a signed message, or in an answer proven by one, is refused", async () => {
    const receipt = (name: string) => {
      const r = ok(name);
      const txId = unhex(r.body.txId as string);
      return (b: Buffer) => checkReceipt(b, txId, certified, [unhex(r.fields.from)]);
    };
    const signedCases: [string, Buffer, (b: Buffer) => unknown][] = [
      ...requests.map((r): [string, Buffer, (b: Buffer) => unknown] => [r.name, unhex(r.hex), decodeRequest]),
      ...certificates.map((c): [string, Buffer, (b: Buffer) => unknown] => [
        `certificate of pulse ${c.pulse}`,
        unhex(c.hex),
        (b) => chain.certified(b),
      ]),
      ["committee links", unhex(v.committeeLinks.hex), (b) => newChain().extend(decodeCommittees(b))],
      ...v.groupMessages.map((g: { hex: string }): [string, Buffer, (b: Buffer) => unknown] => [
        "group message",
        unhex(g.hex),
        decodeGroupMessage,
      ]),
      ["Info answer", unhex(ok("Info").response.body!), (b) => checkInfo(b, org)],
      [
        "Accounts answer",
        unhex(ok("Accounts: alice").response.body!),
        async (b) => {
          const [f, e] = decodeList(b, 2, "accounts");
          return checkProven(e!, key("alice").id, await certified(f!));
        },
      ],
      ["Receipt answer", unhex(ok("Receipt: the payer").response.body!), receipt("Receipt: the payer")],
      [
        "Receipt answer at the genesis pulse",
        unhex(ok("Receipt: alice's receipt of the genesis").response.body!),
        receipt("Receipt: alice's receipt of the genesis"),
      ],
      ["Countersign answer", unhex(ok("Countersign").response.body!), verifiedTx],
    ];
    let tried = 0;
    for (const [name, good, decode] of signedCases) {
      await decode(good);
      for (let i = 0; i < good.length; i++)
        for (const mask of [0x01, 0x80]) {
          const bad = Buffer.from(good);
          bad[i]! ^= mask;
          await refused(() => decode(bad), `${name}: byte ${i} ^ ${mask}`);
          tried++;
        }
    }
    assert.ok(tried > 5000, String(tried));
    // The heartbeat too (its checker answers false).
    const hb = unhex(v.heartbeat.hex);
    for (let i = 0; i < hb.length; i++) {
      const bad = Buffer.from(hb);
      bad[i]! ^= 0x01;
      assert.equal(verifyHeartbeat(bad), false, `heartbeat byte ${i}`);
    }
  });

  it("over-limit sizes are refused, and the signers refuse to make them", async () => {
    const alice = key("alice");
    const rawRequest = (bodyLength: number) =>
      signRaw(
        new Writer(bodyLength + 64)
          .u8(1)
          .u8(NodeMessageKind.NetRequest)
          .exact(org, 20, "org")
          .exact(alice.id, 20, "from")
          .u64n(NOW)
          .u8(Op.Submit)
          .u32(bodyLength)
          .bytes(Buffer.alloc(bodyLength, 7))
          .finish(),
        alice,
      );
    // The decoder takes a frame of up to 64 KiB; the signer makes bodies of up to 64 KiB - 256.
    assert.equal(decodeRequest(rawRequest(MAX_REQUEST_BYTES - 151)).body.length, MAX_REQUEST_BYTES - 151);
    assert.throws(() => decodeRequest(rawRequest(MAX_REQUEST_BYTES - 150)), /at most 65536/);
    const biggest = signRequest({ org, op: Op.Submit, body: Buffer.alloc(MAX_REQUEST_BYTES - 256) }, alice);
    assert.equal(decodeRequest(biggest).body.length, MAX_REQUEST_BYTES - 256);
    assert.throws(
      () => signRequest({ org, op: Op.Submit, body: Buffer.alloc(MAX_REQUEST_BYTES - 255) }, alice),
      RangeError,
    );

    // A proof of finality is a certificate of exactly its length, or 8 bytes.
    const certificate = unhex(head.hex);
    assert.throws(() => chain.certified(Buffer.concat([certificate, Buffer.of(0)])), DecodeError);
    assert.throws(() => chain.certified(certificate.subarray(0, certificate.length - 1)), DecodeError);
    await refused(() => chain.check(Buffer.concat([genesisProof(GENESIS_PULSE), Buffer.of(0)])), "9 bytes");

    // Committees: 1 to 64 cycles asked and answered, 1 to 1,024 members of 20 bytes.
    assert.deepEqual(decodeCommitteesRequest(encodeCommitteesRequest(1, 64)), { from: 1, count: 64 });
    assert.deepEqual(decodeCommitteesRequest(encodeCommitteesRequest(0xffffffff, 1)), {
      from: 0xffffffff,
      count: 1,
    });
    assert.throws(() => decodeCommitteesRequest(encodeCommitteesRequest(1, 65)), DecodeError);
    const [one] = decodeCommittees(unhex(v.committeeLinks.hex)) as [CommitteeLink];
    assert.equal(decodeCommittees(encodeCommittees(Array.from({ length: 64 }, () => one))).length, 64);
    assert.throws(
      () => decodeCommittees(encodeCommittees(Array.from({ length: 65 }, () => one))),
      DecodeError,
    );
    // Distinct ids (a committee lists each member once): i as the id's last two bytes.
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const id = Buffer.alloc(20);
        id.writeUInt16BE(i, 18);
        return id;
      });
    assert.equal(
      decodeCommittees(encodeCommittees([{ ...one, members: many(1024) }]))[0]!.members.length,
      1024,
    );
    assert.throws(() => decodeCommittees(encodeCommittees([{ ...one, members: many(1025) }])), DecodeError);
    assert.throws(
      () => decodeCommittees(encodeCommittees([{ ...one, members: [...many(2), many(1)[0]!] }])),
      /a member twice/,
    );

    const text = "é".repeat(MAX_TEXT_BYTES / 2);
    const g = signGroupMessage({ org, text, timeMs: NOW }, alice);
    assert.equal(decodeGroupMessage(g).text, text);
    assert.throws(() => signGroupMessage({ org, text: `${text}x`, timeMs: NOW }, alice), RangeError);
    await refused(() => decodeGroupMessage(Buffer.alloc(MAX_TEXT_BYTES + 257, 1)), "over 4,352 bytes");

    const full = Buffer.concat([Buffer.of(0), Buffer.alloc(MAX_RESPONSE_BYTES - 1, 9)]);
    assert.equal(decodeResponse(full).length, MAX_RESPONSE_BYTES - 1);
    await refused(() => decodeResponse(Buffer.concat([full, Buffer.of(9)])), "over 1 MiB");

    const ids = Array.from({ length: MAX_ACCOUNTS_PER_REQUEST }, () => alice.id);
    assert.equal(decodeIds(encodeIds(ids)).length, MAX_ACCOUNTS_PER_REQUEST);
    await refused(() => decodeIds(encodeIds([...ids, alice.id])), "17 ids");
    await refused(
      () => decodeList(encodeList([Buffer.of(1), Buffer.of(2), Buffer.of(3)]), 2, "x"),
      "3 items",
    );
    // A declared count or length larger than the bytes is refused before anything is allocated.
    await refused(() => decodeList(Buffer.from("ffff", "hex"), 0xffff, "x"), "65,535 items declared");
    await refused(() => decodeList(Buffer.from("0001ffffffff", "hex"), 1, "x"), "a 4 GiB item declared");
  });

  it("the request's time may be 5 minutes off the receiver's clock, not more", async () => {
    const w = await world();
    const signal = AbortSignal.timeout(10_000);
    const carol = key("carol");
    const at = (timeMs: number) =>
      w.servers.bookkeeper(signRequest({ org, op: Op.Info, body: Buffer.alloc(0), timeMs }, carol), signal);
    for (const t of [NOW - REQUEST_SKEW_MS, NOW + REQUEST_SKEW_MS])
      assert.equal((await checkInfo(decodeResponse(await at(t)), org)).latest.pulse, head.pulse);
    for (const t of [NOW - REQUEST_SKEW_MS - 1, NOW + REQUEST_SKEW_MS + 1]) {
      const res = await at(t);
      assert.throws(
        () => decodeResponse(res),
        (err: unknown) => err instanceof NetError && err.code === "BAD_REQUEST",
      );
    }
    await w.ledger.close();
  });
});

describe("network decoders are bounded", () => {
  const txId = unhex(ok("Receipt").body.txId as string);
  const alice = key("alice").id;
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["decodeRequest", decodeRequest],
    ["CommitteeChain.certified", (b) => chain.certified(b)],
    ["CommitteeChain.check", (b) => chain.check(b)],
    ["decodeCommitteesRequest", decodeCommitteesRequest],
    ["decodeCommittees", decodeCommittees],
    ["CommitteeChain.extend", (b) => newChain().extend(decodeCommittees(b))],
    ["decodeGroupMessage", decodeGroupMessage],
    ["decodeResponse", decodeResponse],
    ["decodeList", (b) => decodeList(b, 18, "list")],
    ["decodeStatus", decodeStatus],
    ["decodeIds", decodeIds],
    ["checkInfo", (b) => checkInfo(b, org)],
    ["checkProven", (b) => checkProven(b, alice, headFinal)],
    ["checkReceipt", (b) => checkReceipt(b, txId, certified, [alice])],
  ];
  // Every valid byte string of the vectors: messages, whole responses and their bodies, parts.
  const seeds: Buffer[] = [
    ...requests.flatMap((r) => [r.hex, r.response.hex, r.response.body ?? "", r.fields.body]),
    ...certificates.map((c) => c.hex),
    v.finality.genesisPulse.hex,
    ...v.finality.genesisPulse.entries.map((e: { hex: string }) => e.hex),
    v.committeeLinks.hex,
    ...v.groupMessages.map((g: { hex: string }) => g.hex),
    v.heartbeat.hex,
    ...v.lists.map((l: { hex: string }) => l.hex),
    ...v.ids.map((l: { hex: string }) => l.hex),
    ...v.statuses.map((s: { hex: string }) => s.hex),
    ...v.accountEntries.map((e: { hex: string }) => e.hex),
  ].map(unhex);

  /**
   * Calls `fn` (and awaits it); passes if it returns or throws one of the refusals or a NetError. The
   * decoders are synchronous but for the checks of a proof, so one that looped would hang this file's
   * run (no wall-clock assertion here).
   */
  async function bounded(name: string, fn: (b: Uint8Array) => unknown, bytes: Uint8Array): Promise<void> {
    try {
      await fn(bytes);
    } catch (err) {
      assert.ok(
        isRefusal(err) || err instanceof NetError,
        `${name}(${hex(bytes).slice(0, 200)}): ${String(err)}`,
      );
    }
  }
  const all = async (bytes: Uint8Array) => {
    for (const [name, fn] of decoders) await bounded(name, fn, bytes);
  };

  const edit = fc.oneof(
    fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ op: fc.constant("xor" as const), at: fc.nat(), byte: fc.integer({ min: 1, max: 255 }) }),
    fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  );
  type Edit =
    | { op: "set" | "xor"; at: number; byte: number }
    | { op: "insert"; at: number; bytes: Uint8Array }
    | { op: "delete"; at: number; n: number }
    | { op: "cut"; at: number };
  function mutate(seed: Buffer, edits: Edit[]): Buffer {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + (e.op === "insert" ? 1 : 0));
      if (e.op === "set" && b.length > 0) b[at] = e.byte;
      else if (e.op === "xor" && b.length > 0) b[at]! ^= e.byte;
      else if (e.op === "insert") b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
      else if (e.op === "delete") b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
      else if (e.op === "cut") b = b.subarray(0, at);
    }
    return b;
  }

  it("arbitrary bytes end in a refusal or a NetError", async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), all), { numRuns: 2000 });
  });

  it("arbitrary bytes after a valid header and list prefixes end in a refusal or a NetError", async () => {
    const prefixes = [
      Buffer.concat([Buffer.of(1, NodeMessageKind.NetRequest), org]),
      Buffer.concat([Buffer.of(1, NodeMessageKind.Certificate), org]),
      Buffer.concat([Buffer.of(1, NodeMessageKind.GroupMessage), org]),
      Buffer.of(1),
      Buffer.of(0, 1),
      Buffer.of(0, 2),
      Buffer.of(0, 3),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(prefixes.length - 1), fc.uint8Array({ maxLength: 600 }), (i, tail) =>
        all(Buffer.concat([prefixes[i]!, tail])),
      ),
      { numRuns: 1000 },
    );
  });

  it("mutations of valid vectors end in a refusal or a NetError (or decode)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(seeds.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (i, edits) =>
        all(mutate(seeds[i]!, edits as Edit[])),
      ),
      { numRuns: 1500 },
    );
  });

  it("every valid vector, given to every decoder, ends in a value, a refusal or a NetError", async () => {
    for (const s of seeds) await all(s);
  });
});
