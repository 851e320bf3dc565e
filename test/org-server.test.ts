/**
 * The request server's rules, in one process over a real ledger: who may read what (an account's
 * leaf to its owner only, receipts to parties, roles to members), what a guest may not do, how a
 * member forwards to the bookkeeper, and that a peer's bad bytes only ever get an error answer.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { memberRecordKey, signMemberRecord } from "../src/dht/records.js";
import { decodeList, decodeResponse, encodeList, NetError, Op, signRequest } from "../src/dht/wire.js";
import { Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { type TxBody, TxKind } from "../src/ledger/tx.js";
import { signTx } from "../src/ledger/tx-codec.js";
import { CommitteeChain, decodeCommittees, encodeCommitteesRequest } from "../src/org/committee-chain.js";
import { checkInfo } from "../src/org/discovery.js";
import { foundOrganization } from "../src/org/found.js";
import { checkProven, checkReceipt, decodeStatus, encodeIds } from "../src/org/protocol.js";
import { type Application, type Books, type Joined, orgServer, type Received } from "../src/org/server.js";
import { testBooks } from "./helpers/books.js";
import { certificateOf, proofsBy } from "./helpers/certify.js";
import { tmpDir } from "./helpers/tmp.js";

const sup = new Signer(generateKeyPair());
const member = new Signer(generateKeyPair());
const guest = new Signer(generateKeyPair());
const outsider = new Signer(generateKeyPair());

describe("the request server", () => {
  let ledger: Ledger;
  let org: Buffer;
  let head = 0;
  const submitted: Buffer[] = [];
  const applied: Application[] = [];
  const received: Received[] = [];
  let books: Books;
  let transferId: Buffer;
  /** What a member checks pulses by: the genesis committee (the supervisor alone here). */
  let chain: CommitteeChain;

  /** Applies `txs` as the next pulse; every one must be accepted. */
  async function pulse(txs: Buffer[]): Promise<void> {
    const out = await ledger.applyPulse(head + 1, txs);
    const bad = out.results.filter((r) => !r.ok);
    assert.equal(bad.length, 0, JSON.stringify(bad));
    head++;
  }
  const acting = (s: Signer, nonce: bigint) => ({ org, actor: s.id, nonce, expiry: 1000 });
  const sign = (body: TxBody, ...who: Signer[]) => signTx(body, who).bytes;

  before(async () => {
    ledger = await Ledger.open(new MemoryKV(), { indexTxs: true });
    const f = await foundOrganization({
      name: "Test",
      founder: sup.id,
      pulsePeriodMs: 1000,
      keyDir: tmpDir(),
    });
    org = f.org;
    await ledger.applyPulse(0, [f.genesis]);
    await pulse([
      sign({ kind: TxKind.Apply, ...acting(member, 1n), note: "" }, member),
      sign({ kind: TxKind.Apply, ...acting(guest, 1n), note: "" }, guest),
    ]);
    await pulse([
      sign({ kind: TxKind.Approve, ...acting(sup, 1n), applicant: member.id, role: Role.Member }, sup),
      sign({ kind: TxKind.Approve, ...acting(sup, 2n), applicant: guest.id, role: Role.Guest }, sup),
    ]);
    const t = signTx({ kind: TxKind.Transfer, ...acting(sup, 3n), to: member.id, amount: 500n }, [
      sup,
      member,
    ]);
    transferId = t.tx.id;
    await pulse([t.bytes]);
    books = testBooks(ledger, proofsBy(ledger, [sup]), submitted);
    chain = new CommitteeChain(org, ledger.org!.params, ledger.genesisBytes()!);
  });

  const server = (o: { joined?: Joined; keys?: Signer[] } = {}) =>
    orgServer({
      books: () => (o.joined === undefined ? books : undefined),
      joined: () => o.joined,
      key: (id) => o.keys?.find((k) => k.id.toString("hex") === id),
      autoCountersign: true,
      applied: (a) => applied.push(a),
      received: (m) => received.push(m),
    });
  const ask = async (s: ReturnType<typeof server>, who: Signer, op: Op, body: Uint8Array) =>
    decodeResponse(await s(signRequest({ org, op, body }, who), AbortSignal.timeout(5000)));
  const refused = async (p: Promise<unknown>, code: NetError["code"]) => {
    await assert.rejects(p, (err: unknown) => err instanceof NetError && err.code === code);
  };

  it("Info is public: the genesis and the head's certificate", async () => {
    const view = await checkInfo(await ask(server(), outsider, Op.Info, Buffer.alloc(0)), org);
    assert.equal(view.params.name, "Test");
    assert.equal(view.latest.pulse, head);
    assert.deepEqual(view.latest.root, ledger.rootAt(head));
  });

  it("a pulse is trusted only by a certificate of its committee, or as the genesis pulse", async () => {
    // The genesis pulse has no certificate: a member applies the genesis itself and gets its root.
    const g = await chain.check(books.final(0));
    assert.deepEqual([g.pulse, g.root], [0, ledger.rootAt(0)]);
    const c = await chain.check(books.final(2));
    assert.deepEqual([c.pulse, c.root], [2, ledger.rootAt(2)]);
    // Signed by someone outside the committee; a flipped signature; another organization's chain.
    await assert.rejects(chain.check(certificateOf(ledger, 2, [member])), /not in the committee/);
    const flipped = Buffer.from(books.final(2));
    flipped[flipped.length - 1]! ^= 1;
    await assert.rejects(chain.check(flipped), /does not verify/);
    const elsewhere = new CommitteeChain(Buffer.alloc(20, 7), ledger.org!.params, ledger.genesisBytes()!);
    await assert.rejects(elsewhere.check(books.final(2)), /another organization/);
  });

  it("Committees is public; an organization still in cycle 0 has no links", async () => {
    const s = server();
    const body = await ask(s, outsider, Op.Committees, encodeCommitteesRequest(1, 64));
    assert.deepEqual(decodeCommittees(body), []);
    await refused(ask(s, outsider, Op.Committees, encodeCommitteesRequest(0, 1)), "BAD_REQUEST");
    await refused(ask(s, outsider, Op.Committees, Buffer.alloc(5)), "BAD_REQUEST");
  });

  it("an account's leaf and proof go to its owner only", async () => {
    const s = server();
    const body = await ask(s, member, Op.Accounts, encodeIds([member.id]));
    const [final, entry] = decodeList(body, 2, "accounts");
    const f = await chain.check(final!);
    const got = checkProven(entry!, member.id, f);
    assert.equal(got.account?.amount, 500n);
    await refused(ask(s, member, Op.Accounts, encodeIds([sup.id])), "FORBIDDEN");
    await refused(ask(s, outsider, Op.Accounts, encodeIds([member.id, outsider.id])), "FORBIDDEN");
    // An outsider reads its own (absent) account: the proof shows it has no leaf.
    const [f2, e2] = decodeList(await ask(s, outsider, Op.Accounts, encodeIds([outsider.id])), 2, "a");
    assert.equal(checkProven(e2!, outsider.id, await chain.check(f2!)).account, undefined);
  });

  it("a receipt goes to the transaction's parties, with the asker's own proof", async () => {
    const s = server();
    const certified = (b: Uint8Array) => chain.check(b);
    const r = await checkReceipt(await ask(s, member, Op.Receipt, transferId), transferId, certified, [
      member.id,
    ]);
    assert.equal(r.final.pulse, 3);
    assert.equal(r.proofs[0]!.account?.amount, 500n);
    await refused(ask(s, guest, Op.Receipt, transferId), "FORBIDDEN");
    await refused(ask(s, member, Op.Receipt, Buffer.alloc(32)), "NOT_FOUND");
  });

  it("a guest reads public information only: no submissions, no messages, no roles of others", async () => {
    const s = server({ keys: [member] });
    const tx = sign({ kind: TxKind.Transfer, ...acting(guest, 2n), to: member.id, amount: 1n }, guest);
    await refused(ask(s, guest, Op.Submit, tx), "FORBIDDEN");
    await refused(ask(s, outsider, Op.Submit, tx), "FORBIDDEN");
    const n = submitted.length;
    const mtx = sign({ kind: TxKind.Transfer, ...acting(member, 2n), to: sup.id, amount: 1n }, member);
    assert.equal(decodeStatus(await ask(s, member, Op.Submit, mtx)).state, "pending");
    assert.equal(submitted.length, n + 1);
    // Roles: to members and guests (a guest's node checks who messages it), not to outsiders.
    await refused(ask(s, outsider, Op.Role, member.id), "FORBIDDEN");
    assert.deepEqual([...(await ask(s, guest, Op.Role, member.id))].slice(0, 1), [Role.Member]);
    assert.deepEqual([...(await ask(s, outsider, Op.Role, outsider.id))].slice(0, 1), [Role.None]);
    assert.deepEqual([...(await ask(s, member, Op.Role, sup.id))].slice(0, 1), [Role.Supervisor]);
  });

  it("direct messages: from members only, to a key the node holds, delivered once", async () => {
    const s = server({ keys: [member] });
    const body = (to: Buffer, text: string) =>
      Buffer.concat([to, Buffer.of(Buffer.byteLength(text)), Buffer.from(text)]);
    const req = signRequest({ org, op: Op.Message, body: body(member.id, "hi") }, sup);
    decodeResponse(await s(req, AbortSignal.timeout(1000)));
    decodeResponse(await s(req, AbortSignal.timeout(1000)));
    assert.equal(received.filter((m) => m.text === "hi").length, 1, "a replayed request delivers once");
    await refused(ask(s, guest, Op.Message, body(member.id, "x")), "FORBIDDEN");
    await refused(ask(s, sup, Op.Message, body(guest.id, "x")), "NOT_FOUND");
  });

  it("countersigns a member's transfer to a local key, and only that", async () => {
    const s = server({ keys: [guest] });
    const half = sign({ kind: TxKind.Transfer, ...acting(member, 2n), to: guest.id, amount: 3n }, member);
    const both = await ask(s, member, Op.Countersign, half);
    assert.ok(both.length > half.length);
    // Only the payer asks for its own transfer; not someone else's.
    await refused(ask(s, sup, Op.Countersign, half), "BAD_REQUEST");
    const toOther = sign({ kind: TxKind.Transfer, ...acting(member, 2n), to: sup.id, amount: 3n }, member);
    await refused(ask(s, member, Op.Countersign, toOther), "NOT_FOUND");
  });

  it("an application carries the applicant's Apply and its member record", async () => {
    const s = server();
    const applicant = new Signer(generateKeyPair());
    const apply = sign({ kind: TxKind.Apply, ...acting(applicant, 1n), note: "" }, applicant);
    const rec = signMemberRecord(
      { org, account: applicant.id, seq: 1n, peerId: Buffer.from([0, 1, 2]), addrs: [] },
      applicant,
    );
    await ask(s, applicant, Op.Apply, encodeList([apply, rec]));
    assert.equal(applied.at(-1)?.account.toString("hex"), applicant.id.toString("hex"));
    // Someone else's Apply, or a record of another account, is refused.
    await refused(ask(s, outsider, Op.Apply, encodeList([apply, rec])), "BAD_REQUEST");
    const otherRec = signMemberRecord(
      { org, account: outsider.id, seq: 1n, peerId: Buffer.from([1]), addrs: [] },
      outsider,
    );
    await refused(ask(s, applicant, Op.Apply, encodeList([apply, otherRec])), "BAD_REQUEST");
    void memberRecordKey;
  });

  it("applications are taken at a bounded rate, all applicants together (each writes a leaf)", async () => {
    let t = 0;
    const s = orgServer({
      books: () => books,
      joined: () => undefined,
      key: () => undefined,
      autoCountersign: true,
      applied: () => undefined,
      received: () => undefined,
      now: () => 1_800_000_000_000 + t,
    });
    const apply = async () => {
      const a = new Signer(generateKeyPair());
      const tx = sign({ kind: TxKind.Apply, ...acting(a, 1n), note: "" }, a);
      const rec = signMemberRecord({ org, account: a.id, seq: 1n, peerId: Buffer.from([1]), addrs: [] }, a);
      const req = signRequest(
        { org, op: Op.Apply, body: encodeList([tx, rec]), timeMs: 1_800_000_000_000 + t },
        a,
      );
      return s(req, AbortSignal.timeout(1000)).then(decodeResponse);
    };
    for (let i = 0; i < 20; i++) await apply();
    await refused(apply(), "BUSY");
    t += 1000; // a second later: ten more
    for (let i = 0; i < 10; i++) await apply();
    await refused(apply(), "BUSY");
  });

  it("a member without the books forwards applications only, as they were signed", async () => {
    const bk = server();
    const forwarded: Uint8Array[] = [];
    const joined: Joined = {
      org,
      info: () => [ledger.genesisBytes()!, books.final()],
      committees: () => [],
      role: async (id) => ledger.account(id)?.role ?? Role.None,
      forward: async (req, signal) => {
        forwarded.push(req);
        return bk(req, signal);
      },
      countersigned: () => undefined,
    };
    const s = server({ joined });
    // An applicant that knows only this member: its application reaches the bookkeeper.
    const applicant = new Signer(generateKeyPair());
    const apply = sign({ kind: TxKind.Apply, ...acting(applicant, 1n), note: "" }, applicant);
    const rec = signMemberRecord(
      { org, account: applicant.id, seq: 1n, peerId: Buffer.from([9]), addrs: [] },
      applicant,
    );
    await ask(s, applicant, Op.Apply, encodeList([apply, rec]));
    assert.equal(forwarded.length, 1);
    assert.ok(applied.at(-1)?.account.equals(applicant.id));
    // What the forwarder would read in the clear (leaves, receipts) is not forwarded.
    for (const [op, body] of [
      [Op.Accounts, encodeIds([member.id])],
      [Op.Receipt, transferId],
      [Op.Submit, sign({ kind: TxKind.Transfer, ...acting(member, 2n), to: sup.id, amount: 1n }, member)],
    ] as const)
      await refused(ask(s, member, op, body), "UNAVAILABLE");
    assert.equal(forwarded.length, 1);
    // Info is public and answered from the member's own view.
    assert.equal((await checkInfo(await ask(s, outsider, Op.Info, Buffer.alloc(0)), org)).latest.pulse, head);
  });

  it("requests from another organization, or too old, are refused", async () => {
    const s = server();
    const other = signRequest({ org: Buffer.alloc(20, 7), op: Op.Info, body: Buffer.alloc(0) }, member);
    await refused(s(other, AbortSignal.timeout(1000)).then(decodeResponse), "NOT_FOUND");
    const old = signRequest(
      { org, op: Op.Info, body: Buffer.alloc(0), timeMs: Date.now() - 10 * 60_000 },
      member,
    );
    await refused(s(old, AbortSignal.timeout(1000)).then(decodeResponse), "BAD_REQUEST");
  });

  it("any bytes from a peer get an answer, never a throw, and change nothing", async () => {
    const s = server({ keys: [member] });
    const rootBefore = ledger.rootAt();
    const n = submitted.length;
    const valid = signRequest({ org, op: Op.Accounts, body: encodeIds([member.id]) }, member);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const b = Buffer.from(valid);
            b[i]! ^= x;
            return b;
          }),
          fc
            .tuple(fc.constantFrom(...Object.values(Op)), fc.uint8Array({ maxLength: 200 }))
            .map(([op, body]) => signRequest({ org, op, body }, outsider)),
        ),
        async (bytes) => {
          const out = await s(bytes, AbortSignal.timeout(1000));
          assert.ok(out instanceof Uint8Array);
          try {
            decodeResponse(out);
          } catch (err) {
            assert.ok(err instanceof NetError, String(err));
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.deepEqual(ledger.rootAt(), rootBefore);
    assert.equal(submitted.length, n, "nothing from an outsider reached the bookkeeper");
  });
});
