/**
 * The committee draw (docs/PROTOCOL.md §12): a weighted draw without replacement, in integer
 * arithmetic only, so that every node computes the same chief and backups from the same weights and
 * seed. Candidates are ordered by account id; each pick takes 32 bytes of a SHA-256 stream of the seed
 * as a 256-bit integer, refuses it if it falls in the tail that would bias `r mod total` (then takes
 * the next), and finds the candidate whose cumulative weight interval holds `r mod total` by binary
 * search. No floats, no Math.random. The seed mixes a finalized root with the candidates' revealed
 * secrets (`drawSeed`), so no single bookkeeper chooses it.
 */
import { hash } from "node:crypto";

/** A candidate and its frozen weight (votes received plus its deposit, at the snapshot pulse). */
export interface Weighted {
  readonly id: Buffer;
  readonly weight: bigint;
}

const STREAM_TAG = Buffer.from("LEITHER\0draw", "latin1");
const SEED_TAG = Buffer.from("LEITHER\0seed", "latin1");
const COMMIT_TAG = Buffer.from("LEITHER\0commit", "latin1");
const SPACE = 1n << 256n;

/** The i-th 256-bit number of the seed's stream: SHA-256("LEITHER\0draw" ‖ seed ‖ u32 i), big-endian. */
export function streamWord(seed: Uint8Array, i: number): bigint {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(i);
  return BigInt(`0x${hash("sha256", Buffer.concat([STREAM_TAG, seed, n]), "hex")}`);
}

/**
 * Draws up to `size` distinct candidates, in order (the first is round 0's proposer, the chief).
 * Candidates of weight 0 are never drawn; fewer than `size` with weight means all of them, drawn.
 * `next` gives uniform integers in [0, space): the seed's stream in drawCommittee, anything in tests.
 */
export function weightedDraw(
  candidates: readonly Weighted[],
  size: number,
  next: () => bigint,
  space: bigint = SPACE,
): Buffer[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError("the committee size is a whole number");
  const pool = canonical(candidates).filter((c) => c.weight > 0n);
  const out: Buffer[] = [];
  while (out.length < size && pool.length > 0) {
    // Cumulative weights: cum[i] = weight of pool[0..i].
    const cum: bigint[] = [];
    let total = 0n;
    for (const c of pool) {
      total += c.weight;
      cum.push(total);
    }
    if (total > space) throw new RangeError("the total weight exceeds the randomness space");
    // The largest multiple of total in the space: a number at or above it would favour low values.
    const limit = space - (space % total);
    let r = next();
    while (r >= limit) r = next();
    const x = r % total;
    // The first i with cum[i] > x.
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    out.push(pool[lo]!.id);
    pool.splice(lo, 1);
  }
  return out;
}

/** The committee drawn with `seed` (32 bytes): the chief first, then the backups in order. */
export function drawCommittee(candidates: readonly Weighted[], size: number, seed: Uint8Array): Buffer[] {
  if (seed.length !== 32) throw new RangeError("the seed is 32 bytes");
  let i = 0;
  return weightedDraw(candidates, size, () => streamWord(seed, i++));
}

/** A candidate's commitment to its secret: SHA-256("LEITHER\0commit" ‖ secret[32]). */
export function commitment(secret: Uint8Array): Buffer {
  if (secret.length !== 32) throw new RangeError("a secret is 32 bytes");
  return hash("sha256", Buffer.concat([COMMIT_TAG, secret]), "buffer");
}

/**
 * The draw's seed: SHA-256("LEITHER\0seed" ‖ root[32] ‖ for each revealed secret, by candidate id:
 * id[20] ‖ secret[32]). `root` is a finalized root after the snapshot; a reveal that does not match
 * its candidate's commitment is refused (a withheld reveal is simply absent: committee.ts leaves its
 * candidate out of the draw).
 */
export function drawSeed(
  root: Uint8Array,
  reveals: readonly { readonly id: Buffer; readonly secret: Uint8Array; readonly commitment: Uint8Array }[],
): Buffer {
  if (root.length !== 32) throw new RangeError("the root hash is 32 bytes");
  const parts: Uint8Array[] = [SEED_TAG, root];
  const sorted = [...reveals].sort((a, b) => Buffer.compare(a.id, b.id));
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.id.length !== 20) throw new RangeError("a candidate id is 20 bytes");
    if (i > 0 && sorted[i - 1]!.id.equals(r.id)) throw new RangeError("a candidate revealed twice");
    if (!commitment(r.secret).equals(Buffer.from(r.commitment)))
      throw new RangeError(`the reveal of ${r.id.toString("hex")} does not match its commitment`);
    parts.push(r.id, r.secret);
  }
  return hash("sha256", Buffer.concat(parts), "buffer");
}

/** Candidates by id, each once, weights checked. */
function canonical(candidates: readonly Weighted[]): Weighted[] {
  const sorted = [...candidates].sort((a, b) => Buffer.compare(a.id, b.id));
  sorted.forEach((c, i) => {
    if (c.id.length !== 20) throw new RangeError("a candidate id is 20 bytes");
    if (typeof c.weight !== "bigint" || c.weight < 0n)
      throw new RangeError("a weight is a non-negative integer");
    if (i > 0 && sorted[i - 1]!.id.equals(c.id)) throw new RangeError("a candidate is listed twice");
  });
  return sorted;
}
