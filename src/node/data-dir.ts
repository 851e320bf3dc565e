/**
 * The data dir (default `~/.leither`, or `$LEITHER_HOME`, or `--data-dir`) and its layout:
 *
 *   config.json   the configuration file (optional; config.ts)
 *   key.json      this node's key pair (mode 0600; keyfile.ts)
 *   rpc.cookie    the JSON-RPC token (mode 0600), the cookie-file pattern of bitcoind
 *   db/           the LevelDB of the ledger
 *   logs/         log files
 *
 * `initDataDir` creates what is missing and never overwrites anything, so running it twice is safe.
 */

import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../crypto/ed25519.js";
import { writeKeyFile } from "../crypto/keyfile.js";
import { exists, makeDirs } from "../util/fs.js";
import { CONFIG_FILE } from "./config.js";

/** The data dir: the flag, else $LEITHER_HOME, else ~/.leither. */
export function dataDir(flag?: string): string {
  return flag ?? process.env.LEITHER_HOME ?? join(homedir(), ".leither");
}

/** The paths inside a data dir. */
export interface DataDirPaths {
  readonly root: string;
  readonly config: string;
  readonly key: string;
  readonly cookie: string;
  readonly db: string;
  readonly logs: string;
}

/** The layout of the data dir at `root`. */
export function dataDirPaths(root: string): DataDirPaths {
  return {
    root,
    config: join(root, CONFIG_FILE),
    key: join(root, "key.json"),
    cookie: join(root, "rpc.cookie"),
    db: join(root, "db"),
    logs: join(root, "logs"),
  };
}

/** What initDataDir did. */
export interface InitResult {
  readonly paths: DataDirPaths;
  /** Names of what it created (the rest was there already). */
  readonly created: readonly string[];
  /** The node's account id, from its key file. */
  readonly id: string;
}

/** Options of initDataDir. */
export interface InitOptions {
  /** Encrypt a new key file with this passphrase. */
  readonly passphrase?: string;
  /** scrypt's N for a new encrypted key file (tests lower it). @default 2^17 */
  readonly scryptN?: number;
}

/** Creates what is missing of the data dir at `root`; never overwrites. */
export async function initDataDir(root: string, opts: InitOptions = {}): Promise<InitResult> {
  const paths = dataDirPaths(root);
  const created: string[] = [];
  await makeDirs(
    root,
    (_p, err) => new DataDirError(`cannot create the data dir at ${root}: ${err.message}`),
  );
  for (const [name, dir] of [
    ["db/", paths.db],
    ["logs/", paths.logs],
  ] as const) {
    if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) created.push(name);
  }
  if (!(await exists(paths.key))) {
    const kp = generateKeyPair();
    const keyOpts = opts.passphrase === undefined ? {} : { passphrase: opts.passphrase };
    await writeKeyFile(
      paths.key,
      kp,
      opts.scryptN === undefined ? keyOpts : { ...keyOpts, scryptN: opts.scryptN },
    );
    created.push("key.json");
  }
  try {
    await writeFile(paths.cookie, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    created.push("rpc.cookie");
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  }
  return { paths, created, id: await keyFileId(paths.key) };
}

/** The account id recorded in a key file (no passphrase needed: the id is public). */
export async function keyFileId(path: string): Promise<string> {
  const doc = JSON.parse(await readFile(path, "utf8")) as { id?: unknown };
  if (typeof doc.id !== "string" || !/^[0-9a-f]{40}$/.test(doc.id))
    throw new Error(`${path}: no account id in the key file`);
  return doc.id;
}

/** Why the data dir cannot be made or used, in words an operator can act on. */
export class DataDirError extends Error {
  override name = "DataDirError";
}
