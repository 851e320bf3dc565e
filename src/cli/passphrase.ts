/** Reading a passphrase from a file's first line (never from the command line, where `ps` shows it). */
import { readFileSync } from "node:fs";
import { CliError } from "./errors.js";

/** The first line of `file`; a clear CliError if it cannot be read or is empty. */
export function readPassphrase(file: string): string {
  let line: string | undefined;
  try {
    line = readFileSync(file, "utf8").split(/\r?\n/)[0];
  } catch (err) {
    throw new CliError(`cannot read the passphrase file: ${(err as Error).message}`);
  }
  if (!line) throw new CliError(`the passphrase file ${file} has an empty first line`);
  return line;
}
