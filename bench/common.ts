/** Helpers shared by the benchmarks: deterministic ids, flags, disk usage, peak RSS. */
import { hash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { signingPayload } from "../src/crypto/domain.js";
import { generateKeyPair, Signer, Verifier } from "../src/crypto/ed25519.js";

/** The i-th benchmark id: the first 20 bytes of SHA-256(seed || u32(i)); same seed, same ids. */
export function benchId(seed: number, i: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(seed >>> 0, 0);
  b.writeUInt32BE(i >>> 0, 4);
  return hash("sha256", b, "buffer").subarray(0, 20);
}

/** A 32-byte key seed from the i-th benchmark id, so runs sign for the same accounts. */
export function benchSeed(seed: number, i: number): Buffer {
  return Buffer.concat([benchId(seed, i), Buffer.alloc(12)]);
}

/** A 32-byte data hash for the i-th account at round r (changes with r so updates really change it). */
export function benchDataHash(i: number, r: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(i >>> 0, 0);
  b.writeUInt32BE(r >>> 0, 4);
  return hash("sha256", b, "buffer");
}

/** Reads `--name value` flags into a map; a bare `--name` is "true". */
export function parseFlags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) out.set(a.slice(2), argv[++i]!);
    else out.set(a.slice(2), "true");
  }
  return out;
}

/** Integer flag with a default; exits with one clear line on a bad value. */
export function intFlag(flags: Map<string, string>, name: string, dflt: number): number {
  const v = flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

/** Total size in bytes of the files below a folder. */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Operations per second, rounded. */
export function perSec(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

/** The flags every tree benchmark worker takes. */
export interface TreeBenchFlags {
  n: number;
  batch: number;
  updates: number;
  proofs: number;
  seed: number;
  dir: string | undefined;
  flags: Map<string, string>;
}

/** Reads a tree worker's flags: --n, --batch, --updates, --proofs (default `proofs`), --seed, --dir. */
export function treeBenchFlags(argv: string[], proofs: number): TreeBenchFlags {
  const flags = parseFlags(argv);
  return {
    n: intFlag(flags, "n", 100_000),
    batch: intFlag(flags, "batch", 10_000),
    updates: intFlag(flags, "updates", 10_000),
    proofs: intFlag(flags, "proofs", proofs),
    seed: intFlag(flags, "seed", 1),
    dir: flags.get("dir"),
    flags,
  };
}

/**
 * The machine's verification limit on transfers: node:crypto ed25519 verifications/s of one core
 * (64 keys, transfer-sized messages, for `ms`), times the cores, over 2 signatures a transfer.
 */
export function verifyLimit(ms: number): { perCore: number; cores: number; transfersPerSec: number } {
  const msgs = Array.from({ length: 64 }, (_, i) => {
    const k = new Signer(generateKeyPair(benchSeed(91, 1_000_000 + i)));
    const m = signingPayload(Buffer.alloc(86, i));
    return { k, m, sig: k.sign(m) };
  });
  // Each signature is verified many times here: none is taken from the verified cache.
  const verifier = new Verifier(65_536, false);
  let verified = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms)
    for (const x of msgs) if (verifier.verify(x.sig, x.m, x.k.publicKey)) verified++;
  const perCore = perSec(verified, performance.now() - t0);
  const cores = availableParallelism();
  return { perCore, cores, transfersPerSec: Math.round((perCore * cores) / 2) };
}

/** A whole number above 0 from environment variable `name` (default `dflt`); exits with 2 otherwise. */
export function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`${name} must be a whole number above 0, got ${JSON.stringify(process.env[name])}`);
    process.exit(2);
  }
  return v;
}
