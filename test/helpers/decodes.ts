/** A decoder under fuzzing may return or throw DecodeError, nothing else. */
import { strict as assert } from "node:assert";
import { DecodeError } from "../../src/util/bytes.js";

/** Runs a decoder: its value, or undefined if it threw DecodeError; any other throw fails the test. */
export function decodes<T>(f: () => T, what: string): T | undefined {
  try {
    return f();
  } catch (e) {
    assert.ok(
      e instanceof DecodeError,
      `${what}: threw ${e instanceof Error ? e.name : typeof e}: ${String(e)}`,
    );
    return undefined;
  }
}
