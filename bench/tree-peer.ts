import "../src/polyfill.js";
/**
 * Comparison peer for the sparse Merkle tree benchmark: @ethereumjs/trie v6 (a Merkle Patricia Trie)
 * persisted to LevelDB through classic-level, run on the same workload as our tree.
 *
 *   node dist/bench/tree-peer.js --n 100000 --batch 10000 --updates 10000 --proofs 2000 --dir /tmp/x --seed 1
 *
 * Optional `--mode checkpoint|direct` (default checkpoint): how one pulse is applied, see applyPulse.
 * Progress goes to stderr; the last stdout line is one JSON object with the figures.
 * `--dir` must be missing or empty; it is left in place afterwards (the caller owns it).
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Proof } from "@ethereumjs/trie";
import { Trie } from "@ethereumjs/trie";
import type { BatchDBOp, DB, EncodingOpts } from "@ethereumjs/util";
// @ethereumjs/util comes in with @ethereumjs/trie (its own dependency); only the encoding enum is used.
import { ValueEncoding } from "@ethereumjs/util";
import { ClassicLevel } from "classic-level";
import { benchDataHash, benchId, dirBytes, peakRssMb, perSec, treeBenchFlags } from "./common.js";

type Level = ClassicLevel<Buffer, Buffer>;

/**
 * The DB interface @ethereumjs/trie v6 expects (`DB<string, string | Uint8Array>` from @ethereumjs/util),
 * over classic-level. The trie's CheckpointDB always hands us keys as unprefixed hex strings of the
 * 32-byte node hashes; we store them as raw bytes (32 B instead of 64 B of hex), so the disk figure
 * measures the trie, not the hex encoding. Values arrive as bytes (we open the trie with
 * ValueEncoding.Bytes); hex-string values are accepted too, for completeness.
 */
class LevelTrieDB implements DB<string, string | Uint8Array> {
  /** LevelDB write operations issued (node puts and deletes), for the progress lines. */
  writes = 0;

  constructor(readonly level: Level) {}

  async open(): Promise<void> {
    await this.level.open();
  }

  async get(key: string, opts?: EncodingOpts): Promise<string | Uint8Array | undefined> {
    // getSync skips the libuv thread-pool round trip of get(); the trie awaits every node read
    // one after another anyway, so nothing is lost by not overlapping them.
    const v = this.level.getSync(hexKey(key));
    if (v === undefined) return undefined;
    return opts?.valueEncoding === ValueEncoding.Bytes ? v : v.toString("hex");
  }

  async put(key: string, val: string | Uint8Array): Promise<void> {
    this.writes++;
    await this.level.put(hexKey(key), toBuffer(val));
  }

  async del(key: string): Promise<void> {
    this.writes++;
    await this.level.del(hexKey(key));
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    this.writes += ops.length;
    await this.level.batch(
      ops.map((op) =>
        op.type === "put"
          ? { type: "put" as const, key: hexKey(op.key), value: toBuffer(op.value) }
          : { type: "del" as const, key: hexKey(op.key) },
      ),
    );
  }

  shallowCopy(): LevelTrieDB {
    return new LevelTrieDB(this.level);
  }

  async close(): Promise<void> {
    await this.level.close();
  }
}

/** A trie DB key (unprefixed hex) as raw bytes. */
function hexKey(key: string): Buffer {
  return Buffer.from(key, "hex");
}

/** A value as a Buffer without copying; hex strings only appear with ValueEncoding.String. */
function toBuffer(v: string | Uint8Array): Buffer {
  return typeof v === "string" ? Buffer.from(v, "hex") : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Account value: 8-byte big-endian amount followed by the 32-byte data hash of round r (40 bytes). */
function accountValue(i: number, r: number): Buffer {
  const v = Buffer.allocUnsafe(40);
  v.writeBigUInt64BE(BigInt(i + 1 + r), 0);
  benchDataHash(i, r).copy(v, 8);
  return v;
}

/** Deterministic pseudo-random index below n: the j-th id of another seed read as a u32. */
function pickIndex(seed: number, j: number, n: number): number {
  return benchId(seed, j).readUInt32BE(0) % n;
}

/**
 * Applies one pulse of puts and returns once it is in LevelDB.
 * - checkpoint: trie.checkpoint(), trie.batch(), trie.commit(). Nodes collect in the checkpoint's
 *   in-memory map and commit() writes them in one LevelDB batch: the documented way to group writes
 *   (what the ethereumjs state manager does per block).
 * - direct: trie.batch() alone; it is a loop of trie.put(), each writing its changed path straight
 *   through to LevelDB as its own small batch.
 */
async function applyPulse(trie: Trie, ops: BatchDBOp[], mode: string): Promise<void> {
  if (mode === "direct") {
    await trie.batch(ops);
    return;
  }
  trie.checkpoint();
  await trie.batch(ops);
  await trie.commit();
}

/** Operations per second, or 0 when the phase had nothing to do (avoids 0/0 in the JSON). */
function rate(count: number, ms: number): number {
  return count > 0 ? perSec(count, ms) : 0;
}

function openLevel(dir: string): Level {
  return new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
}

function log(msg: string): void {
  console.error(`[tree-peer] ${msg}`);
}

const {
  n,
  batch: batchSize,
  updates,
  proofs,
  seed,
  dir: dirFlag,
  flags,
} = treeBenchFlags(process.argv.slice(2), 2_000);
const dir = dirFlag ?? join(tmpdir(), `tree-peer-${process.pid}`);
const mode = flags.get("mode") ?? "checkpoint";
if (mode !== "checkpoint" && mode !== "direct") {
  console.error(`--mode must be checkpoint or direct, got ${JSON.stringify(mode)}`);
  process.exit(2);
}
if (n < 1 || batchSize < 1) {
  console.error("--n and --batch must be at least 1");
  process.exit(2);
}
// Old data would skew every figure; refuse rather than delete a folder we were handed.
if (existsSync(dir) && readdirSync(dir).length > 0) {
  console.error(`--dir ${dir} is not empty; give a fresh folder`);
  process.exit(2);
}

const db = new LevelTrieDB(openLevel(dir));
await db.open();
// Defaults kept: no key hashing (ids are already random 20-byte values, so hashing them again would
// only cost time), no node pruning (stale nodes stay on disk), no node cache, no root persistence.
// ValueEncoding.Bytes is the one non-default: it stores node bytes instead of hex strings.
const trie = await Trie.create({ db, valueEncoding: ValueEncoding.Bytes, useKeyHashing: false });
log(`n=${n} batch=${batchSize} updates=${updates} proofs=${proofs} seed=${seed} mode=${mode} dir=${dir}`);

// Inserts: only the trie work is timed; ids and values for a pulse are built before its clock starts.
let insertMs = 0;
for (let start = 0; start < n; start += batchSize) {
  const end = Math.min(n, start + batchSize);
  const ops: BatchDBOp[] = [];
  for (let i = start; i < end; i++) {
    ops.push({ type: "put", key: benchId(seed, i), value: accountValue(i, 0) });
  }
  const t0 = performance.now();
  await applyPulse(trie, ops, mode);
  insertMs += performance.now() - t0;
  log(`inserted ${end}/${n} (${perSec(end, insertMs)}/s, ${db.writes} node writes)`);
}

// Updates: one pulse over pseudo-random existing ids; round 1 changes both amount and data hash.
const round = new Map<number, number>();
const updateOps: BatchDBOp[] = [];
for (let j = 0; j < updates; j++) {
  const i = pickIndex(seed + 7, j, n);
  round.set(i, 1);
  updateOps.push({ type: "put", key: benchId(seed, i), value: accountValue(i, 1) });
}
const tu = performance.now();
if (updates > 0) await applyPulse(trie, updateOps, mode);
const updateMs = performance.now() - tu;
log(`updated ${updates} (${rate(updates, updateMs)}/s)`);

// Proofs: created from the LevelDB-backed trie, then verified against the root alone.
const root = trie.root();
const proofIdx = Array.from({ length: proofs }, (_, j) => pickIndex(seed + 11, j, n));
const proofKeys = proofIdx.map((i) => benchId(seed, i));
const expected = proofIdx.map((i) => accountValue(i, round.get(i) ?? 0));
const proofList: Proof[] = [];
const tp = performance.now();
for (const key of proofKeys) proofList.push(await trie.createProof(key));
const proofMs = performance.now() - tp;
let proofTotal = 0;
for (const p of proofList) for (const node of p) proofTotal += node.length;
log(`proved ${proofs} (${rate(proofs, proofMs)}/s, ${proofs ? Math.round(proofTotal / proofs) : 0} B avg)`);

// The instance verifyProof(root, key, proof) checks the first node hashes to `root`; the static
// Trie.verifyProof(key, proof) takes no root and would accept a proof of any trie.
const tv = performance.now();
for (let j = 0; j < proofs; j++) {
  const v = await trie.verifyProof(root, proofKeys[j]!, proofList[j]!);
  if (v === null || !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(expected[j]!)) {
    throw new Error(`proof ${j} (index ${proofIdx[j]}) verified to the wrong value`);
  }
}
const verifyMs = performance.now() - tv;
log(`verified ${proofs} (${rate(proofs, verifyMs)}/s)`);

await db.close();

// Reopen: check a few values through a fresh trie at the same root (proves the data reached
// LevelDB, not only a cache), then compact everything so diskMb is not inflated by log files.
const level = openLevel(dir);
await level.open();
const reopened = await Trie.create({ db: new LevelTrieDB(level), valueEncoding: ValueEncoding.Bytes, root });
for (let j = 0; j < Math.min(proofs, 10); j++) {
  const v = await reopened.get(proofKeys[j]!);
  if (v === null || !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(expected[j]!)) {
    throw new Error(`reopened trie: index ${proofIdx[j]} has the wrong value`);
  }
}
// Node keys are 32-byte hashes, so [empty, 33 x 0xff) covers every key.
await level.compactRange(Buffer.alloc(0), Buffer.alloc(33, 0xff));
await level.close();
const diskMb = dirBytes(dir) / 1e6;
log(`disk ${diskMb.toFixed(2)} MB after compaction`);

console.log(
  JSON.stringify({
    impl: "ethereumjs",
    n,
    insertsPerSec: rate(n, insertMs),
    updatesPerSec: rate(updates, updateMs),
    proofsPerSec: rate(proofs, proofMs),
    verifiesPerSec: rate(proofs, verifyMs),
    proofBytes: proofs ? Math.round(proofTotal / proofs) : 0,
    peakRssMb: Math.round(peakRssMb() * 10) / 10,
    diskMb: Math.round(diskMb * 100) / 100,
  }),
);
