#!/usr/bin/env node
/** The `leither` command. */
import "../polyfill.js";
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerCommitteeCommand } from "./committee-command.js";
import { registerDevnetCommand } from "./devnet.js";
import { CliError } from "./errors.js";
import { registerInitCommand } from "./init.js";
import { registerNetCommands } from "./net-commands.js";
import { registerNodeCommands } from "./node-commands.js";
import { registerStartCommand } from "./start.js";
import { registerTreeCommands } from "./tree-commands.js";

const program = new Command("leither")
  .description("Leither node: a peer-to-peer ledger on a sparse Merkle sum tree")
  .version(VERSION)
  .showSuggestionAfterError()
  .exitOverride();
registerInitCommand(program);
registerStartCommand(program);
registerTreeCommands(program);
// After the tree commands: `proof get` joins their `proof` group.
registerNodeCommands(program);
registerNetCommands(program);
registerCommitteeCommand(program);
registerDevnetCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; a usage error is bad input (exit 2). Commander printed the message.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof CliError) {
    console.error(`leither: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`leither: internal error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 70;
  }
}
