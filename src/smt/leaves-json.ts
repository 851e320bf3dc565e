/** The vectors' JSON shape of a set of leaves, parsed strictly (for the CLI and for tools). */
import { FormatError, hexField, u64Field } from "./proof.js";
import type { LeafOp } from "./tree.js";

/**
 * Reads `{"leaves": [...]}`, or the case named `caseName` of a vectors file (`{"cases": [...]}`).
 * Throws FormatError naming the bad field (ids must be distinct).
 */
export function leavesFromJson(json: unknown, caseName?: string): LeafOp[] {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new FormatError('expected a JSON object with a "leaves" array');
  let src = json as Record<string, unknown>;
  if (caseName !== undefined) {
    if (!Array.isArray(src.cases)) throw new FormatError('--case given, but the file has no "cases" array');
    const found = src.cases.find(
      (c) => typeof c === "object" && c !== null && (c as { name?: unknown }).name === caseName,
    );
    if (found === undefined) {
      const names = src.cases.map((c) => (c as { name?: unknown }).name).join(", ");
      throw new FormatError(`no case named ${JSON.stringify(caseName)} (cases: ${names})`);
    }
    src = found as Record<string, unknown>;
  } else if (!Array.isArray(src.leaves) && Array.isArray(src.cases)) {
    throw new FormatError("this is a vectors file: choose a case with --case NAME");
  }
  if (!Array.isArray(src.leaves)) throw new FormatError("leaves: expected an array");
  const seen = new Set<string>();
  return src.leaves.map((raw, i) => {
    if (typeof raw !== "object" || raw === null) throw new FormatError(`leaves[${i}]: expected an object`);
    const l = raw as Record<string, unknown>;
    const id = hexField(l.id, 20, `leaves[${i}].id`);
    const key = id.toString("hex");
    if (seen.has(key)) throw new FormatError(`leaves[${i}].id: ${key} appears twice`);
    seen.add(key);
    return {
      id,
      leaf: {
        amount: u64Field(l.amount, `leaves[${i}].amount`),
        dataHash: hexField(l.dataHash, 32, `leaves[${i}].dataHash`),
      },
    };
  });
}
