/**
 * Test helpers for the property tests of the tree: a seeded PRNG, bit flips, single-field tamperings
 * of proofs (object and JSON forms) and of root synopses, and random byte-level mutations.
 */
import { bit, ID_BITS, prefix } from "../../src/smt/bits.js";
import { leafHash, MAX_U64, nodeHash, type Summary } from "../../src/smt/hash.js";
import type { Proof, ProofJson, ProofStep } from "../../src/smt/proof.js";

/** A random integer in [0, n). */
export type Rand = (n: number) => number;

/** A small seeded PRNG (mulberry32), so that a fast-check seed replays a whole run. */
export function rng(seed: number): Rand {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const x = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(x * n);
  };
}

/** A shuffled copy. */
export function shuffle<T>(a: readonly T[], r: Rand): T[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Random bytes from the PRNG. */
export function randomBytes(n: number, r: Rand): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = r(256);
  return out;
}

/** A copy of `b` with bit `i` flipped (bit 0 is the top bit of byte 0, as in the spec). */
export function flipBit(b: Uint8Array, i: number): Buffer {
  const out = Buffer.from(b);
  out[i >> 3]! ^= 0x80 >> (i & 7);
  return out;
}

/** A copy of `b` with one random bit flipped. */
export function flipRandomBit(b: Uint8Array, r: Rand): Buffer {
  return flipBit(b, r(b.length * 8));
}

/** Changes of a u64 value that stay inside u64 (so that decoders would accept them). */
export function u64Changes(v: bigint, r: Rand): bigint[] {
  const out = [v < MAX_U64 ? v + 1n : v - 1n, v > 0n ? v - 1n : v + 1n, v ^ (1n << BigInt(r(64)))];
  return [...new Set(out)].filter((x) => x !== v);
}

/** Changes of a count that stay non-negative. */
function countChanges(c: number): number[] {
  return c > 0 ? [c + 1, c - 1] : [c + 1];
}

/** One tampered value, named for the failure message. */
export interface Tampering<T> {
  readonly what: string;
  readonly value: T;
  /**
   * Changes only the depth, prefix or kind of a terminal internal node: fields that the terminal's
   * hash does not cover (see the report on the SPEC-smt.md proof format).
   */
  readonly unboundNode?: boolean;
}

function withStep(p: Proof, i: number, s: ProofStep): Proof {
  return { ...p, path: p.path.map((x, j) => (j === i ? s : x)) };
}

/**
 * Every single-field change of a proof other than its key: each step's sibling hash, sum, count and
 * depth; dropped, inserted and reordered steps; each terminal field; the terminal's kind.
 */
export function tamperProof(p: Proof, r: Rand): Tampering<Proof>[] {
  const out: Tampering<Proof>[] = [];
  const add = (what: string, value: Proof, unboundNode = false) => out.push({ what, value, unboundNode });
  const n = p.path.length;
  p.path.forEach((s, i) => {
    const sib = s.sibling;
    add(
      `step ${i}: sibling hash bit`,
      withStep(p, i, { ...s, sibling: { ...sib, hash: flipRandomBit(sib.hash, r) } }),
    );
    for (const sum of u64Changes(sib.sum, r))
      add(`step ${i}: sibling sum ${sib.sum} -> ${sum}`, withStep(p, i, { ...s, sibling: { ...sib, sum } }));
    for (const count of countChanges(sib.count))
      add(
        `step ${i}: sibling count ${sib.count} -> ${count}`,
        withStep(p, i, { ...s, sibling: { ...sib, count } }),
      );
    const depths = new Set([s.depth + 1, s.depth - 1, r(ID_BITS)]);
    for (const depth of depths)
      if (depth !== s.depth && depth >= 0 && depth < ID_BITS)
        add(`step ${i}: depth ${s.depth} -> ${depth}`, withStep(p, i, { ...s, depth }));
    // A stated prefix that is not prefix(key, depth) (object form; the JSON form is tamperProofJson).
    add(
      `step ${i}: stated prefix bit`,
      withStep(p, i, { ...s, prefix: flipBit(prefix(p.key, s.depth), r(ID_BITS)) }),
    );
    add(`drop step ${i}`, { ...p, path: p.path.filter((_, j) => j !== i) });
    add(`duplicate step ${i}`, { ...p, path: [...p.path.slice(0, i + 1), ...p.path.slice(i)] });
    if (i + 1 < n) {
      const path = [...p.path];
      [path[i], path[i + 1]] = [path[i + 1]!, path[i]!];
      add(`swap steps ${i} and ${i + 1}`, { ...p, path });
    }
  });
  if (n >= 2) add("reversed path", { ...p, path: [...p.path].reverse() });
  // A fabricated step at a free depth, keeping depths increasing; its sibling a random summary.
  const lastDepth = n > 0 ? p.path[n - 1]!.depth : -1;
  const bounds = [
    -1,
    ...p.path.map((s) => s.depth),
    p.terminal?.kind === "node" ? p.terminal.depth : ID_BITS,
  ];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    const hi = bounds[i + 1]!;
    if (hi - lo < 2) continue;
    const depth = lo + 1 + r(hi - lo - 1);
    const step: ProofStep = {
      depth,
      sibling: { hash: randomBytes(32, r), sum: BigInt(r(1000)), count: 1 + r(5) },
    };
    add(`insert a step at depth ${depth}`, { ...p, path: [...p.path.slice(0, i), step, ...p.path.slice(i)] });
    break;
  }
  if (n > 0) {
    const copy = p.path[r(n)]!;
    add("insert a copy of a sibling at the end", {
      ...p,
      path: [...p.path, { depth: Math.min(lastDepth + 1, ID_BITS - 1), sibling: copy.sibling }],
    });
  }
  const t = p.terminal;
  // Cut the path at step i and end it with the true summary of the node at step i (which lies ON the
  // key's path, with its true prefix): the walk stopped early, so this shows nothing.
  if (t !== null) {
    let hash: Uint8Array = t.kind === "leaf" ? leafHash(t.id, t.amount, t.dataHash) : t.hash;
    let sum = t.kind === "leaf" ? t.amount : t.sum;
    let count = t.kind === "leaf" ? 1 : t.count;
    for (let i = n - 1; i >= 0; i--) {
      const s = p.path[i]!;
      const self = { sum, count };
      hash =
        bit(p.key, s.depth) === 0
          ? nodeHash(s.depth, p.key, hash, self, s.sibling.hash, s.sibling)
          : nodeHash(s.depth, p.key, s.sibling.hash, s.sibling, hash, self);
      sum += s.sibling.sum;
      count += s.sibling.count;
      add(`cut the path at step ${i} (depth ${s.depth}), its node as the terminal`, {
        ...p,
        path: p.path.slice(0, i),
        terminal: { kind: "node", depth: s.depth, prefix: prefix(p.key, s.depth), hash, sum, count },
      });
    }
  }
  if (t === null) {
    add("terminal: empty -> a leaf", {
      ...p,
      terminal: { kind: "leaf", id: p.key, amount: 0n, dataHash: Buffer.alloc(32) },
    });
    const depth = r(ID_BITS);
    const pre = flipBit(prefix(p.key, depth + 1), depth); // differs from the key at bit `depth`
    add(
      `terminal: empty -> a node at depth ${depth + 1} with the empty summary`,
      {
        ...p,
        terminal: {
          kind: "node",
          depth: depth + 1,
          prefix: prefix(pre, depth + 1),
          hash: Buffer.alloc(32),
          sum: 0n,
          count: 0,
        },
      },
      true,
    );
  } else if (t.kind === "leaf") {
    add("terminal leaf: id bit", { ...p, terminal: { ...t, id: flipRandomBit(t.id, r) } });
    for (const amount of u64Changes(t.amount, r))
      add(`terminal leaf: amount ${t.amount} -> ${amount}`, { ...p, terminal: { ...t, amount } });
    add("terminal leaf: dataHash bit", { ...p, terminal: { ...t, dataHash: flipRandomBit(t.dataHash, r) } });
    add("terminal: leaf -> empty", { ...p, terminal: null });
    // The leaf's own summary presented as an internal node's, at a depth below the last step.
    const depth = lastDepth + 1 + r(ID_BITS - lastDepth - 1);
    add(
      `terminal: leaf -> a node at depth ${depth} with the leaf's summary`,
      {
        ...p,
        terminal: {
          kind: "node",
          depth,
          prefix: prefix(t.id, depth),
          hash: leafHash(t.id, t.amount, t.dataHash),
          sum: t.amount,
          count: 1,
        },
      },
      true,
    );
  } else {
    for (const depth of new Set([t.depth + 1, t.depth - 1, r(ID_BITS)]))
      if (depth !== t.depth && depth >= 0 && depth < ID_BITS)
        add(
          `terminal node: depth ${t.depth} -> ${depth}`,
          { ...p, terminal: { ...t, depth, prefix: prefix(t.prefix, depth) } },
          true,
        );
    if (t.depth > 0) {
      const i = r(t.depth);
      add(`terminal node: prefix bit ${i}`, { ...p, terminal: { ...t, prefix: flipBit(t.prefix, i) } }, true);
    }
    add("terminal node: prefix bit past its depth", {
      ...p,
      terminal: { ...t, prefix: flipBit(t.prefix, t.depth + r(ID_BITS - t.depth)) },
    });
    add("terminal node: hash bit", { ...p, terminal: { ...t, hash: flipRandomBit(t.hash, r) } });
    for (const sum of u64Changes(t.sum, r))
      add(`terminal node: sum ${t.sum} -> ${sum}`, { ...p, terminal: { ...t, sum } });
    for (const count of countChanges(t.count))
      add(`terminal node: count ${t.count} -> ${count}`, { ...p, terminal: { ...t, count } });
    add("terminal: node -> empty", { ...p, terminal: null });
    add("terminal: node -> a leaf", {
      ...p,
      terminal: { kind: "leaf", id: t.prefix, amount: t.sum, dataHash: Buffer.from(t.hash) },
    });
  }
  return out;
}

/** Changes of each step's stated prefix in the JSON form: a bit before the depth, and one after. */
export function tamperProofJson(j: ProofJson, r: Rand): Tampering<ProofJson>[] {
  const out: Tampering<ProofJson>[] = [];
  j.path.forEach((s, i) => {
    const pre = Buffer.from(s.prefix ?? "", "hex");
    const bits: number[] = [];
    if (s.depth > 0) bits.push(r(s.depth));
    bits.push(s.depth + r(ID_BITS - s.depth));
    for (const b of bits) {
      const path = j.path.map((x, k) => (k === i ? { ...x, prefix: flipBit(pre, b).toString("hex") } : x));
      out.push({ what: `JSON step ${i} (depth ${s.depth}): prefix bit ${b}`, value: { ...j, path } });
    }
  });
  return out;
}

/** Single-field changes of a root synopsis. */
export function tamperSummary(s: Summary, r: Rand): Tampering<Summary>[] {
  const out: Tampering<Summary>[] = [
    { what: "root hash bit", value: { ...s, hash: flipRandomBit(s.hash, r) } },
  ];
  for (const sum of u64Changes(s.sum, r))
    out.push({ what: `root sum ${s.sum} -> ${sum}`, value: { ...s, sum } });
  for (const count of countChanges(s.count))
    out.push({ what: `root count ${s.count} -> ${count}`, value: { ...s, count } });
  return out;
}

/** One to four random edits of a byte string: bit flips, byte sets, cuts, inserts, duplications, widened varints. */
export function mutateBytes(b: Uint8Array, r: Rand): Buffer {
  let x: Buffer = Buffer.from(b);
  const edits = 1 + r(4);
  for (let e = 0; e < edits; e++) {
    const at = r(x.length + 1);
    switch (r(9)) {
      case 0:
      case 1:
        if (x.length > 0) x = flipRandomBit(x, r);
        break;
      case 2:
        if (at < x.length) x[at] = [0x00, 0xff, 0x80, 0x7f, 0x01, 0x02, 0x03, r(256)][r(8)]!;
        break;
      case 3:
        x = x.subarray(0, at);
        break;
      case 4:
        x = Buffer.concat([x.subarray(0, at), x.subarray(Math.min(x.length, at + 1 + r(40)))]);
        break;
      case 5:
        x = Buffer.concat([x.subarray(0, at), randomBytes(1 + r(40), r), x.subarray(at)]);
        break;
      case 6: {
        const from = r(x.length + 1);
        const piece = x.subarray(from, from + 1 + r(60));
        x = Buffer.concat([x.subarray(0, at), piece, x.subarray(at)]);
        break;
      }
      case 7:
        // Widen a byte into a non-minimal varint: set its continuation bit and follow it with 0x00.
        if (at < x.length)
          x = Buffer.concat([x.subarray(0, at), Buffer.from([x[at]! | 0x80, 0]), x.subarray(at + 1)]);
        break;
      default:
        x = Buffer.concat([x, randomBytes(1 + r(20), r)]);
    }
  }
  return Buffer.from(x);
}
