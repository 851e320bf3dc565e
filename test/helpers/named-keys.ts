/** Fixed keys for vectors: a name and a seed of one repeated byte, so every run signs the same bytes. */
import { generateKeyPair, type KeyPair, Signer } from "../../src/crypto/ed25519.js";

/** A key of the vectors. */
export interface NamedKey {
  readonly name: string;
  readonly seed: Buffer;
  readonly kp: KeyPair;
  readonly signer: Signer;
  readonly id: Buffer;
}

/** The key made from 32 bytes of `fill`. */
export function namedKey(name: string, fill: number): NamedKey {
  const seed = Buffer.alloc(32, fill);
  const kp = generateKeyPair(seed);
  return { name, seed, kp, signer: new Signer(kp), id: kp.id };
}
