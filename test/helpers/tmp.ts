/** Temporary folders for tests, removed when the test file ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const dirs: string[] = [];

// Registered when the file's imports run, so at the file's top level: registered lazily from inside a
// hook, `after` would belong to that hook and remove the folders as soon as it ended.
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A new empty folder under the OS temp dir, removed after the file's tests. */
export function tmpDir(prefix = "leither-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
