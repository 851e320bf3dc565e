/**
 * The sign guard's formats (the file's lines, the export document) and their strict validation, and
 * the checks of what callers pass in: see sign-guard.ts for the formats.
 */
import {
  GUARD_STEPS,
  type GuardedVote,
  type GuardRepair,
  type GuardStep,
  KEEP_PULSES,
  PRUNE_THRESHOLD,
  SignGuardError,
  type SignGuardOptions,
} from "./sign-guard-types.js";

/** One record of an export document. */
export interface SignGuardRecordJson {
  readonly org: string;
  readonly pulse: number;
  readonly round: number;
  readonly step: GuardStep;
  readonly content: string;
}

/** One organization's floor in an export document: its votes below pulse `floor` are refused. */
export interface SignGuardFloorJson {
  readonly org: string;
  readonly floor: number;
}

/** What `export` returns and `import`/`merge` take (JSON-ready). */
export interface SignGuardExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof VERSION;
  readonly floors: SignGuardFloorJson[];
  readonly records: SignGuardRecordJson[];
}

/** The header's `format` of a guard file. */
const FILE_FORMAT = "leither-sign-guard";
/** The `format` of an export document. */
export const EXPORT_FORMAT = "leither-sign-guard-export";
/** The version of both formats. */
export const VERSION = 1;
const ORG_BYTES = 20;
const CONTENT_BYTES = 32;
const RECORD_KEYS = ["org", "pulse", "round", "step", "content"] as const;
const FLOOR_KEYS = ["org", "floor"] as const;
const EXPORT_KEYS = ["format", "version", "floors", "records"] as const;

/** A record, hex in lower case (map keys and comparisons rely on it). */
export interface GuardRecord {
  readonly org: string;
  readonly pulse: number;
  readonly round: number;
  readonly step: GuardStep;
  readonly content: string;
}

/** A floor line: the org's votes below pulse `floor` are refused. */
export interface FloorLine {
  readonly org: string;
  readonly floor: number;
}

/** A line of the guard file after the header. */
export type Line = GuardRecord | FloorLine;

/** An export document, checked whole (repeated records dropped). */
export interface ParsedExport {
  readonly floors: readonly FloorLine[];
  readonly records: readonly GuardRecord[];
}

/** SignGuardOptions, checked and with the defaults filled in. */
export interface Settings {
  readonly keepPulses: number;
  readonly pruneThreshold: number;
}

/** A record's slot within its org and pulse: "round:step". */
export function slotKey(r: GuardRecord): string {
  return `${r.round}:${r.step}`;
}

/** A record's slot, in words for messages. */
export function slotName(r: GuardRecord): string {
  return `the ${r.step} of pulse ${r.pulse} round ${r.round} of org ${r.org}`;
}

// --- the file ------------------------------------------------------------------------------------

/** The guard file's first line. */
export function headerLine(): string {
  return JSON.stringify({ format: FILE_FORMAT, version: VERSION });
}

/** A line's JSON, keys in the documented order. */
export function lineText(l: Line): string {
  if ("floor" in l) return JSON.stringify({ org: l.org, floor: l.floor });
  return JSON.stringify({ org: l.org, pulse: l.pulse, round: l.round, step: l.step, content: l.content });
}

/** Where `replay` puts the lines it reads: a GuardState (sign-guard-state.ts). */
export interface LineSink {
  apply(l: Line): string | undefined;
}

/**
 * Reads the file's lines into `state`. Returns the length of its good part, and the torn last line
 * (to be cut off) if any.
 */
export function replay(
  path: string,
  buf: Buffer,
  state: LineSink,
): { size: number; repaired: GuardRepair | undefined } {
  if (buf.length === 0)
    throw corrupt(path, "it is empty, with no header line (a guard file is created whole, header first)");
  let pos = 0;
  for (let n = 1; pos < buf.length; n++) {
    const nl = buf.indexOf(0x0a, pos);
    let value: unknown;
    let torn = nl === -1;
    if (!torn) {
      try {
        value = JSON.parse(buf.toString("utf8", pos, nl));
      } catch {
        if (nl !== buf.length - 1) throw corrupt(path, `line ${n} is not valid JSON`);
        torn = true;
      }
    }
    if (torn) {
      // Created whole (temp file, then link), a guard file always has its header: this is damage.
      if (n === 1) throw corrupt(path, "line 1, the header, is incomplete");
      return { size: pos, repaired: { line: n, bytes: buf.length - pos } };
    }
    if (n === 1) checkHeader(path, value);
    else {
      let l: Line;
      try {
        l = lineOf(value);
      } catch (err) {
        if (err instanceof Bad) throw corrupt(path, `line ${n}: ${err.message}`);
        throw err;
      }
      const held = state.apply(l);
      if (held !== undefined)
        throw corrupt(
          path,
          `line ${n} records content ${(l as GuardRecord).content} for ${slotName(l as GuardRecord)}, ` +
            `which an earlier line records as ${held}`,
        );
    }
    pos = nl + 1;
  }
  return { size: pos, repaired: undefined };
}

/** Checks line 1, the header. */
function checkHeader(path: string, v: unknown): void {
  if (!isObject(v) || v.format !== FILE_FORMAT || !Object.hasOwn(v, "version"))
    throw corrupt(
      path,
      `line 1 is not a sign guard header ({"format":"${FILE_FORMAT}","version":${VERSION}})`,
    );
  if (v.version !== VERSION)
    throw new SignGuardError(
      "FORMAT",
      `${path}: sign guard version ${JSON.stringify(v.version)} is not supported (a newer leither may have written it)`,
    );
  if (Object.keys(v).length !== 2) throw corrupt(path, "line 1, the header, has unknown fields");
}

/** The CORRUPT error for damage to the guard file at `path`. */
export function corrupt(path: string, what: string): SignGuardError {
  return new SignGuardError(
    "CORRUPT",
    `the sign guard ${path} is damaged: ${what}. Refusing to guess what this key signed; ` +
      `repair or restore the file before signing with the key`,
  );
}

// --- validation ----------------------------------------------------------------------------------

/** A field at fault; callers add where (the file and line, or the document's path). */
class Bad extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new Bad(`unknown field ${JSON.stringify(k)}`);
  for (const k of keys) if (!Object.hasOwn(o, k)) throw new Bad(`field "${k}" is missing`);
}

const HEX = /^[0-9a-fA-F]*$/;

function hexField(o: Record<string, unknown>, name: string, bytes: number): string {
  const v = o[name];
  if (typeof v !== "string" || v.length !== bytes * 2 || !HEX.test(v))
    throw new Bad(`field "${name}" must be ${bytes * 2} hex digits (${bytes} bytes)`);
  return v.toLowerCase();
}

function countField(o: Record<string, unknown>, name: string): number {
  const v = o[name];
  if (!isCount(v)) throw new Bad(`field "${name}" must be a whole number from 0 to 2^53 - 1`);
  return v;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function stepField(o: Record<string, unknown>, name: string): GuardStep {
  const v = o[name];
  if (!GUARD_STEPS.includes(v as GuardStep))
    throw new Bad(`field "${name}" must be one of ${GUARD_STEPS.join(", ")}`);
  return v as GuardStep;
}

function recordOf(v: unknown): GuardRecord {
  if (!isObject(v)) throw new Bad("not a JSON object");
  exactKeys(v, RECORD_KEYS);
  return {
    org: hexField(v, "org", ORG_BYTES),
    pulse: countField(v, "pulse"),
    round: countField(v, "round"),
    step: stepField(v, "step"),
    content: hexField(v, "content", CONTENT_BYTES),
  };
}

function floorOf(v: unknown): FloorLine {
  if (!isObject(v)) throw new Bad("not a JSON object");
  exactKeys(v, FLOOR_KEYS);
  return { org: hexField(v, "org", ORG_BYTES), floor: countField(v, "floor") };
}

function lineOf(v: unknown): Line {
  return isObject(v) && Object.hasOwn(v, "floor") ? floorOf(v) : recordOf(v);
}

/** Checks an export document whole, before anything is written. */
export function parseExport(doc: unknown): ParsedExport {
  const bad = (what: string) => new SignGuardError("FORMAT", `not a sign guard export document: ${what}`);
  if (!isObject(doc)) throw bad("not a JSON object");
  if (doc.format !== EXPORT_FORMAT) throw bad(`field "format" must be "${EXPORT_FORMAT}"`);
  if (doc.version !== VERSION)
    throw bad(
      `version ${JSON.stringify(doc.version)} is not supported (a newer leither may have written it)`,
    );
  try {
    exactKeys(doc, EXPORT_KEYS);
  } catch (err) {
    if (err instanceof Bad) throw bad(err.message);
    throw err;
  }
  const list = <T>(name: string, of: (v: unknown) => T): T[] => {
    const a = doc[name];
    if (!Array.isArray(a)) throw bad(`field "${name}" must be an array`);
    return a.map((v, i) => {
      try {
        return of(v);
      } catch (err) {
        if (err instanceof Bad) throw bad(`${name}[${i}]: ${err.message}`);
        throw err;
      }
    });
  };
  const floors = list("floors", floorOf);
  const seen = new Set<string>();
  for (const [i, f] of floors.entries()) {
    if (seen.has(f.org)) throw bad(`floors[${i}]: org ${f.org} has a floor already`);
    seen.add(f.org);
  }
  // Repeats are harmless and dropped; a document with two contents for one slot is itself evidence.
  const bySlot = new Map<string, GuardRecord>();
  const records: GuardRecord[] = [];
  for (const r of list("records", recordOf)) {
    const k = `${r.org}:${r.pulse}:${slotKey(r)}`;
    const held = bySlot.get(k);
    if (held === undefined) {
      bySlot.set(k, r);
      records.push(r);
    } else if (held.content !== r.content)
      throw new SignGuardError(
        "CONFLICT",
        `the document gives both content ${held.content} and content ${r.content} for ${slotName(r)} ` +
          `(the key signed twice)`,
      );
  }
  return { floors, records };
}

/** Checks options and fills in the defaults. @throws RangeError for a bad option. */
export function checkOptions(o: SignGuardOptions): Settings {
  const keepPulses = o.keepPulses ?? KEEP_PULSES;
  const pruneThreshold = o.pruneThreshold ?? PRUNE_THRESHOLD;
  if (!Number.isSafeInteger(keepPulses) || keepPulses < 1)
    throw new RangeError(`keepPulses must be a whole number from 1, got ${o.keepPulses}`);
  if (!isCount(pruneThreshold))
    throw new RangeError(`pruneThreshold must be a whole number from 0, got ${o.pruneThreshold}`);
  return { keepPulses, pruneThreshold };
}

/** Checks a vote given to `approve`, as the record it would add. @throws RangeError for a malformed vote. */
export function checkVote(v: GuardedVote): GuardRecord {
  if (!isObject(v)) throw new RangeError("approve takes a vote: { org, pulse, round, step, content }");
  const bytes = (name: "org" | "content", n: number): string => {
    const b = v[name];
    if (!(b instanceof Uint8Array) || b.length !== n)
      throw new RangeError(
        `${name} must be ${n} bytes, got ${b instanceof Uint8Array ? `${b.length} bytes` : typeof b}`,
      );
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
  };
  const count = (name: "pulse" | "round"): number => {
    const n = v[name];
    if (!isCount(n))
      throw new RangeError(`${name} must be a whole number from 0 to 2^53 - 1, got ${String(n)}`);
    return n;
  };
  if (!GUARD_STEPS.includes(v.step))
    throw new RangeError(
      `step must be one of ${GUARD_STEPS.join(", ")}, got ${typeof v.step === "string" ? JSON.stringify(v.step.slice(0, 40)) : typeof v.step}`,
    );
  return {
    org: bytes("org", ORG_BYTES),
    pulse: count("pulse"),
    round: count("round"),
    step: v.step,
    content: bytes("content", CONTENT_BYTES),
  };
}
