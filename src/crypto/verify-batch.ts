/** Batch signature verification: the interface, and the implementation on the calling thread. */
import { Verifier } from "./ed25519.js";

/** One signature to check. */
export interface SigItem {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Verifies many signatures at once: result[i] is 1 when item i verifies, else 0. */
export interface BatchVerifier {
  verifyBatch(items: readonly SigItem[]): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Verifies on the calling thread. */
export class InlineVerifier implements BatchVerifier {
  // Its callers (checked.ts) consult and fill the verified cache: not again per signature here.
  private readonly v = new Verifier(65_536, false);

  verifyBatch(items: readonly SigItem[]): Promise<Uint8Array> {
    return Promise.resolve(this.verifySync(items));
  }

  /** The same, synchronously. */
  verifySync(items: readonly SigItem[]): Uint8Array {
    const out = new Uint8Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      out[i] = this.v.verify(it.signature, it.message, it.publicKey) ? 1 : 0;
    }
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
