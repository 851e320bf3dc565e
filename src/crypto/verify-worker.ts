/** A VerifyPool worker: verifies packed signature items and posts back one byte (0 or 1) per item. */
import { parentPort } from "node:worker_threads";
import { InlineVerifier } from "./verify-batch.js";
import { unpackItems } from "./verify-pack.js";

const verifier = new InlineVerifier();
parentPort!.on("message", (m: { id: number; buf: ArrayBuffer }) => {
  const result = verifier.verifySync(unpackItems(m.buf));
  parentPort!.postMessage({ id: m.id, result }, [result.buffer as ArrayBuffer]);
});
