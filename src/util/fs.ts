/** Small file-system helpers shared by the data dir, key files and the sign guard. */
import { lstat, mkdir, open } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Whether anything (a dangling symlink too) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Creates `dir` and its missing parents (mode 0700), one level at a time: Node's recursive mkdir
 * retries forever on a path the kernel will not create (under /proc, say) instead of failing.
 * `made` runs after each folder is created (to sync it into its parent); `fail` words an error.
 */
export async function makeDirs(
  dir: string,
  fail: (path: string, err: Error) => Error,
  made?: (path: string) => Promise<void>,
): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(dir); !(await exists(p)); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      await mkdir(p, { mode: 0o700 });
    } catch (err) {
      if ((err as { code?: string }).code === "EEXIST") continue;
      throw fail(p, err as Error);
    }
    await made?.(p);
  }
}

/** Makes directory entries in `dir` durable (a rename, a new file). */
export async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a folder (and NTFS journals its metadata).
  if (process.platform === "win32") return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
