import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Worker } from "node:worker_threads";
import { generateKeyPair, type KeyPair, Signer } from "../src/crypto/ed25519.js";
import { LazyVerifyPool } from "../src/crypto/verify-lazy.js";
import { InlineVerifier, type SigItem, VerifyPool } from "../src/crypto/verify-pool.js";
import { tmpDir } from "./helpers/tmp.js";

const keys: KeyPair[] = Array.from({ length: 6 }, (_, i) => generateKeyPair(Buffer.alloc(32, i + 1)));
const signers = keys.map((k) => new Signer(k));

function flip(b: Uint8Array, i: number): Buffer {
  const out = Buffer.from(b);
  out[i % out.length]! ^= 0x01;
  return out;
}

/** A mixed batch and what each item must verify to, by construction (not by asking a verifier). */
function mixedBatch(n: number): { items: SigItem[]; expected: Uint8Array } {
  const items: SigItem[] = [];
  const expected = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % keys.length;
    const publicKey = keys[k]!.publicKey;
    const message = randomBytes(i % 50); // includes empty messages
    const signature = signers[k]!.sign(message);
    switch (i % 8) {
      case 0:
      case 1:
      case 7:
        items.push({ publicKey, message, signature });
        expected[i] = 1;
        break;
      case 2: // tampered message
        items.push({ publicKey, message: message.length ? flip(message, i) : Buffer.of(0), signature });
        break;
      case 3: // tampered signature
        items.push({ publicKey, message, signature: flip(signature, i) });
        break;
      case 4: // another signer's key
        items.push({ publicKey: keys[(k + 1) % keys.length]!.publicKey, message, signature });
        break;
      case 5: // wrong-length signature
        items.push({ publicKey, message, signature: randomBytes(i % 2 ? 63 : 0) });
        break;
      case 6: // wrong-length key
        items.push({ publicKey: randomBytes(i % 3 ? 31 : 0), message, signature });
        break;
    }
  }
  return { items, expected };
}

/** The pool's private workers, to kill one or watch what it is sent. */
const workersOf = (p: VerifyPool) => (p as unknown as { workers: Worker[] }).workers;

const pools: VerifyPool[] = [];
const pool = (opts: ConstructorParameters<typeof VerifyPool>[0]) => {
  const p = new VerifyPool(opts);
  pools.push(p);
  return p;
};
after(() => Promise.all(pools.map((p) => p.close())));

describe("VerifyPool", () => {
  it("gives exactly InlineVerifier's results on a mixed batch", async () => {
    const { items, expected } = mixedBatch(320);
    const p = pool({ threads: 2, minBatch: 1 });
    assert.equal(p.threads, 2);
    const inline = new InlineVerifier();
    assert.deepEqual(await inline.verifyBatch(items), expected);
    assert.deepEqual(await p.verifyBatch(items), expected);
    // Fewer items than threads, and an odd count that does not split evenly.
    assert.deepEqual(await p.verifyBatch(items.slice(0, 1)), expected.subarray(0, 1));
    assert.deepEqual(await p.verifyBatch(items.slice(0, 7)), expected.subarray(0, 7));
  });

  it("treats a key or signature of the wrong length as invalid, even one that would verify cut or padded", async () => {
    // The wire format has fixed 32- and 64-byte slots; these items verify if they are cut or
    // zero-padded to fit, so only a length check tells them apart.
    const k = keys[0]!;
    const msg = Buffer.from("pay 10");
    const sig = signers[0]!.sign(msg);
    const items: SigItem[] = [
      { publicKey: k.publicKey, message: msg, signature: sig },
      { publicKey: k.publicKey, message: msg, signature: Buffer.concat([sig, Buffer.of(0)]) },
      { publicKey: Buffer.concat([k.publicKey, Buffer.of(0)]), message: msg, signature: sig },
    ];
    // A signature ending in a zero byte (S < 2^253, so about 1 in 16 do), cut to 63 bytes.
    for (let i = 0; ; i++) {
      const m = Buffer.from(`message ${i}`);
      const s = signers[0]!.sign(m);
      if (s[63] !== 0) continue;
      items.push({ publicKey: k.publicKey, message: m, signature: s.subarray(0, 63) });
      break;
    }
    const expected = Uint8Array.of(1, 0, 0, 0);
    assert.deepEqual(await new InlineVerifier().verifyBatch(items), expected);
    assert.deepEqual(await pool({ threads: 2, minBatch: 1 }).verifyBatch(items), expected);
  });

  it("verifies a batch below minBatch on the calling thread", async () => {
    const { items, expected } = mixedBatch(40);
    const p = pool({ threads: 1, minBatch: 41 });
    workersOf(p)[0]!.postMessage = () => assert.fail("a small batch was sent to a worker");
    assert.deepEqual(await p.verifyBatch(items), expected);
  });

  it("returns an empty result for an empty batch", async () => {
    assert.deepEqual(await pool({ threads: 2, minBatch: 1 }).verifyBatch([]), new Uint8Array(0));
    assert.deepEqual(await pool({ threads: 2, minBatch: 0 }).verifyBatch([]), new Uint8Array(0));
  });

  it("rejects batches after close(), and closes twice", async () => {
    const p = pool({ threads: 2, minBatch: 1 });
    const { items, expected } = mixedBatch(16);
    assert.deepEqual(await p.verifyBatch(items), expected);
    await p.close();
    await assert.rejects(p.verifyBatch(items), /closed/);
    await assert.rejects(p.verifyBatch([]), /closed/);
    await p.close();
  });

  it("verifies a dead worker's share on the calling thread and replaces the worker", async () => {
    const { items, expected } = mixedBatch(200);
    const p = pool({ threads: 2, minBatch: 1 });
    const victim = workersOf(p)[0]!;
    // Swallow the job so that only the fallback can answer it, whatever the threads' timing.
    victim.postMessage = () => {};
    const pending = p.verifyBatch(items);
    await victim.terminate();
    assert.deepEqual(await pending, expected);
    assert.notEqual(workersOf(p)[0], victim);
    assert.equal(p.threads, 2);
    assert.deepEqual(await p.verifyBatch(items), expected);
  });

  it("retires a worker that does not answer by the deadline and verifies its share here", async () => {
    const { items, expected } = mixedBatch(200);
    const p = pool({ threads: 2, minBatch: 1, deadlineMs: 50 });
    const silent = workersOf(p)[1]!;
    silent.postMessage = () => {}; // a thread that never answers
    assert.deepEqual(await p.verifyBatch(items), expected);
    assert.notEqual(workersOf(p)[1], silent, "the silent worker was replaced");
    assert.deepEqual(await p.verifyBatch(items), expected);
  });

  it("replaces a crashed worker once", async () => {
    const p = pool({ threads: 1, minBatch: 1 });
    const internals = p as unknown as { spawn(i: number): Worker };
    const spawn = internals.spawn.bind(p);
    const spawned: Worker[] = [];
    internals.spawn = (i) => {
      const w = spawn(i);
      spawned.push(w);
      return w;
    };
    try {
      const victim = workersOf(p)[0]!;
      victim.ref(); // keep this file's event loop alive until its exit arrives
      const exited = new Promise((r) => victim.once("exit", r));
      // Not an ArrayBuffer: the worker throws, which emits "error" and then "exit".
      victim.postMessage({ id: -1, buf: 5 });
      await exited; // the pool's own listeners ran first
      assert.equal(spawned.length, 1, "a crash must start one replacement, not one per event");
      const { items, expected } = mixedBatch(20);
      assert.deepEqual(await p.verifyBatch(items), expected);
    } finally {
      // An extra replacement is not in the pool's list, so close() would not end it. Close first: the
      // pool replaces any worker that exits while it is open.
      await p.close();
      await Promise.all(spawned.map((w) => w.terminate()));
    }
  });
});

describe("VerifyPool and process exit", () => {
  const url = (rel: string) => JSON.stringify(new URL(rel, import.meta.url).href);
  const prelude = `
    const { VerifyPool } = await import(${url("../src/crypto/verify-pool.js")});
    const { generateKeyPair, Signer } = await import(${url("../src/crypto/ed25519.js")});
    const kp = generateKeyPair(new Uint8Array(32).fill(9));
    const s = new Signer(kp);
    const items = Array.from({ length: 100 }, (_, i) => {
      const message = new Uint8Array([i]);
      return { publicKey: kp.publicKey, message, signature: s.sign(message) };
    });
    const count = (r) => r.reduce((a, b) => a + b, 0);
  `;
  const dir = tmpDir("leither-pool-");
  let n = 0;

  /** Runs `body` as a module file in a child node; resolves with its stdout once it exits by itself. */
  async function runChild(body: string): Promise<string> {
    // A file, not --eval: workers inherit execArgv, and --input-type makes each of them fail to start.
    const file = join(dir, `child-${n++}.mjs`);
    await writeFile(file, `${prelude}\n${body}`);
    return new Promise((resolve, reject) => {
      // The timeout only turns a hang (the bug under test) into a failure; a pass takes well under 1 s.
      execFile(process.execPath, [file], { timeout: 8_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`the child did not exit by itself (${err.signal ?? err.code}) ${stderr}`));
        else resolve(stdout);
      });
    });
  }

  it("an unclosed pool that verified a batch does not keep the process alive", async () => {
    const out = await runChild(`
      const pool = new VerifyPool({ threads: 2, minBatch: 1 });
      console.log(count(await pool.verifyBatch(items)));`);
    assert.equal(out.trim(), "100");
  });

  it("nor does one whose workers were never sent a batch", async () => {
    const out = await runChild(`
      const pool = new VerifyPool({ threads: 2, minBatch: 1000 });
      console.log(count(await pool.verifyBatch(items)));`);
    assert.equal(out.trim(), "100");
  });

  it("nor does one whose worker died during a batch", async () => {
    // Worker 1 answers first; worker 0, which never got its job, dies after.
    const out = await runChild(`
      const pool = new VerifyPool({ threads: 2, minBatch: 1 });
      const [w0, w1] = pool.workers;
      w0.postMessage = () => {};
      const answered = new Promise((r) => w1.once("message", r));
      const pending = pool.verifyBatch(items);
      await answered;
      await w0.terminate();
      console.log(count(await pending));`);
    assert.equal(out.trim(), "100");
  });
});

describe("LazyVerifyPool", () => {
  it("runs threads only for large batches, stops them when idle, and answers as inline", async () => {
    const lazy = new LazyVerifyPool({ threads: 2, minBatch: 16, idleMs: 50 });
    try {
      const small = mixedBatch(8);
      assert.deepEqual(await lazy.verifyBatch(small.items), small.expected);
      assert.equal(lazy.active, false, "a small batch starts no thread");
      const big = mixedBatch(200);
      assert.deepEqual(await lazy.verifyBatch(big.items), big.expected);
      assert.equal(lazy.active, true);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(lazy.active, false, "idle threads are stopped");
      assert.deepEqual(await lazy.verifyBatch(big.items), big.expected, "and started again on demand");
    } finally {
      await lazy.close();
    }
    await assert.rejects(lazy.verifyBatch(mixedBatch(1).items), /closed/);
  });
});
