/** Auditor tools: `leither tree root`, `leither tree prove` and `leither proof verify`. They need no daemon and no network. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { leavesFromJson } from "../smt/leaves-json.js";
import { countField, FormatError, hexField, proofFromJson, proofToJson, u64Field } from "../smt/proof.js";
import { buildTree, prove, summaryOf, TreeError } from "../smt/tree.js";
import { verifyProof } from "../smt/verify.js";
import { CliError } from "./errors.js";

/** Reads and parses a JSON file (`-` is standard input); bad input becomes a one-line CliError. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

/** Turns the tree's input errors into CliErrors (exit 2); anything else is a bug and propagates. */
function asInputError(err: unknown): never {
  if (err instanceof FormatError || err instanceof TreeError) throw new CliError(err.message);
  throw err;
}

/** Registers `tree root`, `tree prove` and `proof verify`. */
export function registerTreeCommands(program: Command): void {
  const tree = program.command("tree").description("ledger tree tools (SPEC-smt.md)");
  tree
    .command("root")
    .description('print the root synopsis of a set of leaves ({"leaves": [...]} as in smt-vectors.json)')
    .argument("<file>", "JSON file of leaves, or - for standard input")
    .option("--case <name>", "take the leaves of this case of a vectors file")
    .action((file: string, opts: { case?: string }) => {
      const json = readJsonFile(file);
      try {
        const s = summaryOf(buildTree(leavesFromJson(json, opts.case)));
        console.log(
          JSON.stringify({
            hash: Buffer.from(s.hash).toString("hex"),
            sum: s.sum.toString(),
            count: s.count,
          }),
        );
      } catch (err) {
        asInputError(err);
      }
    });

  tree
    .command("prove")
    .description("print the proof (JSON) of an id in a set of leaves: inclusion if present, exclusion if not")
    .argument("<file>", "JSON file of leaves, or - for standard input")
    .argument("<id>", "account id (40 hex digits)")
    .option("--case <name>", "take the leaves of this case of a vectors file")
    .action((file: string, id: string, opts: { case?: string }) => {
      const json = readJsonFile(file);
      try {
        const key = hexField(id, 20, "id");
        console.log(
          JSON.stringify(proofToJson(prove(buildTree(leavesFromJson(json, opts.case)), key)), null, 2),
        );
      } catch (err) {
        asInputError(err);
      }
    });

  const proof = program.command("proof").description("proof tools");
  proof
    .command("verify")
    .description(
      "check a proof (JSON as in smt-vectors.json) against a root synopsis; exit 0 inclusion/exclusion, 1 invalid",
    )
    .argument("<file>", "JSON proof, or - for standard input")
    .requiredOption("--root <hash>", "root hash (64 hex digits)")
    .requiredOption("--sum <sum>", "root sum (decimal u64)")
    .requiredOption("--count <count>", "root count (decimal)")
    .option(
      "--strict",
      "refuse a terminal internal node given without its children (unbound, see docs/PROTOCOL.md)",
    )
    .option("--json", "print the result as JSON")
    .action(
      (
        file: string,
        opts: { root: string; sum: string; count: string; strict?: boolean; json?: boolean },
      ) => {
        const json = readJsonFile(file);
        let result: ReturnType<typeof verifyProof>;
        try {
          const root = {
            hash: hexField(opts.root, 32, "--root"),
            sum: u64Field(opts.sum, "--sum"),
            count: countField(opts.count, "--count"),
          };
          result = verifyProof(proofFromJson(json), root, { allowUnboundTerminal: !opts.strict });
        } catch (err) {
          asInputError(err);
        }
        if (result.result === "exclusion" && result.unbound)
          console.error(
            "leither: warning: the proof ends in an internal node without its children, so its depth and prefix are not bound by a hash (SPEC-smt.md); --strict refuses such proofs",
          );
        if (opts.json) console.log(JSON.stringify(result));
        else console.log(result.result === "invalid" ? `invalid: ${result.reason}` : result.result);
        if (result.result === "invalid") process.exitCode = 1;
      },
    );
}
