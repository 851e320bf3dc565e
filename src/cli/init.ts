/** `leither init`: creates the data dir (key pair, RPC cookie, folders); never overwrites anything. */
import type { Command } from "commander";
import { KeyFileError } from "../crypto/keyfile.js";
import { DataDirError, dataDir, initDataDir } from "../node/data-dir.js";
import { CliError } from "./errors.js";
import { readPassphrase } from "./passphrase.js";

/** Registers `init`. */
export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description("create the data dir: this node's key pair, the RPC cookie, the db and logs folders")
    .option("--data-dir <dir>", "data directory (default $LEITHER_HOME or ~/.leither)")
    .option("--passphrase-file <file>", "encrypt a new key with the passphrase on this file's first line")
    .option("--json", "print the result as JSON")
    .action(async (opts: { dataDir?: string; passphraseFile?: string; json?: boolean }) => {
      const passphrase = opts.passphraseFile === undefined ? undefined : readPassphrase(opts.passphraseFile);
      const root = dataDir(opts.dataDir);
      let r: Awaited<ReturnType<typeof initDataDir>>;
      try {
        r = await initDataDir(root, passphrase === undefined ? {} : { passphrase });
      } catch (err) {
        if (err instanceof KeyFileError || err instanceof DataDirError) throw new CliError(err.message);
        const code = (err as { code?: string }).code;
        if (code === "EACCES" || code === "ENOTDIR" || code === "EEXIST")
          throw new CliError(`cannot create the data dir at ${root}: ${(err as Error).message}`);
        throw err;
      }
      if (opts.json) {
        console.log(JSON.stringify({ dataDir: root, created: r.created, account: r.id }));
        return;
      }
      console.log(
        r.created.length === 0
          ? `data dir ${root} is already set up; nothing changed`
          : `data dir ${root}: created ${r.created.join(", ")}`,
      );
      console.log(`this node's account: ${r.id}`);
    });
}
