/**
 * The encoding vectors of docs/PROTOCOL.md (test/vectors/encodings.json), checked byte for byte:
 * varints, binary proofs, and what the ledger store writes per pulse (pages, stale index, root records).
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { metaKey, pageKey, rootKey, staleKey } from "../src/ledger/keys.js";
import type { KVOp } from "../src/ledger/kv.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { hashBytes } from "../src/smt/hash.js";
import { hashOf, Kind, type TreeNode } from "../src/smt/node.js";
import {
  decodePage,
  decodeRootNode,
  encodeRootNode,
  openSpan,
  PAGE_FORMAT_V1,
  writeInnerHeader,
  writeLeaf,
  writeRef,
} from "../src/smt/page.js";
import { decodeProof, encodeProof, proofToJson } from "../src/smt/proof.js";
import { buildTree, type LeafOp, prove } from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { DecodeError, Reader, Writer } from "../src/util/bytes.js";

interface VLeaf {
  id: string;
  amount: string;
  dataHash: string;
}
type VOp = VLeaf | { id: string; delete: true };
type What =
  | { bucket: "META"; name: string }
  | { bucket: "ROOT"; pulse: number }
  | { bucket: "PAGE"; level: number; prefix: string; version: number }
  | { bucket: "STALE"; pulse: number; page: { level: number; prefix: string; version: number } };
interface VWrite {
  key: string;
  value: string;
  what: What;
}
interface VPulse {
  pulse: number;
  ops: VOp[];
  root: { hash: string; sum: string; count: number };
  writes: VWrite[];
}
interface Vectors {
  varints: { valid: { value: string; hex: string }[]; invalid: { hex: string; reason: string }[] };
  proofs: {
    valid: { case: string; key: string; result: string; hex: string }[];
    invalid: { hex: string; reason: string }[];
  };
  stores: { name: string; pulses: VPulse[] }[];
}
interface SmtCase {
  name: string;
  leaves: VLeaf[];
  proofs: ({ key: string; result: string } & Record<string, unknown>)[];
}

const readJson = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), "utf8"));
const vectors: Vectors = readJson("encodings.json");
const smtCases: SmtCase[] = readJson("smt-vectors.json").cases;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s, "hex");
const toOp = (o: VOp): LeafOp =>
  "delete" in o
    ? { id: unhex(o.id), leaf: null }
    : { id: unhex(o.id), leaf: { amount: BigInt(o.amount), dataHash: unhex(o.dataHash) } };

/** A MemoryKV that keeps every batch it is given. */
class RecordingKV extends MemoryKV {
  readonly batches: KVOp[][] = [];
  override async write(ops: readonly KVOp[]): Promise<void> {
    this.batches.push([...ops]);
    return super.write(ops);
  }
}

/** Every entry of a KV, in key order (bucket ids are below 0xff). */
async function dump(kv: MemoryKV): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of kv.entries({ gte: Buffer.alloc(0), lt: Buffer.from([0xff]) }))
    out.push([hex(k), hex(v)]);
  return out;
}

/** Re-encodes a decoded page with the page writers, node by node. */
function reencodePage(top: TreeNode): Buffer {
  const w = new Writer().u8(PAGE_FORMAT_V1);
  const enc = (n: TreeNode): void => {
    if (n.kind === Kind.Leaf) writeLeaf(w, n);
    else if (n.kind === Kind.Ref) writeRef(w, n, n.version);
    else {
      const inner = n.kind === Kind.Span ? openSpan(n) : n;
      const at = writeInnerHeader(w, inner, inner.hash!);
      const start = w.length;
      enc(inner.left);
      w.patchU16(at, w.length - start);
      enc(inner.right);
    }
  };
  enc(top);
  return w.finish();
}

/** The key a write's description names, built with src/ledger/keys.ts. */
function keyOf(what: What): Buffer {
  const page = (p: { level: number; prefix: string; version: number }) => {
    const id = Buffer.alloc(20);
    unhex(p.prefix).copy(id);
    return pageKey(p.level, id, p.version);
  };
  switch (what.bucket) {
    case "META":
      return metaKey(what.name);
    case "ROOT":
      return rootKey(what.pulse);
    case "PAGE":
      return page(what);
    case "STALE":
      return staleKey(what.pulse, page(what.page));
  }
}

describe("varint vectors", () => {
  for (const v of vectors.varints.valid) {
    it(`${v.value} <-> ${v.hex}`, () => {
      assert.equal(hex(new Writer().uvarint(BigInt(v.value)).finish()), v.hex);
      const r = new Reader(unhex(v.hex));
      assert.equal(r.uvarint(), BigInt(v.value));
      r.end();
    });
  }
  for (const v of vectors.varints.invalid) {
    it(`rejects "${v.hex}" (${v.reason})`, () => {
      assert.throws(() => {
        const r = new Reader(unhex(v.hex));
        r.uvarint();
        r.end();
      }, DecodeError);
    });
  }
});

describe("binary proof vectors (Tree proof v1)", () => {
  for (const v of vectors.proofs.valid) {
    it(`${v.case}: ${v.result} of ${v.key}`, () => {
      const c = smtCases.find((x) => x.name === v.case)!;
      const tree = buildTree(c.leaves.map(toOp));
      const bytes = encodeProof(prove(tree, unhex(v.key)));
      assert.equal(hex(bytes), v.hex);
      const decoded = decodeProof(unhex(v.hex));
      assert.equal(hex(encodeProof(decoded)), v.hex, "decode then encode gives the same bytes");
      // The binary form carries the same proof as the JSON of smt-vectors.json.
      const { result, ...json } = c.proofs.find((p) => p.key === v.key)!;
      assert.equal(result, v.result);
      assert.deepEqual(proofToJson(decoded, { spec: true }), json);
    });
  }
  it("every valid vector verifies against its case's root", () => {
    const roots = readJson("smt-vectors.json").cases as { name: string; root: Record<string, string> }[];
    for (const v of vectors.proofs.valid) {
      const r = roots.find((x) => x.name === v.case)!.root;
      const root = { hash: unhex(r.hash!), sum: BigInt(r.sum!), count: Number(r.count) };
      assert.deepEqual(verifyProof(decodeProof(unhex(v.hex)), root), { result: v.result });
    }
  });
  for (const v of vectors.proofs.invalid) {
    it(`rejects: ${v.reason}`, () => {
      assert.throws(() => decodeProof(unhex(v.hex)), DecodeError);
    });
  }
});

describe("ledger store vectors (Tree page v1, root record v1, key layout)", () => {
  for (const s of vectors.stores) {
    it(`${s.name}: each pulse writes exactly the recorded batch`, async () => {
      const kv = new RecordingKV();
      const tree = await VersionedTree.open(kv, { sync: false });
      const expected = new Map<string, string>();
      for (const p of s.pulses) {
        const before = kv.batches.length;
        const res = await tree.commit(p.pulse, p.ops.map(toOp));
        assert.deepEqual(
          { hash: hex(res.root.hash), sum: res.root.sum.toString(), count: res.root.count },
          p.root,
        );
        assert.equal(kv.batches.length, before + 1, "one batch per pulse");
        const batch = kv.batches[before]!.map((op) => {
          assert.equal(op.type, "put", "a commit only puts");
          return op.type === "put" ? [hex(op.key), hex(op.value)] : [];
        });
        batch.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
        assert.deepEqual(
          batch,
          p.writes.map((w) => [w.key, w.value]),
          `batch of pulse ${p.pulse}`,
        );
        for (const w of p.writes) expected.set(w.key, w.value);
        const all = [...expected.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        assert.deepEqual(await dump(kv), all, `store contents after pulse ${p.pulse}`);
      }
      await tree.close();
    });

    it(`${s.name}: keys follow the layout, values decode and re-encode to the same bytes`, () => {
      for (const p of s.pulses)
        for (const w of p.writes) {
          assert.equal(hex(keyOf(w.what)), w.key);
          const value = unhex(w.value);
          switch (w.what.bucket) {
            case "PAGE": {
              const top = decodePage(value, w.what.level, w.what.version);
              assert.equal(top.depth >> 3, w.what.level);
              assert.equal(hex(top.key.subarray(0, w.what.level)), w.what.prefix);
              assert.equal(hex(reencodePage(top)), w.value);
              break;
            }
            case "ROOT": {
              const r = new Reader(value);
              assert.equal(r.u8(), 1, "root record version");
              const node = decodeRootNode(r);
              r.end();
              const out = new Writer().u8(1);
              encodeRootNode(out, node, node !== null && node.kind === Kind.Ref ? node.version : 0);
              assert.equal(hex(out.finish()), w.value);
              // The record states the pulse's root synopsis.
              const synopsis =
                node === null
                  ? { hash: "00".repeat(32), sum: "0", count: 0 }
                  : { hash: hex(hashBytes(hashOf(node))), sum: node.sum.toString(), count: node.count };
              assert.deepEqual(synopsis, p.root);
              break;
            }
            case "STALE":
              assert.equal(w.value, "");
              break;
            case "META":
              assert.ok(w.what.name === "format" ? w.value === "01" : w.value.length === 16);
          }
        }
    });

    it(`${s.name}: a store holding only the vectors' bytes reads every pulse`, async () => {
      const kv = new MemoryKV();
      const ops: KVOp[] = s.pulses.flatMap((p) =>
        p.writes.map((w) => ({ type: "put" as const, key: unhex(w.key), value: unhex(w.value) })),
      );
      await kv.write(ops);
      const tree = await VersionedTree.open(kv);
      for (const p of s.pulses) {
        const r = tree.rootAt(p.pulse);
        assert.deepEqual({ hash: hex(r.hash), sum: r.sum.toString(), count: r.count }, p.root);
      }
      await tree.close();
    });
  }
});
