/** Temporary folders for tests, removed when the test file ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];

// At the process's exit (each test file runs in its own process): after every hook, so a node a test
// file stops in its own `after` is stopped before its folder goes. (An `after` registered here would
// run first; one registered lazily from inside a hook would run when that hook ended.)
process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A new empty folder under the OS temp dir, removed after the file's tests. */
export function tmpDir(prefix = "leither-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
