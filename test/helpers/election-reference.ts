/**
 * An independent reference of docs/PROTOCOL.md §12, written from the spec's words and sharing no
 * code with src/election: its own stream, a linear scan instead of a binary search, its own seed
 * hashing, weights, schedule and eligibility. The election tests check the code and the vectors
 * against it.
 */
import { createHash } from "node:crypto";

/** A candidate as the reference sees it: hex id and weight. */
export interface RefCandidate {
  readonly id: string;
  readonly weight: bigint;
}

const sha256 = (...parts: (string | Uint8Array)[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? Buffer.from(p, "latin1") : p);
  return h.digest();
};

/** The draw: candidates of weight above 0 by id, one stream word per pick, the biased tail refused. */
export function refDraw(cands: readonly RefCandidate[], size: number, seedHex: string): string[] {
  let counter = 0;
  const word = () => {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter++);
    return BigInt(`0x${sha256("LEITHER\0draw", Buffer.from(seedHex, "hex"), c).toString("hex")}`);
  };
  let pool = cands.filter((c) => c.weight > 0n).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: string[] = [];
  while (out.length < size && pool.length > 0) {
    const total = pool.reduce((s, c) => s + c.weight, 0n);
    const space = 2n ** 256n;
    let r = word();
    while (r >= space - (space % total)) r = word();
    let x = r % total;
    let pick = 0;
    while (x >= pool[pick]!.weight) {
      x -= pool[pick]!.weight;
      pick++;
    }
    out.push(pool[pick]!.id);
    pool = pool.filter((_, i) => i !== pick);
  }
  return out;
}

/** The schedule of cycle c with L pulses: snapshot c·L + ⌊L/2⌋, reveals up to c·L + ⌊3L/4⌋. */
export function refSchedule(
  c: number,
  L: number,
): { snapshot: number; revealFirst: number; revealLast: number } {
  const snapshot = c * L + Math.floor(L / 2);
  return { snapshot, revealFirst: snapshot + 1, revealLast: c * L + Math.floor((3 * L) / 4) };
}

/** What the reference reads of an account. */
export interface RefAccount {
  readonly amount: bigint;
  readonly deposit: bigint;
  readonly role: number;
  readonly candidate: boolean;
  readonly commitment: Buffer | null;
  readonly vote: { readonly candidate: Buffer; readonly weight: bigint } | null;
  readonly reveal: { readonly cycle: number; readonly secret: Buffer } | null;
}

/**
 * One draw from the accounts at the snapshot and the reveals after the seed pulse (both by hex id):
 * who took part, their weights, the seed and the members (empty if no one took part), and who
 * stood with a commitment and did not open it (what the cycle's forfeit charges), ascending.
 */
export function refCommittee(o: {
  cycle: number;
  size: number;
  minDeposit: bigint;
  atSnapshot: ReadonlyMap<string, RefAccount>;
  revealAt: (id: string) => RefAccount["reveal"];
  rootHex: string;
}): { weights: RefCandidate[]; seed: string; members: string[]; withheld: string[] } {
  const weights: RefCandidate[] = [];
  const withheld: string[] = [];
  for (const [id, a] of o.atSnapshot) {
    if (!a.candidate || a.role < 3 || a.deposit < o.minDeposit) continue;
    let w = a.deposit;
    for (const v of o.atSnapshot.values())
      if (v.vote !== null && v.vote.candidate.toString("hex") === id)
        // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
        w += v.vote.weight < v.amount ? v.vote.weight : v.amount;
    if (a.commitment === null) continue;
    const r = o.revealAt(id);
    if (r === null || r.cycle !== o.cycle || !sha256("LEITHER\0commit", r.secret).equals(a.commitment)) {
      withheld.push(id);
      continue;
    }
    weights.push({ id, weight: w });
  }
  weights.sort((a, b) => (a.id < b.id ? -1 : 1));
  const parts: (string | Buffer)[] = ["LEITHER\0seed", Buffer.from(o.rootHex, "hex")];
  for (const w of weights) parts.push(Buffer.from(w.id, "hex"), o.revealAt(w.id)!.secret);
  const seed = sha256(...parts).toString("hex");
  return { weights, seed, members: refDraw(weights, o.size, seed), withheld: withheld.sort() };
}
