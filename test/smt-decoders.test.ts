/** Property tests of the decoders (garbage in, DecodeError out) and of the u64 supply cap. */
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { Bucket, bucketRange } from "../src/ledger/keys.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { MAX_U64 } from "../src/smt/hash.js";
import { Kind, type TreeNode } from "../src/smt/node.js";
import { decodePage, decodeRootNode, openSpan } from "../src/smt/page.js";
import { decodeProof, encodeProof, type Proof } from "../src/smt/proof.js";
import {
  applyOps,
  buildTree,
  type LeafOp,
  normalizeOps,
  prove,
  summaryOf,
  TreeError,
} from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { Reader } from "../src/util/bytes.js";
import { decodes } from "./helpers/decodes.js";
import { type RefLeaf, referenceRoot } from "./helpers/reference.js";
import {
  assertSameSummary,
  bytes,
  del,
  hex,
  leafSet,
  nonEmptyLeafSet,
  roundTripJson,
  seed,
  threeLeaves,
  toOps,
  upsert,
} from "./helpers/smt-arbitraries.js";
import { flipBit, mutateBytes, type Rand, randomBytes, rng, shuffle } from "./helpers/tamper.js";

// Show the failing assertion's message in fast-check's report (node's reporter omits error causes).
fc.configureGlobal({ includeErrorInReport: true });

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
