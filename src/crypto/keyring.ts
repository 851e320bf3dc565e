/**
 * The keys this node signs with: its own (`key.json`, the account it runs as) and local accounts
 * made with `leither keys new` (`keys/<id>.json`, each a key file of keyfile.ts). The daemon loads
 * them all at start, so it can sign a transfer as payer and countersign as payee when it holds both.
 * With a passphrase, every key file is sealed with it (the node key's and the new ones alike).
 */
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, Signer } from "./ed25519.js";
import { readKeyFile, writeKeyFile } from "./keyfile.js";

/** One key the node holds. */
export interface KeyInfo {
  /** Account id, 40 hex digits. */
  readonly id: string;
  /** Public key, 64 hex digits. */
  readonly publicKey: string;
  /** True for the node's own key (key.json). */
  readonly node: boolean;
}

/** The node's keys, by account id. */
export class Keyring {
  private readonly signers = new Map<string, Signer>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly node: Signer,
    private readonly dir: string,
    private readonly passphrase: string | undefined,
  ) {
    this.signers.set(node.id.toString("hex"), node);
  }

  /** Loads `nodeKeyPath` and every `*.json` in `dir` (created if missing). */
  static async open(nodeKeyPath: string, dir: string, passphrase?: string): Promise<Keyring> {
    const opts = passphrase === undefined ? {} : { passphrase };
    const ring = new Keyring(new Signer(await readKeyFile(nodeKeyPath, opts)), dir, passphrase);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of (await readdir(dir)).sort()) {
      if (!name.endsWith(".json")) continue;
      const s = new Signer(await readKeyFile(join(dir, name), opts));
      ring.signers.set(s.id.toString("hex"), s);
    }
    return ring;
  }

  /** The signer of account `id` (40 hex digits), if this node holds its key. */
  get(id: string): Signer | undefined {
    return this.signers.get(id);
  }

  /** Every key, the node's first. */
  list(): KeyInfo[] {
    return [...this.signers.values()].map((s) => ({
      id: s.id.toString("hex"),
      publicKey: Buffer.from(s.publicKey).toString("hex"),
      node: s === this.node,
    }));
  }

  /**
   * Makes a new key pair, writes it to `keys/<id>.json` (mode 0600) and holds it. One at a time: with
   * a passphrase each key costs a scrypt of about 128 MiB, and a burst of calls must not add up.
   */
  create(): Promise<KeyInfo> {
    const run = this.queue.then(() => this.createOne());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async createOne(): Promise<KeyInfo> {
    const kp = generateKeyPair();
    const id = kp.id.toString("hex");
    await writeKeyFile(
      join(this.dir, `${id}.json`),
      kp,
      this.passphrase === undefined ? {} : { passphrase: this.passphrase },
    );
    const s = new Signer(kp);
    this.signers.set(id, s);
    return { id, publicKey: Buffer.from(s.publicKey).toString("hex"), node: false };
  }
}
