/**
 * `leither start`: runs the node in the foreground until SIGINT or SIGTERM. The first signal stops
 * it gracefully (the pulse being written is finished, the store closed); a second one exits at once.
 */
import type { Command } from "commander";
import { KeyFileError } from "../crypto/keyfile.js";
import { StoreOpenError } from "../ledger/level-kv.js";
import { ConfigError } from "../node/config.js";
import { DataDirError, dataDir } from "../node/data-dir.js";
import { StartError } from "../node/lifecycle.js";
import { startNode } from "../node/node.js";
import { CliError } from "./errors.js";
import { readPassphrase } from "./passphrase.js";

interface StartOpts {
  dataDir?: string;
  rpcPort?: string;
  pulseMs?: string;
  logLevel?: string;
  logModules?: string;
  verifyThreads?: string;
  orgName?: string;
  orgCommittee?: string;
  orgElectionCycle?: string;
  orgMinDeposit?: string;
  orgMiningReward?: string;
  keep?: string;
  found: boolean;
  passphraseFile?: string;
  net: boolean;
  listen?: string;
  bootstrap?: string;
  autoApprove?: string;
}

/** The flag of each configuration field `start` takes, for error messages. */
const FLAG_NAMES: Record<string, string> = {
  "rpc.port": "--rpc-port",
  "pulse.periodMs": "--pulse-ms",
  "log.level": "--log-level",
  "log.modules": "--log-modules",
  "verify.threads": "--verify-threads",
  "org.name": "--org-name",
  "org.committee": "--org-committee",
  "org.electionCycle": "--org-election-cycle",
  "org.minDeposit": "--org-min-deposit",
  "org.miningReward": "--org-mining-reward",
  "org.autoFound": "--no-found",
  "org.keep": "--keep",
  "org.autoApprove": "--auto-approve",
  "net.enabled": "--no-net",
  "net.listen": "--listen",
  "net.bootstrap": "--bootstrap",
};

/** Registers `start`. */
export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description(
      "run the node in the foreground (Ctrl-C stops it); with no organization yet it founds one and keeps its books",
    )
    .option("--data-dir <dir>", "data directory (default $LEITHER_HOME or ~/.leither); created if missing")
    .option("--rpc-port <port>", "JSON-RPC port on 127.0.0.1 (0: any free port; default 7620)")
    .option("--pulse-ms <ms>", "pulse period in milliseconds (default 1000)")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (default info)")
    .option("--log-modules <list>", "per-module levels, e.g. pulse=debug,rpc=warn")
    .option("--verify-threads <n>", "signature verification threads (0: one per core)")
    .option("--org-name <name>", 'name of an organization founded at start (default "Local organization")')
    .option(
      "--org-committee <ids>",
      "first committee of an organization founded at start: account ids, comma-separated, the first proposes first (default: this node alone)",
    )
    .option(
      "--org-election-cycle <n>",
      "pulses per election cycle of an organization founded at start (default 1800)",
    )
    .option(
      "--org-min-deposit <n>",
      "smallest candidate deposit of an organization founded at start (default 1000)",
    )
    .option(
      "--org-mining-reward <n>",
      "tokens an organization founded at start pays its committee per final pulse, from its own account (default 0)",
    )
    .option("--no-found", "do not found an organization at start (org create does it later)")
    .option(
      "--keep <org>",
      "keep the books of organization <org> with its committee: replay it from a bookkeeper, then take part",
    )
    .option("--passphrase-file <file>", "the passphrase of sealed key files, on this file's first line")
    .option("--listen <addrs>", "multiaddrs to listen on, comma-separated (default /ip4/0.0.0.0/tcp/7621)")
    .option("--bootstrap <addrs>", "peers to dial at start: multiaddrs with /p2p/<peer id>, comma-separated")
    .option("--auto-approve <role>", "approve join applications as: off, guest or member (default off)")
    .option("--no-net", "stay off the peer-to-peer network (JSON-RPC and the local organization only)")
    .action(async (opts: StartOpts) => {
      const passphrase = opts.passphraseFile === undefined ? undefined : readPassphrase(opts.passphraseFile);
      const flags: Record<string, string | undefined> = {
        "rpc.port": opts.rpcPort,
        "pulse.periodMs": opts.pulseMs,
        "log.level": opts.logLevel,
        "log.modules": opts.logModules,
        "verify.threads": opts.verifyThreads,
        "org.name": opts.orgName,
        "org.committee": opts.orgCommittee,
        "org.electionCycle": opts.orgElectionCycle,
        "org.minDeposit": opts.orgMinDeposit,
        "org.miningReward": opts.orgMiningReward,
        "org.keep": opts.keep,
        "org.autoFound": opts.found ? undefined : "false",
        "org.autoApprove": opts.autoApprove,
        "net.enabled": opts.net ? undefined : "false",
        "net.listen": opts.listen,
        "net.bootstrap": opts.bootstrap,
      };
      let node: Awaited<ReturnType<typeof startNode>>;
      try {
        node = await startNode({
          dataDir: dataDir(opts.dataDir),
          flags,
          flagNames: FLAG_NAMES,
          ...(passphrase === undefined ? {} : { passphrase }),
        });
      } catch (err) {
        throw startFailure(err);
      }
      let signals = 0;
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals > 1) {
            node.log.root.warn({ signal: sig }, "second signal: exiting without waiting");
            process.exit(130);
          }
          node.log.root.info({ signal: sig }, "shutting down (a second signal forces exit)");
          node.stop().then(resolve, (err) => {
            node.log.root.error({ err }, "shutdown failed");
            process.exitCode = 1;
            resolve();
          });
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
    });
}

/** A start-up failure as one line. */
function startFailure(err: unknown): unknown {
  const cause = err instanceof StartError ? err.cause : err;
  if (
    cause instanceof ConfigError ||
    cause instanceof KeyFileError ||
    cause instanceof StoreOpenError ||
    cause instanceof DataDirError
  )
    return new CliError(cause.message, 1);
  if (err instanceof StartError) return new CliError(err.message, 1);
  const code = (cause as { code?: string }).code;
  if (code === "EACCES" || code === "ENOTDIR" || code === "EROFS" || code === "ENOSPC")
    return new CliError(`cannot use the data dir: ${(cause as Error).message}`, 1);
  return err;
}
