/**
 * The node's configuration, merged once at start-up in layers: defaults < `config.json` in the data
 * dir < `LEITHER_*` environment variables < command-line flags. Every field has one parser, so a
 * bad value is refused with one line naming the field, where it came from and what it takes; an
 * unknown field (a typo) is refused too, rather than silently ignored.
 *
 * Field `a.bC` is `{"a": {"bC": ...}}` in the file, `LEITHER_A_B_C` in the environment, and
 * `a.bC` in the flags map the CLI builds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MIN_ELECTION_CYCLE } from "../election/cycle.js";
import { CodedError } from "../util/errors.js";

/** Log levels, as pino names them. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The node's configuration. */
export interface NodeConfig {
  readonly rpc: {
    /** TCP port of the JSON-RPC server on 127.0.0.1 (0: any free port). @default 7620 */
    readonly port: number;
  };
  readonly log: {
    /** @default "info" */
    readonly level: LogLevel;
    /** Per-module levels, e.g. `{"ledger": "debug"}`; env and flags: `ledger=debug,rpc=warn`. @default {} */
    readonly modules: Readonly<Record<string, LogLevel>>;
  };
  readonly ledger: {
    /** Newest pulses kept readable. @default 100 */
    readonly keepLast: number;
    /** Also keep every pulse divisible by this (0: none). @default 3600 */
    readonly keepEvery: number;
    /** Tree page cache, MiB. @default 32 */
    readonly cacheMb: number;
    /** Account cache, MiB (0: off). @default 32 */
    readonly accountCacheMb: number;
  };
  readonly verify: {
    /** Signature verification threads (0: one per core). @default 0 */
    readonly threads: number;
  };
  readonly pulse: {
    /** Pulse period in milliseconds. @default 1000 */
    readonly periodMs: number;
  };
  readonly org: {
    /** With no organization yet, found one at start (this node keeps its books). @default true */
    readonly autoFound: boolean;
    /** The name of an organization founded at start. @default "Local organization" */
    readonly name: string;
    /** How this node, as supervisor, answers join applications: "off" (by hand), "guest" or "member". @default "off" */
    readonly autoApprove: "off" | "guest" | "member";
    /** Countersign incoming transfers to this node's accounts automatically. @default true */
    readonly autoCountersign: boolean;
    /**
     * The first committee of an organization founded at start, in drawn order (the first proposes
     * round 0); this node need not be in it. Env and flags: comma-separated 40-hex account ids.
     * @default [] (this node keeps the books alone until the first election)
     */
    readonly committee: readonly Buffer[];
    /** Pulses per election cycle of an organization founded at start (at least 4). @default 1800 */
    readonly electionCycle: number;
    /** Smallest deposit of a bookkeeper candidate in an organization founded at start. @default 1000 */
    readonly minDeposit: bigint;
    /**
     * Tokens an organization founded at start pays its committee for each final pulse, from its own
     * account (0: no mining reward). @default 0
     */
    readonly miningReward: bigint;
    /**
     * An organization whose books this node keeps with its committee: with no organization yet, the
     * node replays it from a bookkeeper (the genesis, then every final pulse) and then takes part as
     * a bookkeeper (voting if its account is in the committee). @default null
     */
    readonly keep: Buffer | null;
  };
  readonly net: {
    /** Join the peer-to-peer network (libp2p). @default true */
    readonly enabled: boolean;
    /** Multiaddrs to listen on. @default ["/ip4/0.0.0.0/tcp/7621"] */
    readonly listen: readonly string[];
    /** Multiaddrs (with /p2p/<peer id>) of peers to dial at start. @default [] */
    readonly bootstrap: readonly string[];
  };
}

/** Where a value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

/** Why the configuration cannot be used. */
export class ConfigError extends CodedError<"BAD_FIELD" | "UNKNOWN_FIELD" | "BAD_FILE"> {}

/** The configuration file's name in the data dir. */
export const CONFIG_FILE = "config.json";

type Parse = (raw: unknown, where: string) => unknown;

const MAX = Number.MAX_SAFE_INTEGER;

const int =
  (min: number, max: number): Parse =>
  (raw, where) => {
    const n = typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max)
      throw new ConfigError(
        "BAD_FIELD",
        `${where} must be an integer from ${min} to ${max}, got ${show(raw)}`,
      );
    return n;
  };

const level: Parse = (raw, where) => {
  if (typeof raw !== "string" || !(LOG_LEVELS as readonly string[]).includes(raw))
    throw new ConfigError("BAD_FIELD", `${where} must be one of ${LOG_LEVELS.join(", ")}, got ${show(raw)}`);
  return raw;
};

const bool: Parse = (raw, where) => {
  if (typeof raw === "boolean") return raw;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError("BAD_FIELD", `${where} must be true or false, got ${show(raw)}`);
};

const name: Parse = (raw, where) => {
  if (typeof raw !== "string" || raw.trim() === "" || Buffer.byteLength(raw) > 64 || /\p{Cc}/u.test(raw))
    throw new ConfigError("BAD_FIELD", `${where} must be 1 to 64 bytes of text, got ${show(raw)}`);
  return raw;
};

const moduleLevels: Parse = (raw, where) => {
  let entries: [string, unknown][];
  if (typeof raw === "string")
    entries = raw
      .split(",")
      .filter((p) => p.trim() !== "")
      .map((p) => {
        const eq = p.indexOf("=");
        if (eq <= 0) throw new ConfigError("BAD_FIELD", `${where} takes module=level pairs, got ${show(p)}`);
        return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
      });
  else if (isObject(raw)) entries = Object.entries(raw);
  else throw new ConfigError("BAD_FIELD", `${where} must be an object of module levels, got ${show(raw)}`);
  const out: Record<string, LogLevel> = {};
  for (const [m, v] of entries) {
    if (!/^[a-z][a-z0-9-]*$/.test(m))
      throw new ConfigError("BAD_FIELD", `${where}: bad module name ${show(m)}`);
    out[m] = level(v, `${where}.${m}`) as LogLevel;
  }
  return out;
};

const choice =
  (...options: string[]): Parse =>
  (raw, where) => {
    if (typeof raw !== "string" || !options.includes(raw))
      throw new ConfigError("BAD_FIELD", `${where} must be one of ${options.join(", ")}, got ${show(raw)}`);
    return raw;
  };

/** A list as given: an array (the file), or a comma-separated string (env and flags), items trimmed. */
const commaList = (raw: unknown): unknown =>
  typeof raw === "string"
    ? raw
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a !== "")
    : raw;

/** A list of multiaddrs: an array, or a comma-separated string (env and flags). */
const addrs: Parse = (raw, where) => {
  const list = commaList(raw);
  if (!Array.isArray(list) || list.length > 32)
    throw new ConfigError("BAD_FIELD", `${where} must be a list of up to 32 multiaddrs, got ${show(raw)}`);
  for (const a of list)
    if (typeof a !== "string" || !/^\/[!-~]{1,255}$/.test(a))
      throw new ConfigError(
        "BAD_FIELD",
        `${where}: ${show(a)} is not a multiaddr (like /ip4/127.0.0.1/tcp/7621)`,
      );
  return list;
};

/** A u64 amount: a decimal string or a safe integer. */
const u64: Parse = (raw, where) => {
  const text = typeof raw === "number" && Number.isSafeInteger(raw) ? String(raw) : raw;
  if (
    typeof text !== "string" ||
    !/^(0|[1-9]\d{0,19})$/.test(text.trim()) ||
    BigInt(text.trim()) >= 2n ** 64n
  )
    throw new ConfigError("BAD_FIELD", `${where} must be a whole number from 0 to 2^64-1, got ${show(raw)}`);
  return BigInt(text.trim());
};

/** Account ids (40 hex digits each), distinct and not zero: an array, or a comma-separated string. */
const accountIds: Parse = (raw, where) => {
  const list = commaList(raw);
  if (!Array.isArray(list) || list.length > 0xffff)
    throw new ConfigError("BAD_FIELD", `${where} must be a list of account ids, got ${show(raw)}`);
  const seen = new Set<string>();
  return list.map((a) => {
    if (typeof a !== "string" || !/^[0-9a-fA-F]{40}$/.test(a))
      throw new ConfigError("BAD_FIELD", `${where}: ${show(a)} is not an account id (40 hex digits)`);
    const k = a.toLowerCase();
    if (/^0+$/.test(k))
      throw new ConfigError("BAD_FIELD", `${where}: the zero account id cannot be a member`);
    if (seen.has(k)) throw new ConfigError("BAD_FIELD", `${where}: ${k} is listed twice`);
    seen.add(k);
    return Buffer.from(k, "hex");
  });
};

/** An organization id (40 hex digits), or empty for none. */
const orgId: Parse = (raw, where) => {
  if (raw === null || raw === "") return null;
  if (typeof raw !== "string" || !/^[0-9a-fA-F]{40}$/.test(raw.trim()))
    throw new ConfigError(
      "BAD_FIELD",
      `${where} must be an organization id (40 hex digits), got ${show(raw)}`,
    );
  return Buffer.from(raw.trim().toLowerCase(), "hex");
};

/** Every field: its parser and default. */
const FIELDS: Record<string, { parse: Parse; dflt: unknown }> = {
  "rpc.port": { parse: int(0, 65_535), dflt: 7620 },
  "log.level": { parse: level, dflt: "info" },
  "log.modules": { parse: moduleLevels, dflt: {} },
  "ledger.keepLast": { parse: int(1, MAX), dflt: 100 },
  "ledger.keepEvery": { parse: int(0, MAX), dflt: 3600 },
  "ledger.cacheMb": { parse: int(1, 65_536), dflt: 32 },
  "ledger.accountCacheMb": { parse: int(0, 65_536), dflt: 32 },
  "verify.threads": { parse: int(0, 256), dflt: 0 },
  "pulse.periodMs": { parse: int(50, 3_600_000), dflt: 1000 },
  "org.autoFound": { parse: bool, dflt: true },
  "org.name": { parse: name, dflt: "Local organization" },
  "org.autoApprove": { parse: choice("off", "guest", "member"), dflt: "off" },
  "org.autoCountersign": { parse: bool, dflt: true },
  "org.committee": { parse: accountIds, dflt: [] },
  "org.electionCycle": { parse: int(MIN_ELECTION_CYCLE, 0xffff_ffff), dflt: 1800 },
  "org.minDeposit": { parse: u64, dflt: 1000n },
  "org.miningReward": { parse: u64, dflt: 0n },
  "org.keep": { parse: orgId, dflt: null },
  "net.enabled": { parse: bool, dflt: true },
  "net.listen": { parse: addrs, dflt: ["/ip4/0.0.0.0/tcp/7621"] },
  "net.bootstrap": { parse: addrs, dflt: [] },
};

/** The environment variable of a field: `ledger.keepLast` is `LEITHER_LEDGER_KEEP_LAST`. */
export function envName(field: string): string {
  return `LEITHER_${field
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/\./g, "_")
    .toUpperCase()}`;
}

/** The fields, with their defaults (for `--help` and docs). */
export function configFields(): { field: string; env: string; default: unknown }[] {
  return Object.entries(FIELDS).map(([field, f]) => ({ field, env: envName(field), default: f.dflt }));
}

/** Inputs of loadConfig. */
export interface ConfigInputs {
  /** The data dir, whose `config.json` is read if present. */
  readonly dataDir: string;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by field name (`"rpc.port": "7700"`). @default {} */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** How the CLI spells each flag, for error messages. @default `--a-bC` for field `a.bC` */
  readonly flagNames?: Readonly<Record<string, string>>;
}

/** The merged configuration and where each field's value came from. */
export interface LoadedConfig {
  readonly config: NodeConfig;
  readonly sources: Readonly<Record<string, ConfigSource>>;
}

/** Merges the layers; throws ConfigError naming the first bad field. */
export function loadConfig(inputs: ConfigInputs): LoadedConfig {
  const env = inputs.env ?? process.env;
  const flat = new Map<string, unknown>();
  const sources: Record<string, ConfigSource> = {};
  for (const [k, f] of Object.entries(FIELDS)) {
    flat.set(k, f.dflt);
    sources[k] = "default";
  }
  const file = join(inputs.dataDir, CONFIG_FILE);
  for (const [k, v] of readFile(file)) {
    if (FIELDS[k] === undefined)
      throw new ConfigError(
        "UNKNOWN_FIELD",
        `${file}: unknown field "${k}" (known: ${Object.keys(FIELDS).join(", ")})`,
      );
    flat.set(k, FIELDS[k]!.parse(v, `${k} in ${file}`));
    sources[k] = "file";
  }
  for (const k of Object.keys(FIELDS)) {
    const v = env[envName(k)];
    if (v === undefined || v === "") continue;
    flat.set(k, FIELDS[k]!.parse(v, `${envName(k)} (environment)`));
    sources[k] = "env";
  }
  for (const [k, v] of Object.entries(inputs.flags ?? {})) {
    if (v === undefined) continue;
    if (FIELDS[k] === undefined) throw new ConfigError("UNKNOWN_FIELD", `unknown configuration flag "${k}"`);
    const flag = inputs.flagNames?.[k] ?? `--${k.replace(/\./g, "-")}`;
    flat.set(k, FIELDS[k]!.parse(v, flag));
    sources[k] = "flag";
  }
  const config: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of flat) {
    const [group, name] = k.split(".") as [string, string];
    config[group] ??= {};
    config[group][name] = v;
  }
  return { config: config as unknown as NodeConfig, sources };
}

/** The file's fields as [dotted name, value] pairs; none if there is no file. */
function readFile(file: string): [string, unknown][] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw new ConfigError("BAD_FILE", `cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("BAD_FILE", `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new ConfigError("BAD_FILE", `${file} must hold one JSON object`);
  const out: [string, unknown][] = [];
  for (const [group, body] of Object.entries(doc)) {
    if (!isObject(body))
      throw new ConfigError("UNKNOWN_FIELD", `${file}: "${group}" must be an object of fields`);
    for (const [name, v] of Object.entries(body)) out.push([`${group}.${name}`, v]);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
