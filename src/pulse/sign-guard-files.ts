/** The sign guard's file primitives: whole-or-nothing creation, temp files, folders, fsync. */

import { randomBytes } from "node:crypto";
import { type FileHandle, link, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { exists, makeDirs as makeDirsIn, syncDir } from "../util/fs.js";

export { syncDir };

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** An error's message, or the thrown value as text. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Sets `e.cause`, and returns `e`. */
export function withCause<E extends Error>(e: E, cause: unknown): E {
  e.cause = cause;
  return e;
}

/** A fresh temp file name beside `path` (see removeTemps). */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Removes temp files a crash mid-write left beside `path` (only this file's: the name is exact). */
export async function removeTemps(path: string): Promise<void> {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const mine = new RegExp(`^\\.${base}\\.\\d+\\.[0-9a-f]{12}\\.tmp$`);
  for (const name of await readdir(dirname(path)))
    if (mine.test(name)) await rm(join(dirname(path), name), { force: true });
}

/**
 * Creates `path` holding `text`, whole or not at all (temp file, fsync, then a hard link, which unlike
 * rename never replaces a file). Returns false if `path` exists.
 */
export async function createNew(path: string, text: string): Promise<boolean> {
  const tmp = tempPath(path);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await writeAll(fh, Buffer.from(text), 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
    } catch (err) {
      const c = code(err);
      if (c === "EEXIST") return false;
      if (c !== "EPERM" && c !== "ENOTSUP" && c !== "ENOSYS" && c !== "EOPNOTSUPP") throw err;
      // No hard links here (FAT, some network mounts): rename, after a last look.
      if (await exists(path)) return false;
      await rename(tmp, path);
    }
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(path));
  return true;
}

/** Writes all of `buf` at `position` (a write may be short). */
export async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

/** Creates `dir` and its missing parents, syncing each new entry into its parent. */
export function makeDirs(dir: string): Promise<void> {
  return makeDirsIn(
    dir,
    (p, err) =>
      new Error(`cannot create the folder ${p} for the sign guard: ${messageOf(err)}`, { cause: err }),
    (p) => syncDir(dirname(p)),
  );
}

export { exists };
