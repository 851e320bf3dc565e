/**
 * Benchmark worker: Leither's versioned tree on LevelDB. Run by bench/tree.ts in its own process
 * (so peak RSS is its own); prints progress to stderr and one JSON line of figures last.
 */
import "../src/polyfill.js";
import { hash } from "node:crypto";
import { LevelKV } from "../src/ledger/level-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { hashCount } from "../src/smt/hash.js";
import { decodeProof, encodeProof } from "../src/smt/proof.js";
import type { LeafOp } from "../src/smt/tree.js";
import { verifyProof } from "../src/smt/verify.js";
import { benchDataHash, benchId, dirBytes, peakRssMb, perSec, treeBenchFlags } from "./common.js";

const { n, batch, updates, proofs, seed, dir } = treeBenchFlags(process.argv.slice(2), 20_000);
if (dir === undefined) {
  console.error("--dir is required");
  process.exit(2);
}
const log = (s: string) => process.stderr.write(`[leither] ${s}\n`);

/** Deterministic pseudo-random index below n for draw j. */
const pick = (j: number) => benchId(seed + 7, j).readUInt32BE(0) % n;

const opts = { retention: { keepLast: 1 }, sync: true };
let t = await VersionedTree.open(await LevelKV.open(dir), opts);
let pulse = 0;

// Inserts: N ids in batches of `batch`, one pulse each.
let pagesWrittenInsert = 0;
let insertMs = 0;
for (let i = 0; i < n; i += batch) {
  const ops: LeafOp[] = [];
  for (let j = i; j < Math.min(n, i + batch); j++)
    ops.push({ id: benchId(seed, j), leaf: { amount: BigInt(j + 1), dataHash: benchDataHash(j, 0) } });
  const c0 = performance.now();
  const r = await t.commit(pulse++, ops);
  insertMs += performance.now() - c0;
  pagesWrittenInsert += r.pagesWritten;
  // A node prunes as it goes (here: keep one pulse); not part of the insert time.
  await t.pruneAll();
  if ((i / batch) % 10 === 0) log(`inserted ${i + ops.length}/${n}, peak RSS ${Math.round(peakRssMb())} MB`);
}
let t0 = 0;
log(`after inserts and pruning: peak RSS ${Math.round(peakRssMb())} MB`);

// Updates: batches of `updates` random existing accounts (amount and data change).
const rounds = 5;
let updMs = 0;
let updHashes = 0;
let updPages = 0;
for (let r = 1; r <= rounds; r++) {
  const ops: LeafOp[] = [];
  for (let j = 0; j < updates; j++) {
    const i = pick(r * updates + j);
    ops.push({ id: benchId(seed, i), leaf: { amount: BigInt(i + 1 + r), dataHash: benchDataHash(i, r) } });
  }
  const h0 = hashCount();
  t0 = performance.now();
  const res = await t.commit(pulse++, ops);
  updMs += performance.now() - t0;
  updHashes += hashCount() - h0;
  updPages += res.pagesWritten;
  await t.pruneAll();
}
const updatesPerSec = perSec(updates * rounds, updMs);
const hashesPerUpdate = updHashes / (updates * rounds);
log(
  `updates: ${updatesPerSec}/s, ${hashesPerUpdate.toFixed(2)} hashes and ${(updPages / rounds).toFixed(0)} pages per batch`,
);

// Cost of a pulse by the number of accounts k it changes: pages written (O(k log n), never O(n)).
const pagesByK: Record<string, number> = {};
for (const k of [1, 10, 100, 1000]) {
  const ops: LeafOp[] = [];
  for (let j = 0; j < k; j++) {
    const i = pick(1_000_000 + k * 10 + j);
    ops.push({ id: benchId(seed, i), leaf: { amount: 1n, dataHash: benchDataHash(i, 99) } });
  }
  pagesByK[k] = (await t.commit(pulse++, ops)).pagesWritten;
}
await t.pruneAll();

log(`after updates: peak RSS ${Math.round(peakRssMb())} MB`);

// Proofs from LevelDB with a cold page cache: close and reopen first.
await t.close();
t = await VersionedTree.open(await LevelKV.open(dir), opts);
const root = t.rootAt();
const keys = Array.from({ length: proofs }, (_, j) => benchId(seed, pick(2_000_000 + j)));
const encoded: Buffer[] = new Array(proofs);
t0 = performance.now();
for (let j = 0; j < proofs; j++) encoded[j] = encodeProof(t.prove(keys[j]!));
const proofsPerSec = perSec(proofs, performance.now() - t0);
let proofBytes = 0;
for (const e of encoded) proofBytes += e.length;
t0 = performance.now();
for (let j = 0; j < proofs; j++) {
  const v = verifyProof(decodeProof(encoded[j]!), root);
  if (v.result !== "inclusion") throw new Error(`proof ${j} did not verify: ${JSON.stringify(v)}`);
}
const verifiesPerSec = perSec(proofs, performance.now() - t0);

// The hashing limit: SHA-256 calls/s on an internal node's 118 bytes, here, now, called as the tree
// calls it (a latin1 string result; a Buffer result is about 3x slower).
const buf = Buffer.alloc(118, 7);
const hN = 300_000;
t0 = performance.now();
for (let j = 0; j < hN; j++) hash("sha256", buf, "binary");
const shaPerSec = perSec(hN, performance.now() - t0);

await t.pruneAll();
await t.compact();
await t.close();
const diskMb = dirBytes(dir) / 1e6;

console.log(
  JSON.stringify({
    impl: "leither",
    n,
    insertsPerSec: perSec(n, insertMs),
    updatesPerSec,
    proofsPerSec,
    verifiesPerSec,
    proofBytes: Math.round(proofBytes / proofs),
    peakRssMb: Math.round(peakRssMb()),
    diskMb: Math.round(diskMb * 10) / 10,
    hashesPerUpdate: Math.round(hashesPerUpdate * 100) / 100,
    shaPerSec,
    pagesPerInsertBatch: Math.round(pagesWrittenInsert / Math.ceil(n / batch)),
    pagesPerUpdateBatch: Math.round(updPages / rounds),
    pagesByK,
  }),
);
