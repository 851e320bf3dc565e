/**
 * Short human text inside signed messages (names, public reasons): `uvarint length || UTF-8 bytes`.
 * One encoding per value: well-formed UTF-8 only (so decoding then encoding gives the same bytes), no
 * control characters (they would let a reason rewrite an operator's terminal), a byte limit per field.
 */
import { DecodeError, type Reader, type Writer } from "./bytes.js";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a string cannot be encoded, or undefined if it can. */
export function textProblem(s: unknown, maxBytes: number): string | undefined {
  if (typeof s !== "string") return "is not a string";
  if (!s.isWellFormed()) return "is not well-formed Unicode";
  if (CONTROL.test(s)) return "contains a control character";
  const n = Buffer.byteLength(s, "utf8");
  if (n > maxBytes) return `is ${n} bytes of UTF-8, more than ${maxBytes}`;
  return undefined;
}

/** Writes `s` (checked: throws RangeError naming `what`). */
export function writeText(w: Writer, s: string, maxBytes: number, what: string): void {
  const problem = textProblem(s, maxBytes);
  if (problem !== undefined) throw new RangeError(`${what} ${problem}`);
  const b = Buffer.from(s, "utf8");
  w.uvarint(b.length);
  w.bytes(b);
}

/** Reads a string written by writeText; throws DecodeError on anything else. */
export function readText(r: Reader, maxBytes: number, what: string): string {
  const n = r.uvarintNumber(`${what} length`);
  if (n > maxBytes) throw new DecodeError(`${what}: ${n} bytes, more than ${maxBytes}`);
  let s: string;
  try {
    s = decoder.decode(r.bytes(n, what));
  } catch {
    throw new DecodeError(`${what}: not valid UTF-8`);
  }
  if (CONTROL.test(s)) throw new DecodeError(`${what}: contains a control character`);
  return s;
}
