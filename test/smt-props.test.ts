/**
 * Property tests of the ledger tree against SPEC-smt.md: canonical shape under any insertion order and
 * any batching, proofs and their encodings, tampered proofs, decoders fed garbage, and the u64 cap.
 * The reference model (test/helpers/reference.ts) shares no code with src/smt.
 */
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { Bucket, bucketRange } from "../src/ledger/keys.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { prefix } from "../src/smt/bits.js";
import { EMPTY_SUMMARY, MAX_U64, type Summary } from "../src/smt/hash.js";
import { hashOf, type InnerNode, Kind, type TreeNode } from "../src/smt/node.js";
import { decodePage, decodeRootNode, openSpan } from "../src/smt/page.js";
import { decodeProof, encodeProof, type Proof, proofFromJson, proofToJson } from "../src/smt/proof.js";
import {
  applyOps,
  buildTree,
  type LeafOp,
  lookup,
  normalizeOps,
  prove,
  summaryOf,
  TreeError,
} from "../src/smt/tree.js";
import { type VerifyResult, verifyProof } from "../src/smt/verify.js";
import { DecodeError, Reader } from "../src/util/bytes.js";
import { applyToModel } from "./helpers/model.js";
import { type RefLeaf, referenceRoot } from "./helpers/reference.js";
import {
  flipBit,
  flipRandomBit,
  mutateBytes,
  type Rand,
  randomBytes,
  rng,
  shuffle,
  tamperProof,
  tamperProofJson,
  tamperSummary,
} from "./helpers/tamper.js";

// Show the failing assertion's message in fast-check's report (node's reporter omits error causes).
fc.configureGlobal({ includeErrorInReport: true });

// ---------------------------------------------------------------------------------------------------
// Generators

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b));

/** How a leaf's id is made: fully random, or from one of a few random bases (long shared prefixes). */
type IdSpec =
  | { kind: "random"; id: Buffer }
  | { kind: "tail"; base: number; tail: Uint8Array } // the base with its last 1-3 bytes replaced
  | { kind: "flip"; base: number; bit: number }; // the base with one bit flipped: a split at that depth

const idSpec: fc.Arbitrary<IdSpec> = fc.oneof(
  { arbitrary: bytes(20).map((id) => ({ kind: "random" as const, id })), weight: 2 },
  {
    arbitrary: fc
      .record({ base: fc.nat(), tail: fc.uint8Array({ minLength: 1, maxLength: 3 }) })
      .map((x) => ({ kind: "tail" as const, ...x })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ base: fc.nat(), bit: fc.integer({ min: 0, max: 159 }) })
      .map((x) => ({ kind: "flip" as const, ...x })),
    weight: 1,
  },
);

function idFrom(spec: IdSpec, bases: readonly Buffer[]): Buffer {
  if (spec.kind === "random") return spec.id;
  const base = bases[spec.base % bases.length]!;
  if (spec.kind === "flip") return flipBit(base, spec.bit);
  const id = Buffer.from(base);
  id.set(spec.tail, 20 - spec.tail.length);
  return id;
}

/**
 * A set of leaves with distinct ids; amounts anywhere in u64 but capped so that the total stays in
 * u64, and with `fill` the last amount raised so that the total is exactly 2^64 - 1.
 */
function leafSet(maxLeaves = 40): fc.Arbitrary<RefLeaf[]> {
  return fc
    .record({
      bases: fc.array(bytes(20), { minLength: 1, maxLength: 3 }),
      specs: fc.array(fc.record({ id: idSpec, amount: fc.bigInt(0n, MAX_U64), dataHash: bytes(32) }), {
        maxLength: maxLeaves,
      }),
      fill: fc.boolean(),
    })
    .map(({ bases, specs, fill }) => {
      const seen = new Set<string>();
      const leaves: RefLeaf[] = [];
      for (const s of specs) {
        const id = idFrom(s.id, bases);
        const k = id.toString("hex");
        if (seen.has(k)) continue;
        seen.add(k);
        leaves.push({ id, amount: s.amount, dataHash: s.dataHash });
      }
      if (leaves.length === 0) return leaves;
      const cap = MAX_U64 / BigInt(leaves.length);
      let total = 0n;
      for (const l of leaves) {
        if (l.amount > cap) l.amount %= cap + 1n;
        total += l.amount;
      }
      if (fill) leaves[leaves.length - 1]!.amount += MAX_U64 - total;
      return leaves;
    });
}

const nonEmptyLeafSet = (maxLeaves = 40) => leafSet(maxLeaves).filter((l) => l.length > 0);
const seed = fc.integer();

// ---------------------------------------------------------------------------------------------------
// Helpers

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const upsert = (l: RefLeaf): LeafOp => ({ id: l.id, leaf: { amount: l.amount, dataHash: l.dataHash } });
const del = (id: Buffer): LeafOp => ({ id, leaf: null });
const toOps = (leaves: readonly RefLeaf[]): LeafOp[] => leaves.map(upsert);

function assertSameSummary(actual: Summary, expected: Summary, what: string): void {
  assert.equal(hex(actual.hash), hex(expected.hash), `${what}: hash`);
  assert.equal(actual.sum, expected.sum, `${what}: sum`);
  assert.equal(actual.count, expected.count, `${what}: count`);
}

function byId(leaves: readonly RefLeaf[]): Map<string, RefLeaf> {
  return new Map(leaves.map((l) => [hex(l.id), l]));
}

/** Absent keys: random ones, and ones sharing a long prefix with a present key. */
function absentKeys(leaves: readonly RefLeaf[], present: Map<string, RefLeaf>, r: Rand, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 2 * n && out.length < n; i++) {
    let k: Buffer;
    if (leaves.length === 0 || i % 3 === 0) k = randomBytes(20, r);
    else {
      const near = leaves[r(leaves.length)]!.id;
      // Flip a bit late in the id (deep in the tree) or anywhere.
      k = flipBit(near, i % 3 === 1 ? 120 + r(40) : r(160));
    }
    if (!present.has(hex(k))) out.push(k);
  }
  return out;
}

/** Checks what a verifier said about `key` against the truth of the set. */
function assertTrue(res: VerifyResult, key: Uint8Array, present: Map<string, RefLeaf>, what: string): void {
  if (res.result === "inclusion") assert.ok(present.has(hex(key)), `${what}: inclusion of an absent key`);
  if (res.result === "exclusion") assert.ok(!present.has(hex(key)), `${what}: exclusion of a present key`);
}

const roundTripJson = (p: Proof): Proof => proofFromJson(JSON.parse(JSON.stringify(proofToJson(p))));

/**
 * Three leaves a = 00.., b = 0f.., c = 0f..01: the root is at depth 4 with a on its left; on its right
 * an internal node at depth 159 over b and c.
 */
function threeLeaves() {
  const id = (h: string) => Buffer.from(h.padEnd(40, "0"), "hex");
  const dh = Buffer.alloc(32, 7);
  const a = id("00");
  const b = id("0f");
  const c = id("0f00000000000000000000000000000000000001");
  const root = buildTree([a, b, c].map((k) => ({ id: k, leaf: { amount: 5n, dataHash: dh } }))) as InnerNode;
  const sum = summaryOf(root);
  const inner = root.right as InnerNode;
  assert.equal(root.depth, 4);
  assert.equal(inner.depth, 159);
  return { id, a, b, c, root, inner, sum };
}

// ---------------------------------------------------------------------------------------------------

describe("SMT properties: canonical shape", () => {
  it("buildTree gives the reference root for any insertion order, with stale duplicates before", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const expected = referenceRoot(leaves);
        assertSameSummary(summaryOf(buildTree(shuffle(toOps(leaves), r))), expected, "shuffled");
        // Earlier ops for the same ids (a batch's later op wins) change nothing.
        const stale: LeafOp[] = leaves
          .filter(() => r(3) === 0)
          .map((l) =>
            r(2) === 0 ? del(l.id) : { id: l.id, leaf: { amount: 0n, dataHash: Buffer.alloc(32) } },
          );
        assertSameSummary(summaryOf(buildTree([...stale, ...shuffle(toOps(leaves), r)])), expected, "dups");
      }),
      { numRuns: 150 },
    );
  });

  it("applyOps in random batches with interleaved upserts and deletes reaches the from-scratch root", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        // Per-leaf histories; a quarter of the leaves are transient (upserted, later deleted).
        const histories: LeafOp[][] = [];
        const final: RefLeaf[] = [];
        for (const l of leaves) {
          const h: LeafOp[] = [];
          for (let i = r(3); i > 0; i--)
            h.push(
              r(2) === 0
                ? del(l.id)
                : {
                    id: l.id,
                    leaf: { amount: l.amount / BigInt(2 + r(5)), dataHash: flipRandomBit(l.dataHash, r) },
                  },
            );
          h.push(upsert(l));
          if (r(4) === 0) h.push(del(l.id));
          else final.push(l);
          histories.push(h);
        }
        // Deletes of ids never present, some right next to present ones.
        for (const k of absentKeys(leaves, present, r, r(4))) histories.push([del(k)]);
        // Interleave the histories, keeping each one's order, then cut into batches.
        const seq: LeafOp[] = [];
        const queues = histories.map((h) => [...h]);
        while (queues.length > 0) {
          const i = r(queues.length);
          seq.push(queues[i]!.shift()!);
          if (queues[i]!.length === 0) queues.splice(i, 1);
        }
        const model = new Map<string, RefLeaf>();
        let root: TreeNode | null = null;
        let batch: LeafOp[] = [];
        const flush = () => {
          root = applyOps(root, normalizeOps(batch));
          applyToModel(model, batch);
          assertSameSummary(summaryOf(root), referenceRoot(model.values()), "after a batch");
          batch = [];
        };
        for (const op of seq) {
          batch.push(op);
          if (r(4) === 0) flush();
        }
        flush();
        assertSameSummary(summaryOf(root), summaryOf(buildTree(toOps(final))), "carried vs from scratch");
        assert.equal(model.size, final.length);
        for (const l of final) {
          const got = lookup(root, l.id);
          assert.ok(got !== undefined, "lookup finds every final leaf");
          assert.equal(got.sum, l.amount);
          assert.equal(hex(got.dataHash), hex(l.dataHash));
        }
        // Delete everything, in random batches: the empty tree and the empty summary.
        const ids = shuffle(
          [...model.values()].map((l) => l.id),
          r,
        );
        for (const id of ids) {
          batch.push(del(id));
          if (r(3) === 0) flush();
        }
        flush();
        assert.equal(root, null);
        const empty = summaryOf(root);
        assert.equal(hex(empty.hash), "00".repeat(32));
        assert.equal(empty.sum, 0n);
        assert.equal(empty.count, 0);
        assertSameSummary(empty, EMPTY_SUMMARY, "empty");
      }),
      { numRuns: 100 },
    );
  });
});

describe("SMT properties: proofs", () => {
  it("inclusion for present keys, exclusion for absent ones, through both encodings", () => {
    fc.assert(
      fc.property(leafSet(), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const check = (k: Buffer, expected: "inclusion" | "exclusion") => {
          const p = prove(root, k);
          assert.deepEqual(verifyProof(p, sum), { result: expected }, `${expected} of ${hex(k)}`);
          if (expected === "inclusion") {
            const t = p.terminal;
            assert.ok(t !== null && t.kind === "leaf");
            assert.equal(t.amount, present.get(hex(k))!.amount);
            assert.equal(hex(t.dataHash), hex(present.get(hex(k))!.dataHash));
          }
          const bin = encodeProof(p);
          const back = decodeProof(bin);
          assert.deepEqual(verifyProof(back, sum), { result: expected }, "after the binary round trip");
          assert.equal(hex(encodeProof(back)), hex(bin), "binary re-encoding is byte-identical");
          assert.deepEqual(proofToJson(back), proofToJson(p));
          const j = roundTripJson(p);
          assert.deepEqual(verifyProof(j, sum), { result: expected }, "after the JSON round trip");
          assert.deepEqual(proofToJson(j), proofToJson(p));
          // A proof never verifies against another tree's synopsis (here: with one leaf less or more).
          const other =
            leaves.length > 0 ? leaves.slice(1) : [{ id: k, amount: 0n, dataHash: Buffer.alloc(32) }];
          assert.equal(verifyProof(p, referenceRoot(other)).result, "invalid", "against another synopsis");
        };
        for (const l of leaves) check(l.id, "inclusion");
        for (const k of absentKeys(leaves, present, r, 8)) check(k, "exclusion");
      }),
      { numRuns: 120 },
    );
  });
});

describe("SMT properties: tampered proofs", () => {
  /** A tree and a few proofs for present and absent keys. */
  const cases = fc.tuple(leafSet(30), seed);
  function setup(leaves: RefLeaf[], s: number) {
    const r = rng(s);
    const present = byId(leaves);
    const root = buildTree(toOps(leaves));
    const sum = summaryOf(root);
    const keys = [
      ...shuffle(leaves, r)
        .slice(0, 2)
        .map((l) => l.id),
      ...absentKeys(leaves, present, r, 3),
    ];
    return { r, present, root, sum, proofs: keys.map((k) => prove(root, k)) };
  }

  it("any single-field change (hash-covered fields, path, root synopsis) gives invalid", () => {
    fc.assert(
      fc.property(cases, ([leaves, s]) => {
        const { r, sum, proofs } = setup(leaves, s);
        for (const p of proofs) {
          assert.notEqual(verifyProof(p, sum).result, "invalid", "the untampered proof is valid");
          for (const t of tamperProof(p, r)) {
            if (t.unboundNode) continue; // see the next test
            assert.equal(verifyProof(t.value, sum).result, "invalid", t.what);
          }
          for (const t of tamperProofJson(proofToJson(p), r))
            assert.equal(verifyProof(proofFromJson(t.value), sum).result, "invalid", t.what);
          for (const t of tamperSummary(sum, r))
            assert.equal(verifyProof(p, t.value).result, "invalid", t.what);
        }
      }),
      { numRuns: 150 },
    );
  });

  // A gap in SPEC-smt.md's proof format: a bare terminal summary leaves its depth, prefix and kind
  // unbound. Our proofs carry the node's children, and the verifier recomputes its hash from them.
  it("a change of a terminal internal node's depth, prefix or kind gives invalid", () => {
    fc.assert(
      fc.property(nonEmptyLeafSet(30), seed, (leaves, s) => {
        const { r, sum, proofs } = setup(leaves, s);
        const accepted: string[] = [];
        for (const p of proofs)
          for (const t of tamperProof(p, r)) {
            if (!t.unboundNode) continue;
            const res = verifyProof(t.value, sum).result;
            if (res !== "invalid") accepted.push(`${t.what} (key ${hex(p.key)}): accepted as ${res}`);
          }
        assert.deepEqual(accepted, [], "tampered proofs accepted");
      }),
      { numRuns: 100 },
    );
  });

  it("a changed key never gives inclusion of an absent key nor exclusion of a present one", () => {
    fc.assert(
      fc.property(cases, ([leaves, s]) => {
        const { r, present, sum, proofs } = setup(leaves, s);
        for (const p of proofs) {
          const keys = [
            flipRandomBit(p.key, r),
            flipBit(p.key, 152 + r(8)),
            randomBytes(20, r),
            ...absentKeys(leaves, present, r, 2),
            ...leaves.slice(0, 3).map((l) => l.id),
          ];
          for (const key of keys) {
            if (hex(key) === hex(p.key)) continue;
            const res = verifyProof({ ...p, key }, sum);
            assertTrue(res, key, present, `key ${hex(p.key)} -> ${hex(key)}`);
            const j = proofToJson(p);
            assertTrue(
              verifyProof(proofFromJson({ ...j, key: hex(key) }), sum),
              key,
              present,
              `JSON key ${hex(p.key)} -> ${hex(key)}`,
            );
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  // The same gap: against the empty root, a bare "node" terminal with the all-zero summary.
  it("empty tree: a node terminal carrying the empty summary gives invalid", () => {
    const key = Buffer.alloc(20, 0xab);
    const p = prove(null, key);
    assert.deepEqual(verifyProof(p, EMPTY_SUMMARY), { result: "exclusion" });
    const forged: Proof = {
      key,
      path: [],
      terminal: {
        kind: "node",
        depth: 8,
        prefix: prefix(Buffer.alloc(20), 8),
        hash: Buffer.alloc(32),
        sum: 0n,
        count: 0,
      },
    };
    assert.equal(verifyProof(forged, EMPTY_SUMMARY).result, "invalid");
  });

  // The consequence of the gap: for a key that IS in the tree, cut its inclusion proof above an internal
  // node N on its path and present N's true summary as a bare terminal with a prefix off the key's path.
  // SPEC-smt.md's verifier says "exclusion"; ours refuses it unless asked to accept unbound terminals.
  it("no forged exclusion proof for a present key (terminal node with a false prefix)", () => {
    fc.assert(
      fc.property(nonEmptyLeafSet(30), seed, (leaves, s) => {
        const r = rng(s);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const k = leaves[r(leaves.length)]!.id;
        const genuine = prove(root, k);
        // Internal nodes on k's path whose depth leaves a gap after their parent's (path compression).
        let n: TreeNode | null = root;
        let parentDepth = -1;
        const targets: { node: InnerNode; parentDepth: number }[] = [];
        while (n !== null && n.kind === Kind.Inner) {
          if (n.depth > parentDepth + 1) targets.push({ node: n, parentDepth });
          parentDepth = n.depth;
          n = (k[n.depth >> 3]! >> (7 - (n.depth & 7))) & 1 ? n.right : n.left;
        }
        fc.pre(targets.length > 0);
        const { node, parentDepth: pd } = targets[r(targets.length)]!;
        const forged: Proof = {
          key: k,
          path: genuine.path.filter((st) => st.depth < node.depth),
          terminal: {
            kind: "node",
            depth: node.depth,
            prefix: flipBit(prefix(k, node.depth), pd + 1 + r(node.depth - pd - 1)),
            hash: hashOf(node),
            sum: node.sum,
            count: node.count,
          },
        };
        assert.equal(verifyProof(genuine, sum).result, "inclusion");
        const res = verifyProof(forged, sum);
        assert.notEqual(res.result, "exclusion", `forged exclusion of present key ${hex(k)} accepted`);
        // The binary format cannot even carry a terminal node without its children.
        assert.throws(() => encodeProof(forged), TypeError);
        // SPEC-smt.md's bare form is accepted only on request, and then flagged as unbound.
        assert.deepEqual(verifyProof(forged, sum, { allowUnboundTerminal: true }), {
          result: "exclusion",
          unbound: true,
        });
      }),
      { numRuns: 100 },
    );
  });

  // The minimal case of the above, with three leaves.
  it("no forged exclusion proof: minimal example", () => {
    const { b, root, inner, sum } = threeLeaves();
    const forged: Proof = {
      key: b,
      path: [{ depth: 4, sibling: summaryOf(root.left) }],
      terminal: {
        kind: "node",
        depth: 159,
        prefix: flipBit(prefix(b, 159), 40), // any bit in 5..158: off b's path
        hash: hashOf(inner),
        sum: inner.sum,
        count: inner.count,
      },
    };
    assert.equal(verifyProof(prove(root, b), sum).result, "inclusion");
    assert.equal(verifyProof(forged, sum).result, "invalid", "b is in the tree: no exclusion proof for it");
  });
});

describe("SMT properties: binary tampering", () => {
  it("every bit flip of an encoded proof: DecodeError, invalid, or a true statement", () => {
    fc.assert(
      fc.property(leafSet(30), seed, (leaves, s) => {
        const r = rng(s);
        const present = byId(leaves);
        const root = buildTree(toOps(leaves));
        const sum = summaryOf(root);
        const keys = [...absentKeys(leaves, present, r, 1)];
        if (leaves.length > 0) keys.push(leaves[r(leaves.length)]!.id);
        for (const k of keys) {
          const bin = encodeProof(prove(root, k));
          const nbits = bin.length * 8;
          // All bits of short proofs; a sample of 1200 for long ones.
          const bits =
            nbits <= 1200 ? [...Array(nbits).keys()] : Array.from({ length: 1200 }, () => r(nbits));
          let decoded = 0;
          for (const i of bits) {
            const bad = flipBit(bin, i);
            let p: Proof;
            try {
              p = decodeProof(bad);
            } catch (e) {
              assert.ok(e instanceof DecodeError, `bit ${i}: ${String(e)}`);
              continue;
            }
            decoded++;
            const res = verifyProof(p, sum);
            assertTrue(res, p.key, present, `bit ${i}`);
            if (res.result === "inclusion") {
              const t = p.terminal;
              const l = present.get(hex(p.key))!;
              assert.ok(t !== null && t.kind === "leaf");
              assert.equal(t.amount, l.amount, `bit ${i}: included amount`);
              assert.equal(hex(t.dataHash), hex(l.dataHash), `bit ${i}: included dataHash`);
            }
          }
          assert.ok(decoded > 0, "some flips decode (hash bytes), so the verifier was exercised");
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** Opens every in-page node of a decoded page (not deeper pages), so that all its bytes are decoded. */
function walkPage<T extends TreeNode>(top: T): T {
  const visit = (n: TreeNode): void => {
    if (n.kind === Kind.Span) visit(openSpan(n));
    else if (n.kind === Kind.Inner) {
      visit(n.left);
      visit(n.right);
    }
  };
  visit(top);
  return top;
}

describe("SMT properties: decoders on garbage", () => {
  /** Valid pages and root records from a VersionedTree on a MemoryKV, over several pulses. */
  const pages: { bytes: Buffer; level: number; version: number }[] = [];
  const rootRecords: Buffer[] = [];
  const proofs: Buffer[] = [];

  before(async () => {
    const r = rng(12345);
    const kv = new MemoryKV();
    const tree = await VersionedTree.open(kv, { sync: false });
    const all: RefLeaf[] = [];
    const base = randomBytes(20, r);
    for (let pulse = 1; pulse <= 4; pulse++) {
      const ops: LeafOp[] = [];
      for (let i = 0; i < 60; i++) {
        // Random ids and ids under a shared base at several prefix lengths: pages at many levels.
        const id = Buffer.from(base);
        const tail = r(3) === 0 ? 20 : 1 + r(19);
        id.set(randomBytes(tail, r), 20 - tail);
        const leaf: RefLeaf = { id, amount: BigInt(r(1_000_000)), dataHash: randomBytes(32, r) };
        all.push(leaf);
        ops.push(upsert(leaf));
      }
      if (pulse > 1) for (let i = 0; i < 10; i++) ops.push(del(all[r(all.length)]!.id));
      await tree.commit(pulse, ops);
    }
    for await (const [k, v] of kv.entries(bucketRange(Bucket.Page)))
      pages.push({ bytes: v, level: k[1]!, version: Number(k.readBigUInt64BE(k.length - 8)) });
    for await (const [, v] of kv.entries(bucketRange(Bucket.Root))) rootRecords.push(v.subarray(1));
    const head = tree.head!;
    for (const l of all.slice(0, 30)) proofs.push(encodeProof(tree.prove(l.id, head)));
    for (let i = 0; i < 10; i++) proofs.push(encodeProof(tree.prove(randomBytes(20, r), head)));
    await tree.close();
  });

  /** Runs a decoder: it returns or throws DecodeError, nothing else. */
  function decodes<T>(f: () => T, what: string): T | undefined {
    try {
      return f();
    } catch (e) {
      assert.ok(
        e instanceof DecodeError,
        `${what}: threw ${e instanceof Error ? e.name : typeof e}: ${String(e)}`,
      );
      return undefined;
    }
  }

  it("the valid encodings decode", () => {
    assert.ok(pages.length >= 10, `pages written: ${pages.length}`);
    assert.ok(new Set(pages.map((p) => p.level)).size >= 3, "pages at 3 levels at least");
    for (const p of pages) {
      const top = decodePage(p.bytes, p.level, p.version);
      assert.equal(top.stored, p.version);
      assert.equal(top.depth >> 3, p.level);
    }
    for (const b of rootRecords) {
      const r = new Reader(b);
      decodeRootNode(r);
      r.end();
    }
    for (const b of proofs) assert.equal(hex(encodeProof(decodeProof(b))), hex(b));
  });

  it("decodeProof: random bytes and mutated proofs give DecodeError or a canonical proof", () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 300, size: "max" }),
      fc.uint8Array({ maxLength: 300, size: "max" }).map((b) => Buffer.concat([Buffer.from([1]), b])),
      // Version, key, an empty path, then any terminal tag and random bytes: reaches the terminal's fields.
      fc
        .tuple(bytes(20), fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 120, size: "max" }))
        .map(([key, tag, rest]) => Buffer.concat([Buffer.from([1]), key, Buffer.from([0, tag]), rest])),
      fc.tuple(fc.nat(), seed).map(([i, s]) => mutateBytes(proofs[i % proofs.length]!, rng(s))),
    );
    fc.assert(
      fc.property(garbage, (b) => {
        const p = decodes(() => decodeProof(b), "decodeProof");
        // "DecodeError on anything but one canonical encoding": what decodes re-encodes identically.
        if (p !== undefined) assert.equal(hex(encodeProof(p)), hex(b), "decoded bytes are canonical");
      }),
      { numRuns: 3000 },
    );
  });

  it("decodePage and decodeRootNode: random bytes and mutated pages give DecodeError or a value", () => {
    const garbage = fc.oneof(
      fc.record({
        b: fc.uint8Array({ maxLength: 400, size: "max" }).map((b) => Buffer.concat([Buffer.from([1]), b])),
        level: fc.integer({ min: 0, max: 20 }),
      }),
      fc.record({
        b: fc.uint8Array({ maxLength: 200, size: "max" }),
        level: fc.integer({ min: 0, max: 20 }),
      }),
      fc.tuple(fc.nat(), seed, fc.integer({ min: 0, max: 9 })).map(([i, s, lv]) => {
        const p = pages[i % pages.length]!;
        return { b: mutateBytes(p.bytes, rng(s)), level: lv < 8 ? p.level : lv };
      }),
    );
    fc.assert(
      fc.property(garbage, fc.nat(), ({ b, level }, version) => {
        // Spans open lazily: walk the whole page so every node's bytes are decoded.
        const top = decodes(
          () => walkPage(decodePage(Buffer.from(b), level, version)),
          `decodePage(level ${level})`,
        );
        if (top !== undefined) assert.equal(top.depth >> 3, level, "the top node is at the page's level");
        decodes(() => {
          const r = new Reader(b.subarray(1));
          const n = decodeRootNode(r);
          r.end();
          return n;
        }, "decodeRootNode");
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat(), seed, (i, s) => {
        const b = mutateBytes(rootRecords[i % rootRecords.length]!, rng(s));
        decodes(() => decodeRootNode(new Reader(b)), "decodeRootNode");
      }),
      { numRuns: 500 },
    );
  });
});

describe("SMT properties: the u64 supply cap", () => {
  /** Leaves whose total exceeds 2^64 - 1 (each amount within u64). */
  function overflowing(leaves: RefLeaf[], r: Rand): RefLeaf[] {
    const total = leaves.reduce((a, l) => a + l.amount, 0n);
    const ids = new Set(leaves.map((l) => hex(l.id)));
    const fresh = () => {
      for (;;) {
        const id =
          leaves.length > 0 && r(2) === 0
            ? flipBit(leaves[r(leaves.length)]!.id, r(160))
            : randomBytes(20, r);
        if (!ids.has(hex(id))) {
          ids.add(hex(id));
          return id;
        }
      }
    };
    const need = MAX_U64 - total + 1n; // >= 1
    const extra =
      need <= MAX_U64
        ? [
            {
              id: fresh(),
              amount: need + (BigInt(r(1000)) % (MAX_U64 - need + 1n)),
              dataHash: randomBytes(32, r),
            },
          ]
        : [
            { id: fresh(), amount: MAX_U64, dataHash: randomBytes(32, r) },
            { id: fresh(), amount: 1n, dataHash: randomBytes(32, r) },
          ];
    return [...leaves, ...extra];
  }

  const isOverflow = (e: unknown) => e instanceof TreeError && e.code === "SUM_OVERFLOW";

  it("buildTree and applyOps refuse a set whose total exceeds u64, leaving the old tree intact", () => {
    fc.assert(
      fc.property(leafSet(30), seed, (leaves, s) => {
        const r = rng(s);
        const over = overflowing(leaves, r);
        assert.throws(() => buildTree(shuffle(toOps(over), r)), isOverflow);
        const root0 = buildTree(toOps(leaves));
        const expected = referenceRoot(leaves);
        const added = over.slice(leaves.length);
        assert.throws(() => applyOps(root0, normalizeOps(toOps(added))), isOverflow, "adding leaves");
        // Raising an existing amount instead, when there is one to raise.
        if (leaves.length > 0) {
          const l = leaves[r(leaves.length)]!;
          const rest = expected.sum - l.amount;
          if (rest > 0n) {
            const raised = { ...l, amount: MAX_U64 - rest + 1n };
            assert.throws(
              () => applyOps(root0, normalizeOps([upsert(raised)])),
              isOverflow,
              "raising a leaf",
            );
          }
        }
        // The old tree is untouched and still takes a valid batch.
        assertSameSummary(summaryOf(root0), expected, "old root");
        if (leaves.length > 0) {
          const gone = leaves[r(leaves.length)]!;
          const after = applyOps(root0, normalizeOps([del(gone.id)]));
          assertSameSummary(
            summaryOf(after),
            referenceRoot(leaves.filter((l) => l !== gone)),
            "after a delete",
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it("a decodable proof whose sums overflow u64 is invalid, not an exception", () => {
    fc.assert(
      fc.property(
        nonEmptyLeafSet(30).filter((l) => l.length >= 2),
        seed,
        (leaves, s) => {
          const r = rng(s);
          const root = buildTree(toOps(leaves));
          const sum = summaryOf(root);
          const p = prove(root, leaves[r(leaves.length)]!.id);
          const t = p.terminal;
          assert.ok(t !== null && t.kind === "leaf" && p.path.length > 0);
          const i = r(p.path.length);
          const big: Proof = {
            ...p,
            path: p.path.map((st, j) => (j === i ? { ...st, sibling: { ...st.sibling, sum: MAX_U64 } } : st)),
            terminal: { ...t, amount: MAX_U64 - BigInt(r(3)) },
          };
          for (const q of [big, decodeProof(encodeProof(big)), roundTripJson(big)]) {
            assert.equal(verifyProof(q, sum).result, "invalid");
            assert.equal(verifyProof(q, { ...sum, sum: MAX_U64 }).result, "invalid");
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  // Sums and counts outside their ranges, in Proof objects built in code (both decoders bound them),
  // must give invalid rather than reach nodeHash's buffer writes and throw RangeError.
  it("out-of-range sums and counts in a Proof object give invalid, not RangeError", () => {
    const { id, b, root, sum } = threeLeaves();
    const p = prove(root, b); // inclusion: steps at depths 4 and 159, a leaf terminal
    const q = prove(root, id("0e")); // exclusion: one step at depth 4, the node at depth 159 as terminal
    assert.equal(q.terminal?.kind, "node");
    const step0 = p.path[0]!;
    const bad: [string, Proof][] = [
      [
        "sibling sum 2^64",
        { ...p, path: [{ ...step0, sibling: { ...step0.sibling, sum: MAX_U64 + 1n } }, ...p.path.slice(1)] },
      ],
      [
        "sibling sum -1",
        { ...p, path: [{ ...step0, sibling: { ...step0.sibling, sum: -1n } }, ...p.path.slice(1)] },
      ],
      [
        "sibling count -1",
        { ...p, path: [{ ...step0, sibling: { ...step0.sibling, count: -1 } }, ...p.path.slice(1)] },
      ],
    ];
    if (q.terminal?.kind === "node") {
      bad.push(["terminal node sum 2^64", { ...q, terminal: { ...q.terminal, sum: MAX_U64 + 1n } }]);
      bad.push(["terminal node count -1", { ...q, terminal: { ...q.terminal, count: -1 } }]);
    }
    const t = p.terminal;
    if (t?.kind === "leaf")
      bad.push(["terminal leaf amount 2^64", { ...p, terminal: { ...t, amount: MAX_U64 + 1n } }]);
    const wrong: string[] = [];
    for (const [what, proof] of bad) {
      try {
        const res = verifyProof(proof, sum);
        if (res.result !== "invalid") wrong.push(`${what}: ${res.result}`);
      } catch (e) {
        wrong.push(`${what}: threw ${e instanceof Error ? e.name : ""} ${String(e)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
