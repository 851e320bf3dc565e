/**
 * `npm run bench:ledger`: a bookkeeper's pulse at scale. A LevelDB ledger of `--accounts N` accounts
 * (default 1,000,000) takes pulses of `--batch B` transfers (default 10,000), each signed by payer
 * and payee: decode, verify (worker pool over every core), apply, persist (fsync). `--pulses P`
 * (default 10) one after another, then P more pipelined (the next pulse verified while the current
 * one applies and commits, as a bookkeeper runs).
 * In the same run it measures the machine's limit: node:crypto ed25519 verifications/s on one core,
 * x cores, / 2 signatures a transfer. Setup (keys, signatures, the accounts) is not timed.
 * The last line printed is one JSON object of the figures.
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { VerifyPool } from "../src/crypto/verify-pool.js";
import { accountDataHash, encodeAccountData, freshAccountData } from "../src/ledger/account.js";
import { dataKey } from "../src/ledger/keys.js";
import { Ledger, type PulseOutcome } from "../src/ledger/ledger.js";
import { LevelKV } from "../src/ledger/level-kv.js";
import { VersionedTree } from "../src/ledger/store.js";
import { TxKind } from "../src/ledger/tx.js";
import { signTx } from "../src/ledger/tx-codec.js";
import type { LeafOp } from "../src/smt/tree.js";
import {
  benchId,
  benchSeed,
  dirBytes,
  intFlag,
  parseFlags,
  peakRssMb,
  perSec,
  verifyLimit,
} from "./common.js";

const flags = parseFlags(process.argv.slice(2));
const accounts = intFlag(flags, "accounts", 1_000_000);
const pulses = intFlag(flags, "pulses", 10);
const batch = intFlag(flags, "batch", 10_000);
const threads = intFlag(flags, "threads", availableParallelism());
const active = Math.min(accounts - 2, intFlag(flags, "active", 2 * batch));
if (active < 2 || batch < 1 || pulses < 1) {
  console.error("need --accounts >= 4, --batch >= 1 and --pulses >= 1");
  process.exit(2);
}
const log = (s: string) => process.stderr.write(`[ledger] ${s}\n`);

const keySeed = (i: number) => benchSeed(91, i);

// 1. The machine's limit: one core's node:crypto verifications/s on a transfer-sized message.
const { perCore, cores, transfersPerSec: verifyLimitPerSec } = verifyLimit(2000);
log(`limit: ${perCore} verifications/s on one core x ${cores} cores / 2 = ${verifyLimitPerSec} transfers/s`);

// 2. Keys of the active accounts (the rest hold funds but never sign).
const k0 = performance.now();
const signers = Array.from({ length: active }, (_, i) => new Signer(generateKeyPair(keySeed(i))));
const org = new Signer(generateKeyPair(keySeed(2_000_000)));
const supervisor = signers[0]!;
log(`${active} key pairs in ${Math.round(performance.now() - k0)} ms`);

const dir = flags.get("dir") ?? mkdtempSync(join(tmpdir(), "leither-bench-ledger-"));
const pool = new VerifyPool({ threads });
const ledgerOpts = {
  verifier: pool,
  retention: { keepLast: 2 },
  cacheBytes: intFlag(flags, "cache-mb", 64) * 1024 * 1024,
  accountCacheBytes: intFlag(flags, "account-cache-mb", 32) * 1024 * 1024,
};
let ledger = await Ledger.open(await LevelKV.open(dir), ledgerOpts);
let pulse = 1;
const filler = accounts - active - 1; // minus the organization's own account
const perAccount = 1_000_000n;
const supply = perAccount * BigInt(accounts);
const params = {
  name: "bench",
  supervisor: supervisor.id,
  pulsePeriodMs: 1000,
  electionCycle: 1800,
  publicityPeriod: 86_400,
  committeeSize: 4,
  minDeposit: 1000n,
  supply,
  distribution: [],
  committee: [],
};
const genesis = signTx({ kind: TxKind.Genesis, org: org.id, params }, [org]);
await ledger.applyPulse(pulse++, [genesis.bytes], { proofs: false });
const orgHash = accountDataHash(encodeAccountData(ledger.account(org.id)!));
await ledger.close();

// 3. Accounts that never sign: imported in bulk from the organization's account (not timed; a real
// ledger gets them by distributions and transfers), in one commit per 100,000, written to the tree
// directly while no Ledger has the store open.
const i0 = performance.now();
const tree = await VersionedTree.open(await LevelKV.open(dir), { retention: { keepLast: 1 } });
const fresh = encodeAccountData(freshAccountData(pulse));
const freshHash = accountDataHash(fresh);
let orgAmount = supply;
for (let i = 0; i < filler; i += 100_000) {
  const ops: LeafOp[] = [];
  const puts: { key: Buffer; value: Buffer }[] = [];
  for (let j = i; j < Math.min(filler, i + 100_000); j++) {
    const id = benchId(17, j);
    ops.push({ id, leaf: { amount: perAccount, dataHash: freshHash } });
    puts.push({ key: dataKey(id, freshHash), value: fresh });
    orgAmount -= perAccount;
  }
  ops.push({ id: org.id, leaf: { amount: orgAmount, dataHash: orgHash } });
  await tree.commit(pulse++, ops, { puts, expectSum: supply });
  log(`imported ${Math.min(filler, i + 100_000)}/${filler} accounts`);
}
await tree.pruneAll();
await tree.close();
ledger = await Ledger.open(await LevelKV.open(dir), ledgerOpts);
log(`import: ${Math.round(performance.now() - i0)} ms`);

// 4. Fund the active accounts with real distributions signed by the supervisor.
const nonces = new Array<bigint>(active).fill(0n);
for (let i = 0; i < active; i += batch) {
  const txs: Buffer[] = [];
  for (let j = i; j < Math.min(active, i + batch); j++) {
    const body = {
      kind: TxKind.Distribute,
      org: org.id,
      actor: supervisor.id,
      nonce: ++nonces[0]!,
      expiry: 1e9,
      to: signers[j]!.id,
      amount: perAccount,
      category: 4,
      reason: "bench",
    } as const;
    txs.push(signTx(body, [supervisor]).bytes);
  }
  const o = await ledger.applyPulse(pulse++, txs, { proofs: false });
  const bad = o.results.filter((r) => !r.ok).length;
  if (bad > 0) throw new Error(`${bad} distributions rejected`);
}
log(`funded ${active} active accounts; root count ${ledger.rootAt().count}`);

// 5. Pre-sign every pulse's transfers (not timed: payers and payees sign on their own machines).
const s0 = performance.now();
const work: Buffer[][] = [];
let draw = 0;
const rand = (n: number) => benchId(23, draw++).readUInt32BE(0) % n;
for (let p = 0; p < 2 * pulses; p++) {
  const txs: Buffer[] = [];
  for (let i = 0; i < batch; i++) {
    const a = (p * batch + i) % active;
    let b = rand(active);
    if (b === a) b = (b + 1) % active;
    const payer = signers[a]!;
    const payee = signers[b]!;
    const body = {
      kind: TxKind.Transfer,
      org: org.id,
      actor: payer.id,
      nonce: ++nonces[a]!,
      expiry: 1e9,
      to: payee.id,
      amount: BigInt(1 + rand(100)),
    } as const;
    txs.push(signTx(body, [payer, payee]).bytes);
  }
  work.push(txs);
}
log(`signed ${2 * pulses * batch} transfers (x2) in ${Math.round(performance.now() - s0)} ms`);

// 6. The timed pulses (with --cpu-profile FILE, profiled: a .cpuprofile for Chrome DevTools).
const profileFile = flags.get("cpu-profile");
const session = profileFile === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
}
// 6a. One pulse after another: verify, apply, persist.
const times: number[] = [];
/** Apply and persist of each pulse (the state step, without decoding and verification). */
const applyTimes: number[] = [];
const written = { pages: 0, bytes: 0 };
const split = { decode: 0, verify: 0, transition: 0, commit: 0 };
const allAccepted = (o: PulseOutcome) => {
  const bad = o.results.filter((r) => !r.ok);
  if (bad.length > 0) throw new Error(`${bad.length} transfers rejected, first: ${JSON.stringify(bad[0])}`);
};
for (const txs of work.slice(0, pulses)) {
  const t0 = performance.now();
  const o = await ledger.applyPulse(pulse++, txs, { proofs: false });
  times.push(performance.now() - t0);
  for (const k of Object.keys(split) as (keyof typeof split)[]) split[k] += o.timings[k];
  applyTimes.push(o.timings.transition + o.timings.commit);
  written.pages += o.pagesWritten;
  written.bytes += o.bytesWritten;
  allAccepted(o);
  await ledger.pruneAll();
}
// 6b. Pipelined: the next pulse's signatures are verified (Ledger.check) while the current pulse
// applies and commits. It pays where a core is free; on 2 cores the workers already use both.
const piped = work.slice(pulses);
const p0 = performance.now();
let next = ledger.check(piped[0]!);
for (let i = 0; i < piped.length; i++) {
  const cur = await next;
  if (i + 1 < piped.length) next = ledger.check(piped[i + 1]!);
  allAccepted(await ledger.applyPulse(pulse++, cur, { proofs: false }));
  await ledger.pruneAll();
}
const pipelinedTransfersPerSec = perSec(pulses * batch, performance.now() - p0);
if (session !== undefined) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(profileFile!, JSON.stringify(profile));
  session.disconnect();
}
const total = times.reduce((a, b) => a + b, 0);
const p99 = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!);
};
const p99PulseMs = p99(times);
const p99ApplyMs = p99(applyTimes);
const transfersPerSec = perSec(pulses * batch, total);
const ms = (x: number) => Math.round(x / pulses);
log(
  `per pulse: decode ${ms(split.decode)} ms, verify ${ms(split.verify)} ms, apply ${ms(split.transition)} ms, commit ${ms(split.commit)} ms`,
);
await pool.close();
await ledger.close();
const diskMb = Math.round(dirBytes(dir) / 1e5) / 10;
if (!flags.has("dir")) rmSync(dir, { recursive: true, force: true });

const figures = {
  bench: "ledger",
  accounts,
  batch,
  pulses,
  threads,
  transfersPerSec,
  p99PulseMs,
  meanPulseMs: Math.round(total / pulses),
  verifyMsPerPulse: ms(split.verify),
  applyMsPerPulse: ms(split.transition),
  commitMsPerPulse: ms(split.commit),
  pagesPerPulse: Math.round(written.pages / pulses),
  mbWrittenPerPulse: Math.round(written.bytes / pulses / 1e5) / 10,
  verifyPerCorePerSec: perCore,
  cores,
  verifyLimitPerSec,
  limitShare: Math.round((transfersPerSec / verifyLimitPerSec) * 1000) / 1000,
  pipelinedTransfersPerSec,
  pipelinedLimitShare: Math.round((pipelinedTransfersPerSec / verifyLimitPerSec) * 1000) / 1000,
  p99ApplyMs,
  peakRssMb: Math.round(peakRssMb()),
  diskMb,
};
console.log(`\n${"figure".padEnd(40)}value`);
for (const [k, v] of Object.entries(figures)) if (k !== "bench") console.log(`${k.padEnd(40)}${v}`);
console.log(
  `goals: >= 10,000 transfers/s (${Math.max(transfersPerSec, pipelinedTransfersPerSec) >= 10_000 ? "met" : "not met"}), p99 apply of a pulse <= 1000 ms (${p99ApplyMs <= 1000 ? "met" : "not met"})`,
);
console.log(JSON.stringify(figures));
