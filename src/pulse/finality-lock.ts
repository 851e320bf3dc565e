/**
 * A bookkeeper's lock in the pulse being finalized, kept across restarts: the proposal it locked on
 * and the 2f+1 prevotes that justify it (tendermint.ts "lock" action). Written with fsync before
 * the precommit that follows is signed; read back when the same pulse starts again after a restart.
 * A damaged file is an error, not a missing lock: voting against a lock forgotten is how forks start.
 *
 *   {"org": hex(20), "pulse": n, "round": n, "proposal": hex (kind 0x48), "polka": [hex (kind 0x46)...]}
 */
import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { FinalityValue } from "./finality-round.js";
import { type DecodedProposal, decodeProposal } from "./proposal.js";
import { syncDir } from "./sign-guard-files.js";
import type { Lock, ProposalIn } from "./tendermint.js";
import { decodeVote } from "./votes.js";

/** The lock kept at `path` for (org, pulse), or undefined if none is (or it is another pulse's). */
export async function readLock(
  path: string,
  org: Buffer,
  pulse: number,
): Promise<Lock<FinalityValue> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
  let doc: { org: string; pulse: number; round: number; proposal: string; polka: string[] };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`the finality lock file ${path} is damaged (not JSON)`);
  }
  if (doc.org !== org.toString("hex") || doc.pulse !== pulse) return undefined;
  const pb = Buffer.from(doc.proposal, "hex");
  const polka = doc.polka.map((h) => {
    const b = Buffer.from(h, "hex");
    const v = decodeVote(b);
    return {
      step: "prevote" as const,
      round: v.round,
      id: v.value.toString("hex"),
      signer: v.signer.toString("hex"),
      raw: b,
    };
  });
  return { round: doc.round, proposal: proposalIn(decodeProposal(pb), pb), polka };
}

/** Writes the lock (temp file, fsync, rename) before the precommit after it is signed. */
export async function writeLock(
  path: string,
  org: Buffer,
  pulse: number,
  l: Lock<FinalityValue>,
): Promise<void> {
  const doc = {
    org: org.toString("hex"),
    pulse,
    round: l.round,
    proposal: (l.proposal.raw as Buffer).toString("hex"),
    polka: l.polka.map((v) => (v.raw as Buffer).toString("hex")),
  };
  const tmp = `${path}.tmp`;
  const f = await open(tmp, "w", 0o600);
  try {
    await f.writeFile(JSON.stringify(doc));
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
  // The rename itself must survive a power loss: the lock is what keeps this node from voting against itself.
  await syncDir(dirname(path));
}

/** The engine's view of a decoded proposal, its bytes kept to relay. */
export function proposalIn(p: DecodedProposal, raw: Buffer): ProposalIn<FinalityValue> {
  return {
    round: p.round,
    validRound: p.validRound,
    id: p.valueId.toString("hex"),
    value: { txs: p.txs, root: p.root, batchHash: p.batchHash, next: p.next },
    signer: p.signer.toString("hex"),
    raw,
  };
}
