/**
 * The pool's wire between threads: signature items packed in one transferable ArrayBuffer,
 * `u32 count | count x (u32 messageLength | publicKey[32] | signature[64] | message)`.
 */
import type { SigItem } from "./verify-batch.js";

/** Packs items into a fresh ArrayBuffer (to be transferred, not copied). */
export function packItems(items: readonly SigItem[]): ArrayBuffer {
  let size = 4;
  for (const it of items) size += 4 + 32 + 64 + it.message.length;
  const buf = new ArrayBuffer(size);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  dv.setUint32(0, items.length);
  let o = 4;
  for (const it of items) {
    dv.setUint32(o, it.message.length);
    u8.set(it.publicKey.subarray(0, 32), o + 4);
    u8.set(it.signature.subarray(0, 64), o + 36);
    u8.set(it.message, o + 100);
    o += 100 + it.message.length;
  }
  return buf;
}

/**
 * Unpacks items (views into `buf`). Keys and signatures have fixed-size slots: the pool marks items
 * of another size invalid itself, whatever a worker answers for them.
 */
export function unpackItems(buf: ArrayBuffer): SigItem[] {
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  const n = dv.getUint32(0);
  const out: SigItem[] = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(o);
    out.push({
      publicKey: u8.subarray(o + 4, o + 36),
      signature: u8.subarray(o + 36, o + 100),
      message: u8.subarray(o + 100, o + 100 + len),
    });
    o += 100 + len;
  }
  return out;
}
