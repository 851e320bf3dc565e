/**
 * `leither demo`: a tour of what this build has, until the daemon exists (issue "The node daemon").
 * It keeps a ledger in <data-dir>/demo, commits one pulse a second that moves amounts between
 * accounts (no signatures yet: transactions come with the state machine), and ends by proving an
 * account at the last pulse and at an older retained one, and verifying both proofs.
 */
import { createHash, randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { LevelKV, StoreOpenError } from "../ledger/level-kv.js";
import { VersionedTree } from "../ledger/store.js";
import { encodeProof } from "../smt/proof.js";
import type { LeafOp } from "../smt/tree.js";
import { verifyProof } from "../smt/verify.js";
import { CliError } from "./errors.js";

/** The data dir: --data-dir, else $LEITHER_HOME, else ~/.leither. */
export function dataDir(flag?: string): string {
  return flag ?? process.env.LEITHER_HOME ?? join(homedir(), ".leither");
}

const idOf = (i: number) => createHash("sha256").update(`demo:${i}`).digest().subarray(0, 20);
const dataOf = (i: number, nonce: number) => createHash("sha256").update(`demo:${i}:${nonce}`).digest();

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("keep a demo ledger in <data-dir>/demo and commit a pulse a second")
    .option("--data-dir <dir>", "data directory (default $LEITHER_HOME or ~/.leither)")
    .option("--accounts <n>", "accounts in the demo ledger", "1000")
    .option("--pulses <n>", "pulses to commit, 0 for until Ctrl-C", "5")
    .option("--interval <ms>", "pulse period in milliseconds", "1000")
    .action(async (opts: { dataDir?: string; accounts: string; pulses: string; interval: string }) => {
      const accounts = Math.max(2, positiveInt(opts.accounts, "--accounts"));
      const pulses = positiveInt(opts.pulses, "--pulses");
      const interval = positiveInt(opts.interval, "--interval");
      const dir = join(dataDir(opts.dataDir), "demo");
      mkdirSync(dir, { recursive: true });
      let kv: LevelKV;
      try {
        kv = await LevelKV.open(dir);
      } catch (err) {
        if (err instanceof StoreOpenError) throw new CliError(err.message);
        throw err;
      }
      const tree = await VersionedTree.open(kv, { retention: { keepLast: 60, keepEvery: 3600 } });
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const short = (h: Uint8Array) => Buffer.from(h).toString("hex").slice(0, 16);
        if (tree.head === undefined) {
          const ops: LeafOp[] = [];
          for (let i = 0; i < accounts; i++)
            ops.push({ id: idOf(i), leaf: { amount: 1000n, dataHash: dataOf(i, 0) } });
          const r = await tree.commit(0, ops);
          console.log(
            `genesis: pulse 0, ${accounts} accounts, root ${short(r.root.hash)}, sum ${r.root.sum}`,
          );
        } else console.log(`resuming at pulse ${tree.head} (${dir})`);
        const start = tree.head!;
        const n = tree.rootAt().count;
        for (let k = 0; (pulses === 0 || k < pulses) && !stop; k++) {
          await new Promise((res) => setTimeout(res, interval));
          // Moves between random accounts; the sum stays what it was (the state machine will check it).
          const moves = new Map<number, bigint>();
          for (let j = 0; j < 20; j++) {
            const from = randomInt(n);
            const to = randomInt(n);
            const bal = (moves.get(from) ?? 0n) + (tree.getLeaf(idOf(from))?.amount ?? 0n);
            const amt = bal > 0n ? BigInt(randomInt(Number(bal > 50n ? 50n : bal)) + 1) : 0n;
            moves.set(from, (moves.get(from) ?? 0n) - amt);
            moves.set(to, (moves.get(to) ?? 0n) + amt);
          }
          const pulse = tree.head! + 1;
          const ops: LeafOp[] = [...moves].map(([i, delta]) => ({
            id: idOf(i),
            leaf: { amount: (tree.getLeaf(idOf(i))?.amount ?? 0n) + delta, dataHash: dataOf(i, pulse) },
          }));
          const r = await tree.commit(pulse, ops);
          console.log(
            `pulse ${pulse}: root ${short(r.root.hash)} sum ${r.root.sum} count ${r.root.count}, ${ops.length} accounts changed, ${r.pagesWritten} pages written`,
          );
          await tree.prune();
        }
        const id = idOf(0);
        for (const p of [tree.head!, start]) {
          const proof = tree.prove(id, p);
          const v = verifyProof(proof, tree.rootAt(p));
          console.log(
            `account 0 at pulse ${p}: amount ${tree.getLeaf(id, p)?.amount}, proof of ${encodeProof(proof).length} bytes: ${v.result}`,
          );
        }
        console.log(`ledger kept in ${dir}; pulses readable: ${tree.retained()[0]}..${tree.head}`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await tree.close();
      }
    });
}
