/**
 * `leither demo`: a tour of what this build has, until the daemon exists (issue "The node daemon").
 * It keeps an organization's ledger in <data-dir>/demo-ledger: a genesis that gives each demo account
 * its tokens, then one pulse a second of transfers signed by payer and payee (and, each pulse, one
 * replayed transfer that the state machine refuses). It ends by proving an account at the last
 * pulse and at an older retained one, and verifying both proofs.
 */
import { createHash, randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { generateKeyPair, Signer } from "../crypto/ed25519.js";
import { Ledger } from "../ledger/ledger.js";
import { LevelKV, StoreOpenError } from "../ledger/level-kv.js";
import { TxKind } from "../ledger/tx.js";
import { countersign, signTx } from "../ledger/tx-codec.js";
import { dataDir } from "../node/data-dir.js";
import { encodeProof } from "../smt/proof.js";
import { verifyProof } from "../smt/verify.js";
import { CliError } from "./errors.js";

/** Demo keys from fixed seeds, so a resumed demo signs for the same accounts. */
const demoSigner = (name: string) => new Signer(generateKeyPair(createHash("sha256").update(name).digest()));
const TOKENS = 1000n;

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
    .description(
      "keep a demo ledger in <data-dir>/demo-ledger and apply a pulse of signed transfers a second",
    )
    .option("--data-dir <dir>", "data directory (default $LEITHER_HOME or ~/.leither)")
    .option("--accounts <n>", "accounts in the demo organization (2-4096)", "200")
    .option("--pulses <n>", "pulses to apply, 0 for until Ctrl-C", "5")
    .option("--interval <ms>", "pulse period in milliseconds", "1000")
    .action(async (opts: { dataDir?: string; accounts: string; pulses: string; interval: string }) => {
      const wanted = Math.min(4096, Math.max(2, positiveInt(opts.accounts, "--accounts")));
      const pulses = positiveInt(opts.pulses, "--pulses");
      const interval = positiveInt(opts.interval, "--interval");
      const dir = join(dataDir(opts.dataDir), "demo-ledger");
      mkdirSync(dir, { recursive: true });
      let kv: LevelKV;
      try {
        kv = await LevelKV.open(dir);
      } catch (err) {
        if (err instanceof StoreOpenError) throw new CliError(err.message);
        throw err;
      }
      const ledger = await Ledger.open(kv, { retention: { keepLast: 60, keepEvery: 3600 } });
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const short = (h: Uint8Array) => Buffer.from(h).toString("hex").slice(0, 16);
        const orgKey = demoSigner("leither-demo:org");
        // A resumed demo keeps the accounts of its genesis.
        const n = ledger.org?.params.distribution.length ?? wanted;
        const users = Array.from({ length: n }, (_, i) => demoSigner(`leither-demo:${i}`));
        if (ledger.org === undefined) {
          const params = {
            name: "Leither demo",
            supervisor: users[0]!.id,
            pulsePeriodMs: interval || 1,
            electionCycle: 1800,
            publicityPeriod: 86_400,
            committeeSize: 1,
            minDeposit: 100n,
            supply: TOKENS * BigInt(2 * n),
            distribution: users.map((u) => ({ to: u.id, amount: TOKENS, reason: "demo account" })),
          };
          const o = await ledger.applyPulse(0, [
            signTx({ kind: TxKind.Genesis, org: orgKey.id, params }, [orgKey]).bytes,
          ]);
          console.log(`genesis: pulse 0, ${n} accounts, root ${short(o.root.hash)}, sum ${o.root.sum}`);
        } else console.log(`resuming at pulse ${ledger.head} (${dir})`);
        const start = ledger.head!;
        let replay: Buffer | undefined;
        for (let k = 0; (pulses === 0 || k < pulses) && !stop; k++) {
          await new Promise((res) => setTimeout(res, interval));
          const pulse = ledger.head! + 1;
          const txs: Buffer[] = [];
          const nonces = new Map<number, bigint>();
          for (let j = 0; j < 20; j++) {
            const a = randomInt(n);
            const b = (a + 1 + randomInt(n - 1)) % n;
            const nonce = (nonces.get(a) ?? ledger.account(users[a]!.id)?.nonce ?? 0n) + 1n;
            nonces.set(a, nonce);
            const body = {
              kind: TxKind.Transfer,
              org: orgKey.id,
              actor: users[a]!.id,
              nonce,
              expiry: pulse + 5,
              to: users[b]!.id,
              amount: BigInt(1 + randomInt(50)),
            } as const;
            txs.push(countersign(signTx(body, [users[a]!]).bytes, users[b]!));
          }
          // Last pulse's first transfer again: a replay, which its nonce gives away.
          if (replay !== undefined) txs.push(replay);
          replay = txs[0];
          const o = await ledger.applyPulse(pulse, txs, { proofs: false });
          const refused = o.results.flatMap((r) => (r.ok ? [] : [r.reason]));
          const why = refused.length === 0 ? "" : ` (${[...new Set(refused)].join(", ")})`;
          console.log(
            `pulse ${pulse}: root ${short(o.root.hash)} sum ${o.root.sum} count ${o.root.count}, ${o.receipts.length} transfers accepted, ${refused.length} refused${why}`,
          );
          await ledger.pruneAll();
        }
        const id = users[0]!.id;
        // The start may have been pruned by now (keepLast 60): then the oldest pulse still kept.
        for (const p of [ledger.head!, Math.max(start, ledger.retained()[0]!)]) {
          const proof = ledger.prove(id, p);
          const v = verifyProof(proof, ledger.rootAt(p));
          console.log(
            `account 0 at pulse ${p}: amount ${ledger.account(id, p)?.amount}, proof of ${encodeProof(proof).length} bytes: ${v.result}`,
          );
        }
        console.log(`ledger kept in ${dir}; pulses readable: ${ledger.retained()[0]}..${ledger.head}`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await ledger.close();
      }
    });
}
