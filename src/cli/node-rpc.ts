/**
 * What the commands that talk to a running node share: the `--data-dir` and `--json` options, one
 * RPC call with its failures turned into one-line CliErrors, argument checks (exit 2) and output.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { dataDir } from "../node/data-dir.js";
import type { LeitherApi, MethodName, RootJson, TxStatusJson } from "../rpc/api.js";
import { LeitherClient, RpcCallError } from "../rpc/client.js";
import { RpcErrorCode } from "../rpc/errors.js";
import { CliError } from "./errors.js";

/** A JSON-RPC error from the node as a CliError (exit 1) that keeps the server's code. */
export class NodeCallError extends CliError {
  constructor(
    message: string,
    readonly rpcCode: number,
  ) {
    super(message, 1);
    this.name = "NodeCallError";
  }
}

/** The options every node command takes. */
export interface NodeOpts {
  dataDir?: string;
  json?: boolean;
}

/** Adds `--data-dir` and `--json` to `cmd`. */
export function withNodeOptions(cmd: Command): Command {
  return cmd
    .option("--data-dir <dir>", "data dir of the running node (default $LEITHER_HOME or ~/.leither)")
    .option("--json", "print the RPC result as one JSON line (for scripts)");
}

/**
 * Calls `method` on the node running on the data dir. A failure becomes a CliError (exit 1) with
 * the client's or the server's message (a NodeCallError for the server's); with --json a server error is also printed as JSON on
 * standard output, so that a script gets its code and data (a PAYEE_SIGNATURE's transaction).
 */
export async function rpc<M extends MethodName>(
  opts: NodeOpts,
  method: M,
  params: LeitherApi[M]["params"],
): Promise<LeitherApi[M]["result"]> {
  const dir = dataDir(opts.dataDir);
  try {
    const client = await LeitherClient.fromDataDir(dir);
    return await client.call<LeitherApi[M]["result"]>(method, params);
  } catch (err) {
    if (!(err instanceof RpcCallError)) throw err;
    if (err.code === 0) {
      // rpc.json outlives a node that was killed: say what to do rather than just "fetch failed".
      const hint =
        err.status === undefined && err.message.startsWith("cannot reach")
          ? ` (is it running? start it with: leither start --data-dir ${dir})`
          : "";
      throw new CliError(`${err.message}${hint}`, 1);
    }
    if (opts.json)
      console.log(
        JSON.stringify({
          error: {
            code: err.code,
            message: err.message,
            ...(err.data === undefined ? {} : { data: err.data }),
          },
        }),
      );
    throw new NodeCallError(serverMessage(err), err.code);
  }
}

/** The server's message, with what its data adds for a person. */
function serverMessage(err: RpcCallError): string {
  const data = err.data as { retained?: { first: unknown; last: unknown } } | undefined;
  // The server names its RPC method; a person at the CLI wants the command.
  if (err.code === RpcErrorCode.NO_ORG)
    return "this node has no organization yet (leither org create <name> founds one)";
  if (err.code === RpcErrorCode.NOT_RETAINED && data?.retained !== undefined)
    return `${err.message} (retained: pulses ${data.retained.first} to ${data.retained.last})`;
  return err.message;
}

/** Prints `result` as one JSON line with --json, else the human lines. */
export function print(opts: NodeOpts, result: unknown, human: () => readonly string[]): void {
  if (opts.json) console.log(JSON.stringify(result));
  else for (const line of human()) console.log(line);
}

/** Shows a bad argument in a message without flooding the line. */
function shown(v: string): string {
  return JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v);
}

/** An account id: 40 hex digits (either case), lowercased as the API takes it. */
export function accountArg(v: string, what = "account"): string {
  if (!/^[0-9a-fA-F]{40}$/.test(v)) throw new CliError(`${what} must be 40 hex digits, not ${shown(v)}`);
  return v.toLowerCase();
}

/** A transaction id: 64 hex digits, lowercased. */
export function txIdArg(v: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new CliError(`txId must be 64 hex digits, not ${shown(v)}`);
  return v.toLowerCase();
}

const MAX_U64 = (1n << 64n) - 1n;

/** A decimal u64 amount, kept as the decimal string the API takes. */
export function amountArg(v: string, what: string, positive = false): string {
  if (!/^(0|[1-9][0-9]*)$/.test(v) || BigInt(v) > MAX_U64)
    throw new CliError(`${what} must be a whole number from 0 to ${MAX_U64}, not ${shown(v)}`);
  if (positive && v === "0") throw new CliError(`${what} must be above 0`);
  return v;
}

/** A whole number from `min` to `max` (a pulse: 0 up). */
export function intArg(v: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new CliError(`${what} must be a whole number from ${min} to ${max}, not ${shown(v)}`);
  return n;
}

/** An encoded transaction in hex, or `-` to read it from standard input (it may be too long for argv). */
export function txHexArg(v: string): string {
  const hex = (v === "-" ? readFileSync(0, "utf8") : v).trim().toLowerCase();
  if (hex === "" || !/^([0-9a-f]{2})+$/.test(hex))
    throw new CliError(`the transaction must be hex digits in pairs, not ${shown(hex)}`);
  return hex;
}

/** Writes `text` to `file`; a failure is one line (exit 1). */
export function writeOut(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new CliError(
      `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      1,
    );
  }
}

/** A root synopsis on one line. */
export function rootText(r: RootJson | null): string {
  return r === null ? "(none)" : `${r.hash} sum ${r.sum} count ${r.count}`;
}

/** Where a transaction is, in words. */
export function stateText(s: TxStatusJson): string {
  switch (s.state) {
    case "accepted":
      return `accepted at pulse ${s.pulse}`;
    case "rejected":
      return `rejected: ${s.reason}${s.message === undefined ? "" : `: ${s.message}`}`;
    case "pending":
      return s.slot === undefined ? "pending" : `pending (slot ${s.slot})`;
    default:
      return "unknown to this node";
  }
}

/** A shell word: quoted only if it must be, so a printed command line can be pasted as it is. */
export function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
