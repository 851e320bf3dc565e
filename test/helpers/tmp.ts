/** Temporary folders for tests, removed when the test file ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const dirs: string[] = [];
let hooked = false;

/** A new empty folder under the OS temp dir, removed after the file's tests. */
export function tmpDir(prefix = "leither-test-"): string {
  if (!hooked) {
    hooked = true;
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  }
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
