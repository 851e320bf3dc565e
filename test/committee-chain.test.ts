/**
 * The committee chain (docs/PROTOCOL.md §13.2): each pulse's certificate names the committee of the
 * next pulse, so a node that knows one committee follows the next ones from certificates and member
 * lists alone. An organization whose committee changes twice (helpers/committee-script.ts) is made
 * pulse by pulse as the daemon makes it: each pulse prepared, its `next` computed
 * (pulse/next-committee.ts), certified by its committee and committed, the committee book recording
 * each draw. Cycles of 4 pulses (the draw runs over the pulse being certified) and of 8.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encodeList } from "../src/dht/wire.js";
import { CommitteeBook } from "../src/election/book.js";
import { genesisCommittee } from "../src/election/committee.js";
import { cycleOf, schedule } from "../src/election/cycle.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { createLogger } from "../src/node/log.js";
import { committeeLinks } from "../src/org/bookkeeping.js";
import {
  CommitteeChain,
  type CommitteeLink,
  decodeCommittees,
  encodeCommittees,
  UnknownCommittee,
} from "../src/org/committee-chain.js";
import { checkInfo } from "../src/org/discovery.js";
import { catchUp, ReplicaError } from "../src/org/replica.js";
import {
  CertificateError,
  committeeHash,
  decodeCertificate,
  verifyCertificate,
} from "../src/pulse/certificate.js";
import { certifiedChain, certify } from "./helpers/certified-chain.js";
import { cast, keepers } from "./helpers/committee-script.js";
import { hex } from "./helpers/ledger-signers.js";
import { pulsesPort } from "./helpers/pulses-port.js";
import { tmpDir } from "./helpers/tmp.js";

const ORG = cast.orgKey.id;
const log = createLogger({ level: "silent" }).root;

for (const L of [4, 8]) {
  describe(`the committee chain, cycles of ${L} pulses`, () => {
    it("each pulse names the committee the book gives the next pulse once it commits", async () => {
      const { ledger, book, nexts } = await certifiedChain(L);
      const changes: number[] = [];
      for (let p = 1; p <= 3 * L; p++) {
        assert.equal(hex(nexts[p]!), hex(committeeHash(book.of(p + 1))), `pulse ${p}`);
        if (!nexts[p]!.equals(committeeHash(book.of(p)))) changes.push(p);
      }
      // The committee changes after the last pulse of cycles 1 and 2, and nowhere else.
      assert.deepEqual(changes, [schedule(1, L).last, schedule(2, L).last]);
      await ledger.close();
    });

    it("a node that knows the genesis committee follows it from certificates and member lists", async () => {
      const { ledger, book } = await certifiedChain(L);
      let known = genesisCommittee(ledger.org!.params);
      const changes: number[] = [];
      for (let p = 1; p <= ledger.head!; p++) {
        const cert = decodeCertificate(ledger.certificateAt(p)!);
        verifyCertificate(cert, known);
        if (cert.next.equals(committeeHash(known))) continue;
        // A member list offered for the next cycle (committee_info) is taken only if it hashes to next.
        const offered = book.ofCycle(cycleOf(p + 1, L));
        assert.notDeepEqual(committeeHash([...offered].reverse()), cert.next, "the drawn order counts");
        assert.deepEqual(committeeHash(offered), cert.next);
        known = offered;
        changes.push(p);
      }
      assert.deepEqual(changes, [schedule(1, L).last, schedule(2, L).last]);
      // The committee it left behind can no longer certify a pulse.
      const p = ledger.head!;
      const old = certify(
        p,
        keepers.map((k) => k.id),
        ledger.rootAt(p),
        Buffer.alloc(32),
        Buffer.alloc(32),
      );
      assert.throws(() => verifyCertificate(decodeCertificate(old), known), CertificateError);
      await ledger.close();
    });

    it("a member node learns each committee from Committees answers and checks every pulse", async () => {
      const { ledger, book, genesis } = await certifiedChain(L);
      const links = (from: number, count: number) => committeeLinks(ledger, (p) => book.of(p), from, count);
      const asked: number[] = [];
      const learn = async (from: number, count: number) => {
        asked.push(from);
        // As a bookkeeper's server answers them, through the wire format.
        return decodeCommittees(encodeCommittees(links(from, count)));
      };
      // Info names the head: a member that knows only the genesis learns cycles 1 and 2 first.
      const view = await checkInfo(encodeList([genesis, ledger.certificateAt(ledger.head!)!]), ORG, learn);
      assert.deepEqual([view.latest.pulse, view.latest.root], [ledger.head, ledger.rootAt()]);
      assert.equal(view.chain.known, cycleOf(ledger.head!, L));
      assert.deepEqual(asked, [1]);
      for (let p = 1; p <= ledger.head!; p++) {
        const c = view.chain.certified(ledger.certificateAt(p)!);
        assert.deepEqual(c.root, ledger.rootAt(p), `pulse ${p}`);
      }
      assert.deepEqual(view.chain.committee(2), book.ofCycle(2));
      // A member answers from what it checked; a node that knows cycle 0 only learns from it too.
      assert.deepEqual(view.chain.links(1, 64), links(1, 64));
      // Links that do not hold: the members reordered, a certificate of another pulse, a gap.
      const fresh = () => new CommitteeChain(ORG, ledger.org!.params, genesis);
      const [l1, l2] = links(1, 2) as [CommitteeLink, CommitteeLink];
      for (const [bad, why] of [
        [[{ ...l1, members: [...l1.members].reverse() }], /not the committee the certificate binds/],
        [[{ ...l1, certificate: ledger.certificateAt(2)! }], /certificate of pulse 2/],
        [[l2], /skips from cycle 0 to 2/],
        [[l1, { ...l2, certificate: l1.certificate }], /certificate of pulse/],
      ] as const) {
        const chain = fresh();
        assert.throws(
          () => chain.extend(bad),
          (e: unknown) => e instanceof CertificateError && why.test(e.message),
        );
        assert.ok(chain.known <= 1);
      }
      // A certificate of a cycle not learnt yet is neither taken nor refused: it waits for the chain.
      assert.throws(() => fresh().certified(ledger.certificateAt(ledger.head!)!), UnknownCommittee);
      await ledger.close();
    });

    it("a committee drawn on demand is written at the next commit (a restart needs no snapshot)", async () => {
      const { ledger, book } = await certifiedChain(L);
      const path = join(tmpDir("leither-book-"), "committees.json");
      const fresh = await CommitteeBook.open(path, ledger);
      // Asked before any commit (a node restarted after a crash): drawn from the ledger, in memory.
      assert.deepEqual(fresh.of(ledger.head!), book.of(ledger.head!));
      await fresh.committed(ledger.head!);
      const reread = JSON.parse(await readFile(path, "utf8")) as { cycles: Record<string, string[]> };
      assert.deepEqual(
        reread.cycles[String(cycleOf(ledger.head!, L))],
        book.of(ledger.head!).map((id) => hex(id)),
      );
      await ledger.close();
    });

    it("a replica refuses a certificate whose next is wrong, and replays the honest chain", async () => {
      const { ledger: source, book: committees, genesis } = await certifiedChain(L);
      const replica = await Ledger.open(new MemoryKV());
      const book = await CommitteeBook.open(join(tmpDir("leither-chain-"), "committees.json"), replica);
      const d = {
        node: cast.supervisor,
        ledger: replica,
        committee: (p: number) => book.of(p),
        replayed: async (p: number) => book.committed(p),
        log,
      };
      // Signed by the right committee, over the right root, naming the wrong next committee: inside
      // a cycle the same members in another order, at a cycle's end the old committee carried on.
      for (const bad of [2, schedule(1, L).last]) {
        const net = pulsesPort(source, genesis, (r) => {
          if (r.pulse !== bad) return r;
          const c = decodeCertificate(r.certificate);
          const members = committees.of(bad);
          const wrong = committeeHash(bad === 2 ? [...members].reverse() : members);
          return { ...r, certificate: certify(bad, members, c.root, c.batchHash, wrong) };
        });
        await assert.rejects(
          catchUp({ ...d, net }, ORG, AbortSignal.timeout(10_000), ["bookkeeper"]),
          (e: unknown) => e instanceof ReplicaError && /names another committee/.test(e.message),
        );
        assert.equal(replica.head, bad - 1, "nothing of the refused pulse is kept");
      }
      const net = pulsesPort(source, genesis);
      await catchUp({ ...d, net }, ORG, AbortSignal.timeout(10_000), ["bookkeeper"]);
      assert.equal(replica.head, source.head);
      assert.equal(hex(replica.rootAt().hash), hex(source.rootAt().hash));
      await replica.close();
      await source.close();
    });
  });
}
