/**
 * `npm run bench:tree`: Leither's versioned tree against @ethereumjs/trie, both persisted to
 * classic-level, side by side in one run. Each implementation runs in its own process (so each
 * peak RSS is its own) on the same ids. Flags: `--n N` (one size; default 100,000 and 1,000,000),
 * `--peer off`, `--proofs P`, `--peer-proofs P`. The last line printed is one JSON object.
 */
import "../src/polyfill.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intFlag, parseFlags } from "./common.js";

type Figures = Record<string, number> & { impl: string };

const flags = parseFlags(process.argv.slice(2));
const sizes = flags.has("n") ? [intFlag(flags, "n", 0)] : [100_000, 1_000_000];
const peer = flags.get("peer") !== "off";
const proofs = intFlag(flags, "proofs", 20_000);
const peerProofs = intFlag(flags, "peer-proofs", 2_000);
const here = new URL(".", import.meta.url).pathname;

function runWorker(script: string, n: number, p: number): Figures {
  const dir = mkdtempSync(join(tmpdir(), "leither-bench-"));
  try {
    const r = spawnSync(
      process.execPath,
      [join(here, script), "--n", String(n), "--proofs", String(p), "--dir", dir],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 24,
      },
    );
    if (r.status !== 0) throw new Error(`${script} failed with exit code ${r.status}`);
    const lines = r.stdout.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]!) as Figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: [string, string, boolean][] = [
  ["insertsPerSec", "inserts/s (batches of 10,000)", true],
  ["updatesPerSec", "updates/s (batches of 10,000)", true],
  ["proofsPerSec", "proofs generated/s (from LevelDB)", true],
  ["verifiesPerSec", "proofs verified/s", true],
  ["proofBytes", "proof bytes (mean)", false],
  ["peakRssMb", "peak RSS MB", false],
  ["diskMb", "disk MB after compaction", false],
];

let last: Record<string, unknown> = {};
for (const n of sizes) {
  console.log(`\n== n = ${n.toLocaleString("en-US")} accounts ==`);
  const mine = runWorker("tree-leither.js", n, proofs);
  const theirs = peer ? runWorker("tree-peer.js", n, peerProofs) : undefined;
  console.log(
    `${"figure".padEnd(36)}${"leither".padStart(12)}${theirs ? `${"ethereumjs".padStart(12)}${"ratio".padStart(10)}` : ""}`,
  );
  for (const [key, label, higherBetter] of rows) {
    const a = mine[key]!;
    let line = `${label.padEnd(36)}${String(a).padStart(12)}`;
    if (theirs) {
      const b = theirs[key]!;
      const ratio = higherBetter ? a / b : b / a;
      line += `${String(b).padStart(12)}${`${ratio.toFixed(1)}x`.padStart(10)}`;
    }
    console.log(line);
  }
  if (theirs)
    console.log("(ratio: how many times better leither is; for bytes, RSS and disk, peer ÷ leither)");
  // The hashing limit: SHA-256 calls/s here ÷ hashes per update.
  const hashLimit = mine.shaPerSec! / mine.hashesPerUpdate!;
  const share = mine.updatesPerSec! / hashLimit;
  console.log(
    `hashing limit: ${mine.shaPerSec} sha256/s ÷ ${mine.hashesPerUpdate} hashes per update = ${Math.round(hashLimit)} updates/s; the tree reaches ${(share * 100).toFixed(1)}%`,
  );
  const byK = mine.pagesByK as unknown as Record<string, number>;
  console.log(
    `pages written by a pulse that changes k accounts: ${Object.entries(byK)
      .map(([k, v]) => `k=${k}: ${v}`)
      .join(", ")} (O(k log n), never O(n): n = ${n})`,
  );
  last = {
    bench: "tree",
    n,
    updatesPerSec: mine.updatesPerSec,
    peerUpdatesPerSec: theirs?.updatesPerSec ?? null,
    insertsPerSec: mine.insertsPerSec,
    peerInsertsPerSec: theirs?.insertsPerSec ?? null,
    proofsPerSec: mine.proofsPerSec,
    verifiesPerSec: mine.verifiesPerSec,
    proofBytes: mine.proofBytes,
    peakRssMb: mine.peakRssMb,
    diskMb: mine.diskMb,
    peerPeakRssMb: theirs?.peakRssMb ?? null,
    peerDiskMb: theirs?.diskMb ?? null,
    hashLimitShare: Math.round(share * 1000) / 1000,
    pagesByK: byK,
  };
}
console.log(JSON.stringify(last));
