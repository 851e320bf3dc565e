/**
 * Proof shapes and their two encodings: the JSON of SPEC-smt.md's vectors, and the compact binary
 * form of docs/PROTOCOL.md ("Tree proof v1"), which leaves out each step's prefix because the
 * verifier derives it from the key and the depth.
 */
import { DecodeError, Reader, Writer } from "../util/bytes.js";
import { ID_BITS, ID_BYTES, isPrefixCanonical, prefix } from "./bits.js";
import { MAX_U64, nodeHash, type Summary } from "./hash.js";

/** One internal node on the path from the root: its depth and the summary of the child off the path. */
export interface ProofStep {
  readonly depth: number;
  /** The node's prefix as a JSON proof states it; checked by the verifier when present. */
  readonly prefix?: Uint8Array;
  readonly sibling: Summary;
}

/** Where the walk ends: a leaf, an internal node off the key's path, or nothing (empty tree). */
export type ProofTerminal =
  | { readonly kind: "leaf"; readonly id: Uint8Array; readonly amount: bigint; readonly dataHash: Uint8Array }
  | {
      readonly kind: "node";
      readonly depth: number;
      readonly prefix: Uint8Array;
      readonly hash: Uint8Array;
      readonly sum: bigint;
      readonly count: number;
      /**
       * The node's two child summaries. SPEC-smt.md's terminal is a bare summary, which leaves its depth
       * and prefix unbound by any hash (a forged exclusion proof for a present key would verify); with
       * the children, the verifier recomputes the node's hash from (depth, prefix, L, R) and binds them.
       */
      readonly children?: readonly [Summary, Summary];
    }
  | null;

/** A proof for `key` against a root synopsis. */
export interface Proof {
  readonly key: Uint8Array;
  readonly path: readonly ProofStep[];
  readonly terminal: ProofTerminal;
}

/** Format version byte of the binary proof encoding. */
export const PROOF_FORMAT_V1 = 1;

const T_EMPTY = 0;
const T_LEAF_SELF = 1;
const T_LEAF_OTHER = 2;
const T_NODE = 3;

/** Encodes a proof in the compact binary format (docs/PROTOCOL.md, "Tree proof v1"). */
export function encodeProof(p: Proof): Buffer {
  const w = new Writer(64 + p.path.length * 48);
  w.u8(PROOF_FORMAT_V1).bytes(p.key).u8(p.path.length);
  for (const s of p.path) w.u8(s.depth).bytes(s.sibling.hash).uvarint(s.sibling.sum).uvarint(s.sibling.count);
  const t = p.terminal;
  if (t === null) w.u8(T_EMPTY);
  else if (t.kind === "leaf") {
    if (Buffer.compare(t.id, p.key) === 0) w.u8(T_LEAF_SELF);
    else w.u8(T_LEAF_OTHER).bytes(t.id);
    w.uvarint(t.amount).bytes(t.dataHash);
  } else {
    // The node's own summary is not shipped: the decoder recomputes it from the children.
    if (t.children === undefined)
      throw new TypeError("a node terminal needs its children summaries to be encoded");
    w.u8(T_NODE)
      .u8(t.depth)
      .bytes(t.prefix.subarray(0, Math.ceil(t.depth / 8)));
    for (const c of t.children) w.bytes(c.hash).uvarint(c.sum).uvarint(c.count);
  }
  return w.finish();
}

/** Decodes a binary proof; throws DecodeError on anything but one canonical encoding. */
export function decodeProof(bytes: Uint8Array): Proof {
  const r = new Reader(bytes);
  const version = r.u8("version");
  if (version !== PROOF_FORMAT_V1) throw new DecodeError(`unknown proof format ${version}`);
  const key = Buffer.from(r.bytes(ID_BYTES, "key"));
  const n = r.u8("path length");
  if (n > ID_BITS) throw new DecodeError(`path of ${n} steps is longer than ${ID_BITS}`);
  const path: ProofStep[] = [];
  for (let i = 0; i < n; i++) {
    const depth = r.u8("depth");
    if (depth >= ID_BITS) throw new DecodeError(`step depth ${depth} out of range`);
    const hash = r.bytes(32, "sibling hash"); // a view: the caller's proof bytes are not copied
    const sum = r.uvarint("sibling sum");
    const count = r.uvarintNumber("sibling count");
    path.push({ depth, sibling: { hash, sum, count } });
  }
  let terminal: ProofTerminal;
  const tag = r.u8("terminal");
  if (tag === T_EMPTY) terminal = null;
  else if (tag === T_LEAF_SELF || tag === T_LEAF_OTHER) {
    const id = tag === T_LEAF_SELF ? key : Buffer.from(r.bytes(ID_BYTES, "leaf id"));
    if (tag === T_LEAF_OTHER && Buffer.compare(id, key) === 0)
      throw new DecodeError("leaf id equals the key: use tag 1");
    const amount = r.uvarint("amount");
    const dataHash = Buffer.from(r.bytes(32, "data hash"));
    terminal = { kind: "leaf", id, amount, dataHash };
  } else if (tag === T_NODE) {
    const depth = r.u8("node depth");
    if (depth >= ID_BITS) throw new DecodeError(`node depth ${depth} out of range`);
    const prefix = Buffer.alloc(ID_BYTES);
    prefix.set(r.bytes(Math.ceil(depth / 8), "node prefix"));
    if (!isPrefixCanonical(prefix, depth))
      throw new DecodeError("node prefix has bits set at or after its depth");
    const readChild = (what: string): Summary => ({
      hash: Buffer.from(r.bytes(32, `${what} hash`)),
      sum: r.uvarint(`${what} sum`),
      count: r.uvarintNumber(`${what} count`),
    });
    const l = readChild("left child");
    const rc = readChild("right child");
    const sum = l.sum + rc.sum;
    if (sum > MAX_U64) throw new DecodeError("node terminal: children sums overflow u64");
    const hash = nodeHash(depth, prefix, l.hash, l, rc.hash, rc);
    terminal = { kind: "node", depth, prefix, hash, sum, count: l.count + rc.count, children: [l, rc] };
  } else throw new DecodeError(`unknown terminal tag ${tag}`);
  r.end("proof");
  return { key, path, terminal };
}

/** The vectors' JSON shape of a proof (hex strings, u64 as decimal strings). */
export interface ProofJson {
  key: string;
  result?: string;
  path: { depth: number; prefix?: string; sibling: { hash: string; sum: string; count: number } }[];
  terminal:
    | { kind: "leaf"; id: string; amount: string; dataHash: string }
    | {
        kind: "node";
        depth: number;
        prefix: string;
        hash: string;
        sum: string;
        count: number;
        left?: SummaryJson;
        right?: SummaryJson;
      }
    | null;
}

/** A summary in JSON. */
export interface SummaryJson {
  hash: string;
  sum: string;
  count: number;
}

/** A summary as JSON (hex hash, decimal sum). */
export const summaryJson = (s: Summary): SummaryJson => ({
  hash: Buffer.from(s.hash).toString("hex"),
  sum: s.sum.toString(),
  count: s.count,
});

/** The summary a SummaryJson stands for (the inverse of summaryJson; the JSON is trusted). */
export const summaryFromJson = (j: SummaryJson): Summary => ({
  hash: Buffer.from(j.hash, "hex"),
  sum: BigInt(j.sum),
  count: j.count,
});

/**
 * Renders a proof as the vectors' JSON, prefixes included. A node terminal's children go in "left"
 * and "right" (an extension of SPEC-smt.md that binds the terminal); `spec: true` leaves them out.
 */
export function proofToJson(p: Proof, opts: { spec?: boolean } = {}): ProofJson {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const t = p.terminal;
  return {
    key: hex(p.key),
    path: p.path.map((s) => ({
      depth: s.depth,
      prefix: hex(prefix(p.key, s.depth)),
      sibling: { hash: hex(s.sibling.hash), sum: s.sibling.sum.toString(), count: s.sibling.count },
    })),
    terminal:
      t === null
        ? null
        : t.kind === "leaf"
          ? { kind: "leaf", id: hex(t.id), amount: t.amount.toString(), dataHash: hex(t.dataHash) }
          : {
              kind: "node",
              depth: t.depth,
              prefix: hex(t.prefix),
              hash: hex(t.hash),
              sum: t.sum.toString(),
              count: t.count,
              ...(t.children !== undefined && !opts.spec
                ? { left: summaryJson(t.children[0]), right: summaryJson(t.children[1]) }
                : {}),
            },
  };
}

/** A JSON value that is not a well-formed proof or leaf: the message names the field. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

/** Parses a hex field of exactly `bytes` bytes. */
export function hexField(v: unknown, bytes: number, field: string): Buffer {
  if (typeof v !== "string" || v.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(v))
    throw new FormatError(
      `${field}: expected ${bytes} bytes as ${bytes * 2} hex digits, got ${JSON.stringify(v)}`,
    );
  return Buffer.from(v, "hex");
}

/** Parses a u64 given as a decimal string (or a safe integer number). */
export function u64Field(v: unknown, field: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== "string" || !/^(0|[1-9][0-9]*)$/.test(v))
    throw new FormatError(`${field}: expected a u64 as a decimal string, got ${JSON.stringify(v)}`);
  const x = BigInt(v);
  if (x > MAX_U64) throw new FormatError(`${field}: ${v} is outside u64`);
  return x;
}

/** Parses a count (a non-negative safe integer, or its decimal string). */
export function countField(v: unknown, field: string): number {
  const x = u64Field(v, field);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${field}: ${x} is too large`);
  return Number(x);
}

function depthField(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= ID_BITS)
    throw new FormatError(`${field}: expected a depth 0..159, got ${JSON.stringify(v)}`);
  return v;
}

function objectField(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new FormatError(`${field}: expected an object`);
  return v as Record<string, unknown>;
}

function summaryField(v: unknown, field: string): Summary {
  const o = objectField(v, field);
  return {
    hash: hexField(o.hash, 32, `${field}.hash`),
    sum: u64Field(o.sum, `${field}.sum`),
    count: countField(o.count, `${field}.count`),
  };
}

/** Parses the vectors' JSON shape of a proof; throws FormatError naming the bad field. */
export function proofFromJson(json: unknown): Proof {
  const o = objectField(json, "proof");
  const key = hexField(o.key, ID_BYTES, "key");
  if (!Array.isArray(o.path)) throw new FormatError("path: expected an array");
  if (o.path.length > ID_BITS) throw new FormatError(`path: more than ${ID_BITS} steps`);
  const path: ProofStep[] = o.path.map((raw, i) => {
    const s = objectField(raw, `path[${i}]`);
    const sib = objectField(s.sibling, `path[${i}].sibling`);
    const step: ProofStep = {
      depth: depthField(s.depth, `path[${i}].depth`),
      sibling: {
        hash: hexField(sib.hash, 32, `path[${i}].sibling.hash`),
        sum: u64Field(sib.sum, `path[${i}].sibling.sum`),
        count: countField(sib.count, `path[${i}].sibling.count`),
      },
    };
    return s.prefix === undefined
      ? step
      : { ...step, prefix: hexField(s.prefix, ID_BYTES, `path[${i}].prefix`) };
  });
  let terminal: ProofTerminal = null;
  if (o.terminal !== null && o.terminal !== undefined) {
    const t = objectField(o.terminal, "terminal");
    if (t.kind === "leaf") {
      terminal = {
        kind: "leaf",
        id: hexField(t.id, ID_BYTES, "terminal.id"),
        amount: u64Field(t.amount, "terminal.amount"),
        dataHash: hexField(t.dataHash, 32, "terminal.dataHash"),
      };
    } else if (t.kind === "node") {
      const node = {
        kind: "node" as const,
        depth: depthField(t.depth, "terminal.depth"),
        prefix: hexField(t.prefix, ID_BYTES, "terminal.prefix"),
        hash: hexField(t.hash, 32, "terminal.hash"),
        sum: u64Field(t.sum, "terminal.sum"),
        count: countField(t.count, "terminal.count"),
      };
      if ((t.left === undefined) !== (t.right === undefined))
        throw new FormatError("terminal: give both children (left and right) or neither");
      terminal =
        t.left === undefined
          ? node
          : {
              ...node,
              children: [summaryField(t.left, "terminal.left"), summaryField(t.right, "terminal.right")],
            };
    } else throw new FormatError(`terminal.kind: expected "leaf" or "node", got ${JSON.stringify(t.kind)}`);
  }
  return { key, path, terminal };
}
