/**
 * The stand-alone proof verifier of SPEC-smt.md ("Proofs", steps 1-4). It needs no database and no
 * network: a light client or an auditor imports this module (and the pure modules it uses) alone.
 *
 * One deviation, for soundness: SPEC-smt.md lets an exclusion proof end in an internal node given
 * as a bare summary with its (depth, prefix). No hash covers that depth and prefix, so a prover could
 * "exclude" a key that is present. By default the verifier therefore requires the node's two child
 * summaries and recomputes its hash from (depth, prefix, L, R). `allowUnboundTerminal` accepts the
 * spec's bare form (the vectors use it) and marks such a result `unbound`.
 */
import { bit, comparePrefix, isPrefixCanonical } from "./bits.js";
import { type HashStr, hashStr, leafHashStr, MAX_U64, nodeHashStr, type Summary } from "./hash.js";

const EMPTY_HASH: HashStr = "\0".repeat(32);

import type { Proof } from "./proof.js";

/** What a proof shows about its key, or why it shows nothing. */
export type VerifyResult =
  | { readonly result: "inclusion" }
  | { readonly result: "exclusion"; readonly unbound?: true }
  | { readonly result: "invalid"; readonly reason: string };

/** Options of verifyProof. */
export interface VerifyOptions {
  /**
   * Accept a terminal internal node given without its children (SPEC-smt.md's form), whose depth and
   * prefix nothing binds; the result then says `unbound: true`. @default false
   */
  allowUnboundTerminal?: boolean;
}

const invalid = (reason: string): VerifyResult => ({ result: "invalid", reason });

const u64Ok = (v: unknown): v is bigint => typeof v === "bigint" && v >= 0n && v <= MAX_U64;
const countOk = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const summaryOk = (s: Summary) => s.hash?.length === 32 && u64Ok(s.sum) && countOk(s.count);

/** Checks `proof` against the root synopsis `root` (all three fields). */
export function verifyProof(proof: Proof, root: Summary, opts: VerifyOptions = {}): VerifyResult {
  const k = proof.key;
  if (k?.length !== 20) return invalid("key is not 20 bytes");
  if (!summaryOk(root)) return invalid("root synopsis is out of range");
  const path = proof.path;
  // 1. Depths strictly increase; each stated prefix is prefix(k, d).
  let last = -1;
  for (const s of path) {
    if (!Number.isInteger(s.depth) || s.depth <= last || s.depth >= 160)
      return invalid(`step depth ${s.depth} does not increase`);
    if (
      s.prefix !== undefined &&
      (!isPrefixCanonical(s.prefix, s.depth) || comparePrefix(s.prefix, k, s.depth) !== 0)
    )
      return invalid(`step at depth ${s.depth}: prefix is not prefix(key, ${s.depth})`);
    if (!summaryOk(s.sibling)) return invalid(`step at depth ${s.depth}: sibling summary is out of range`);
    last = s.depth;
  }
  // 2. The terminal lies on k's side of the last step; 3. recompute bottom-up.
  const t = proof.terminal;
  // The running hash as a latin1 string: node:crypto returns those much faster than Buffers.
  let hash: HashStr;
  let sum: bigint;
  let count: number;
  let unbound = false;
  if (t === null) {
    if (path.length > 0) return invalid("an empty terminal needs an empty path");
    hash = EMPTY_HASH;
    sum = 0n;
    count = 0;
  } else if (t.kind === "leaf") {
    if (t.id?.length !== 20 || t.dataHash?.length !== 32) return invalid("leaf fields have wrong lengths");
    if (!u64Ok(t.amount)) return invalid("leaf amount outside u64");
    if (last >= 0 && comparePrefix(t.id, k, last + 1) !== 0)
      return invalid("terminal leaf is not on the key's side");
    hash = leafHashStr(t.id, t.amount, t.dataHash);
    sum = t.amount;
    count = 1;
  } else {
    if (!Number.isInteger(t.depth) || t.depth <= last || t.depth >= 160)
      return invalid("terminal node depth does not increase");
    if (t.prefix?.length !== 20 || !isPrefixCanonical(t.prefix, t.depth))
      return invalid("terminal node prefix is not canonical");
    if (last >= 0 && comparePrefix(t.prefix, k, last + 1) !== 0)
      return invalid("terminal node is not on the key's side");
    if (comparePrefix(t.prefix, k, t.depth) === 0)
      return invalid("terminal node is on the key's path: the walk must go on");
    if (!summaryOk(t)) return invalid("terminal node summary is out of range");
    if (t.children === undefined) {
      if (!opts.allowUnboundTerminal)
        return invalid("terminal node comes without its children: its depth and prefix are not bound");
      unbound = true;
    } else {
      // Bind depth and prefix: the node's hash must be nodeHash(depth, prefix, L, R).
      const [l, r] = t.children;
      if (!summaryOk(l) || !summaryOk(r) || l.count < 1 || r.count < 1)
        return invalid("terminal node children are out of range");
      if (l.sum + r.sum !== t.sum || l.count + r.count !== t.count)
        return invalid("terminal node sum or count differs from its children's");
      if (nodeHashStr(t.depth, t.prefix, l.hash, l, r.hash, r) !== hashStr(t.hash))
        return invalid("terminal node hash is not that of its depth, prefix and children");
    }
    hash = hashStr(t.hash);
    sum = t.sum;
    count = t.count;
  }
  const self = { sum: 0n, count: 0 }; // reused: nodeHash reads it before the next step
  for (let i = path.length - 1; i >= 0; i--) {
    const s = path[i]!;
    const sib = s.sibling;
    self.sum = sum;
    self.count = count;
    hash =
      bit(k, s.depth) === 0
        ? nodeHashStr(s.depth, k, hash, self, sib.hash, sib)
        : nodeHashStr(s.depth, k, sib.hash, sib, hash, self);
    sum += sib.sum;
    count += sib.count;
    if (sum > MAX_U64) return invalid("sum overflows u64");
    if (!Number.isSafeInteger(count)) return invalid("count overflows");
  }
  if (hash !== hashStr(root.hash) || sum !== root.sum || count !== root.count)
    return invalid("recomputed root synopsis does not match");
  // 4. What the terminal shows.
  if (t === null) return { result: "exclusion" };
  if (t.kind === "leaf")
    return { result: Buffer.compare(Buffer.from(t.id), Buffer.from(k)) === 0 ? "inclusion" : "exclusion" };
  return unbound ? { result: "exclusion", unbound: true } : { result: "exclusion" };
}
