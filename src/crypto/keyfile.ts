/**
 * A node's key file in its data dir: one JSON object holding the ed25519 key pair, the secret either
 * in hex or sealed with a passphrase (scrypt, then AES-256-GCM with the public key as AAD).
 *
 *   {"format":"leither-key","version":1,"id":hex(20),"publicKey":hex(32),"secretKey":hex(32)}
 *   {"format":"leither-key","version":1,"id":..,"publicKey":..,
 *    "encrypted":{"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":hex(16),
 *                 "cipher":"aes-256-gcm","iv":hex(12),"ciphertext":hex(32),"tag":hex(16)}}
 *
 * Error messages name the file and the field at fault, never a secret's bytes.
 */

import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { type FileHandle, link, open, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { CodedError } from "../util/errors.js";
import { exists } from "../util/fs.js";
import { PUBLIC_KEY_BYTES } from "./account-id.js";
import { generateKeyPair, type KeyPair, SECRET_KEY_BYTES } from "./ed25519.js";

/** Why a key file could not be read or written. */
export type KeyFileErrorCode =
  | "NOT_FOUND"
  | "PERMISSIONS"
  | "FORMAT"
  | "PASSPHRASE_REQUIRED"
  | "BAD_PASSPHRASE"
  | "MISMATCH"
  | "EXISTS";

/** A key file problem, in words an operator can act on. The message never contains secret bytes. */
export class KeyFileError extends CodedError<KeyFileErrorCode> {}

/** Options of writeKeyFile. */
export interface WriteKeyFileOptions {
  /** Seal the secret key with this passphrase (NFKC-normalized); without it the secret is stored in hex. */
  passphrase?: string;
  /**
   * scrypt's cost N, a power of two from 2^10 to 2^20; about 128 * N bytes of memory. Lower it only in
   * tests. @default 131072 (2^17)
   */
  scryptN?: number;
}

/** Options of readKeyFile. */
export interface ReadKeyFileOptions {
  /** The passphrase of an encrypted key file (ignored for a plain one). */
  passphrase?: string;
}

const FORMAT = "leither-key";
const VERSION = 1;
const DEFAULT_SCRYPT_N = 2 ** 17;
// Bounds on N read from a file: a hostile file must not make us allocate gigabytes (2^20 is 1 GiB).
const MIN_SCRYPT_N = 2 ** 10;
const MAX_SCRYPT_N = 2 ** 20;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ID_BYTES = 20;
// A key file is a few hundred bytes; refuse to slurp anything much larger.
const MAX_FILE_BYTES = 64 * 1024;

/**
 * Writes `kp` to a new key file at `path` with mode 0600. Never overwrites: an existing file (or
 * anything else at `path`) is an `EXISTS` error. The file appears whole or not at all: it is written
 * to a temporary file in the same folder, synced, then linked into place.
 * @throws KeyFileError `EXISTS`, or `MISMATCH` when `kp`'s public key or id is not its secret key's.
 */
export async function writeKeyFile(path: string, kp: KeyPair, opts: WriteKeyFileOptions = {}): Promise<void> {
  checkPair(path, kp);
  const { passphrase } = opts;
  if (passphrase !== undefined && passphrase.length === 0)
    throw new RangeError("the passphrase must not be empty (omit it to store the key unencrypted)");
  const N = opts.scryptN ?? DEFAULT_SCRYPT_N;
  if (!isScryptN(N))
    throw new RangeError(`scryptN must be a power of two from 2^10 to 2^20, got ${opts.scryptN}`);
  // Fail before spending a second on scrypt when the answer is already known.
  if (await exists(path)) throw existsError(path);

  const publicKey = Buffer.from(kp.publicKey);
  const doc: Record<string, unknown> = {
    format: FORMAT,
    version: VERSION,
    id: Buffer.from(kp.id).toString("hex"),
    publicKey: publicKey.toString("hex"),
  };
  if (passphrase === undefined) doc.secretKey = Buffer.from(kp.secretKey).toString("hex");
  else doc.encrypted = await seal(kp.secretKey, publicKey, passphrase, N);
  await writeNew(path, `${JSON.stringify(doc, null, 2)}\n`);
}

/**
 * Reads the key file at `path` and checks it whole: mode, format, every field, that the public key is
 * the secret key's and the id the public key's.
 * @throws KeyFileError `NOT_FOUND`; `PERMISSIONS` when group or others may access it (POSIX) or it
 * cannot be read; `FORMAT` for malformed JSON or fields; `PASSPHRASE_REQUIRED` for an encrypted file
 * without a passphrase; `BAD_PASSPHRASE` when decryption fails; `MISMATCH` when keys and id disagree.
 */
export async function readKeyFile(path: string, opts: ReadKeyFileOptions = {}): Promise<KeyPair> {
  const text = await readChecked(path);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // V8's SyntaxError quotes the text around the fault, which may be the secret: do not pass it on.
    throw formatError(path, "not valid JSON");
  }
  if (!isObject(doc)) throw formatError(path, "not a JSON object");
  if (doc.format !== FORMAT) throw formatError(path, `field "format" must be "${FORMAT}"`);
  if (doc.version !== VERSION)
    throw formatError(path, `field "version" must be ${VERSION} (a newer leither may have written it)`);
  const id = hexField(path, doc, "id", ID_BYTES);
  const publicKey = hexField(path, doc, "publicKey", PUBLIC_KEY_BYTES);

  let secretKey: Buffer;
  if ("secretKey" in doc) {
    if ("encrypted" in doc) throw formatError(path, `has both "secretKey" and "encrypted"; keep one`);
    secretKey = hexField(path, doc, "secretKey", SECRET_KEY_BYTES);
  } else if ("encrypted" in doc) {
    const sealed = parseSealed(path, doc.encrypted);
    if (!opts.passphrase)
      throw new KeyFileError("PASSPHRASE_REQUIRED", `${path} is encrypted: a passphrase is required`);
    secretKey = await unseal(path, sealed, publicKey, opts.passphrase);
  } else {
    throw formatError(path, `field "secretKey" or "encrypted" is missing`);
  }

  const kp = generateKeyPair(secretKey);
  secretKey.fill(0);
  if (!timingSafeEqual(kp.publicKey, publicKey))
    throw new KeyFileError("MISMATCH", `${path}: field "publicKey" is not the secret key's public key`);
  if (!kp.id.equals(id))
    throw new KeyFileError("MISMATCH", `${path}: field "id" is not the public key's account id`);
  return kp;
}

// --- sealing -------------------------------------------------------------------------------------

interface Sealed {
  readonly kdf: "scrypt";
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly cipher: "aes-256-gcm";
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

function deriveKey(passphrase: string, salt: Uint8Array, N: number): Promise<Uint8Array> {
  // The async variant yields to the event loop every few ms: a daemon keeps serving while it derives.
  return scryptAsync(passphrase.normalize("NFKC"), salt, { N, r: SCRYPT_R, p: SCRYPT_P, dkLen: 32 });
}

async function seal(
  secretKey: Uint8Array,
  publicKey: Buffer,
  passphrase: string,
  N: number,
): Promise<Sealed> {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const key = await deriveKey(passphrase, salt, N);
  try {
    const c = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    // The public key as AAD binds the sealed secret to the key pair the file claims.
    c.setAAD(publicKey);
    const ciphertext = Buffer.concat([c.update(secretKey), c.final()]);
    return {
      kdf: "scrypt",
      N,
      r: SCRYPT_R,
      p: SCRYPT_P,
      salt: salt.toString("hex"),
      cipher: "aes-256-gcm",
      iv: iv.toString("hex"),
      ciphertext: ciphertext.toString("hex"),
      tag: c.getAuthTag().toString("hex"),
    };
  } finally {
    key.fill(0);
  }
}

async function unseal(path: string, s: Sealed, publicKey: Buffer, passphrase: string): Promise<Buffer> {
  const key = await deriveKey(passphrase, Buffer.from(s.salt, "hex"), s.N);
  try {
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(s.iv, "hex"), { authTagLength: TAG_BYTES });
    d.setAAD(publicKey);
    d.setAuthTag(Buffer.from(s.tag, "hex"));
    return Buffer.concat([d.update(Buffer.from(s.ciphertext, "hex")), d.final()]);
  } catch {
    // GCM cannot tell a wrong key from altered bytes; the passphrase is by far the likelier cause.
    throw new KeyFileError(
      "BAD_PASSPHRASE",
      `cannot decrypt ${path}: wrong passphrase (or the file was altered)`,
    );
  } finally {
    key.fill(0);
  }
}

function parseSealed(path: string, v: unknown): Sealed {
  if (!isObject(v)) throw formatError(path, `field "encrypted" must be an object`);
  if (v.kdf !== "scrypt") throw formatError(path, `field "encrypted.kdf" must be "scrypt"`);
  if (!isScryptN(v.N))
    throw formatError(path, `field "encrypted.N" must be a power of two from 2^10 to 2^20`);
  if (v.r !== SCRYPT_R) throw formatError(path, `field "encrypted.r" must be ${SCRYPT_R}`);
  if (v.p !== SCRYPT_P) throw formatError(path, `field "encrypted.p" must be ${SCRYPT_P}`);
  if (v.cipher !== "aes-256-gcm") throw formatError(path, `field "encrypted.cipher" must be "aes-256-gcm"`);
  hexField(path, v, "salt", SALT_BYTES, "encrypted.");
  hexField(path, v, "iv", IV_BYTES, "encrypted.");
  hexField(path, v, "ciphertext", SECRET_KEY_BYTES, "encrypted.");
  hexField(path, v, "tag", TAG_BYTES, "encrypted.");
  return v as unknown as Sealed;
}

// --- fields --------------------------------------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isScryptN(n: unknown): n is number {
  return (
    typeof n === "number" &&
    Number.isInteger(n) &&
    n >= MIN_SCRYPT_N &&
    n <= MAX_SCRYPT_N &&
    (n & (n - 1)) === 0
  );
}

const HEX = /^[0-9a-fA-F]*$/;

/** The bytes of a hex field of exactly `bytes` bytes; the message names the field, never its value. */
function hexField(
  path: string,
  o: Record<string, unknown>,
  name: string,
  bytes: number,
  prefix = "",
): Buffer {
  const v = o[name];
  if (typeof v !== "string" || v.length !== bytes * 2 || !HEX.test(v))
    throw formatError(path, `field "${prefix}${name}" must be ${bytes * 2} hex digits (${bytes} bytes)`);
  return Buffer.from(v, "hex");
}

function formatError(path: string, what: string): KeyFileError {
  return new KeyFileError("FORMAT", `${path} is not a valid leither key file: ${what}`);
}

function checkPair(path: string, kp: KeyPair): void {
  if (kp.secretKey.length !== SECRET_KEY_BYTES)
    throw new RangeError(`an ed25519 secret key is ${SECRET_KEY_BYTES} bytes, got ${kp.secretKey.length}`);
  const derived = generateKeyPair(kp.secretKey);
  if (kp.publicKey.length !== PUBLIC_KEY_BYTES || !timingSafeEqual(derived.publicKey, kp.publicKey))
    throw new KeyFileError("MISMATCH", `not writing ${path}: the public key is not the secret key's`);
  if (!derived.id.equals(kp.id))
    throw new KeyFileError("MISMATCH", `not writing ${path}: the id is not the public key's account id`);
}

// --- files ---------------------------------------------------------------------------------------

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function existsError(path: string): KeyFileError {
  return new KeyFileError(
    "EXISTS",
    `${path} already exists; refusing to overwrite a key file (move it away first)`,
  );
}

/** Opens, checks the mode of and reads the key file (the mode from the open handle, so no race). */
async function readChecked(path: string): Promise<string> {
  let fh: FileHandle;
  try {
    // Not a regular file (a FIFO would block the open forever): refuse before opening.
    if (!(await stat(path)).isFile()) throw new KeyFileError("FORMAT", `${path} is not a regular file`);
    fh = await open(path, "r");
  } catch (err) {
    const c = code(err);
    if (c === "ENOENT") throw new KeyFileError("NOT_FOUND", `no key file at ${path}`);
    if (c === "EACCES" || c === "EPERM")
      throw new KeyFileError("PERMISSIONS", `cannot read ${path}: permission denied (is it another user's?)`);
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw formatError(path, "not a regular file");
    if (process.platform !== "win32" && (st.mode & 0o077) !== 0)
      throw new KeyFileError(
        "PERMISSIONS",
        `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); ` +
          `a secret key must be private: run chmod 600 ${path}`,
      );
    if (st.size > MAX_FILE_BYTES) throw formatError(path, `larger than ${MAX_FILE_BYTES} bytes`);
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

/** Creates `path` with `text` atomically and without overwriting anything. */
async function writeNew(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await place(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/**
 * Moves the temp file to `path`. A hard link fails if `path` exists, where rename would silently
 * replace it; rename remains for filesystems without hard links (FAT, some network mounts).
 */
async function place(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (err) {
    const c = code(err);
    if (c === "EEXIST") throw existsError(path);
    if (c !== "EPERM" && c !== "ENOTSUP" && c !== "ENOSYS" && c !== "EOPNOTSUPP") throw err;
    if (await exists(path)) throw existsError(path);
    await rename(tmp, path);
    return;
  }
  await unlink(tmp);
}

/** Makes the new directory entry durable (POSIX; a no-op where folders cannot be opened). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Windows cannot open a folder; the file itself was synced.
  } finally {
    await fh?.close();
  }
}
