/**
 * Logs (pino): JSON lines to a file or stdout, pretty in a terminal, one child logger per service
 * (`{module}`) with its own level. The root level applies to modules without their own, so an
 * operator can turn on `ledger=debug` alone without the rest of the node's debug output.
 */
import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";
import type { LogLevel } from "./config.js";

export type { Logger } from "pino";

/** Options of createLogger. */
export interface LogOptions {
  /** @default "info" */
  readonly level?: LogLevel;
  /** Per-module levels. @default {} */
  readonly modules?: Readonly<Record<string, LogLevel>>;
  /** Human-readable lines instead of JSON. @default true when stdout is a terminal */
  readonly pretty?: boolean;
  /** Where lines go. @default stdout */
  readonly destination?: DestinationStream;
}

/** The node's logs: `module(name)` gives a service its logger. */
export interface NodeLog {
  readonly root: Logger;
  module(name: string): Logger;
}

/** Builds the root logger and a factory of per-module child loggers. */
export function createLogger(opts: LogOptions = {}): NodeLog {
  const level = opts.level ?? "info";
  const modules = opts.modules ?? {};
  const usePretty = opts.pretty ?? process.stdout.isTTY === true;
  const dest = opts.destination ?? (usePretty ? pretty({ colorize: true, sync: true }) : pino.destination(1));
  // The root passes everything a module may want; each child filters at its own level.
  const rank = (l: LogLevel) => (l === "silent" ? Number.POSITIVE_INFINITY : pino.levels.values[l]!);
  const lowest = [level, ...Object.values(modules)].reduce((a, b) => (rank(a) <= rank(b) ? a : b));
  const root = pino({ level: lowest }, dest);
  const base = root.child({}, { level });
  return {
    root: base,
    module: (name) => root.child({ module: name }, { level: modules[name] ?? level }),
  };
}
