/**
 * What goes into a batch a bookkeeper proposes (finality-round.ts): the pool's transactions within
 * the count, byte and deposit bounds, and the small readings of transactions those bounds need.
 */
import { forfeitCycle } from "../election/cycle.js";
import type { PreparedPulse } from "../ledger/ledger.js";
import type { OrgInfo } from "../ledger/transition-types.js";
import { isActing, TxKind } from "../ledger/tx.js";
import { decodeTx, forfeitTx, rewardTx } from "../ledger/tx-codec.js";
import { DecodeError } from "../util/bytes.js";

/** Bytes of transactions in one proposal at most: with its other fields it stays under a gossip frame (1 MiB). */
export const MAX_BATCH_BYTES = 900 * 1024;

/**
 * The pool's transactions for a batch of at most `room`, rewards and forfeits left out (the proposer
 * makes its own), and of at most MAX_BATCH_BYTES. With a bound (the proposer's deposit), a transfer that would take the batch's transfers
 * past it stays in the pool, and so does every later transaction of its actor (they would fail on
 * its nonce); the rest go on, so one large transfer holds back no one else.
 */
export function fillBatch(
  pool: readonly Buffer[],
  room: number,
  bound: bigint | undefined,
  maxBytes = MAX_BATCH_BYTES,
): Buffer[] {
  const out: Buffer[] = [];
  const held = new Set<string>();
  let total = 0n;
  let bytes = 0;
  for (const tx of pool) {
    if (out.length >= room || bytes + tx.length > maxBytes) break;
    bytes += tx.length;
    if (isMade(tx)) continue;
    if (bound !== undefined) {
      const t = peek(tx);
      if (t !== undefined) {
        if (held.has(t.actor)) continue;
        if (total + t.transfer > bound) {
          held.add(t.actor);
          continue;
        }
        total += t.transfer;
      }
    }
    out.push(tx);
  }
  return out;
}

/** Whether encoded transaction bytes are a reward's or a forfeit's (format 1, kind 0x0e or 0x0f). */
function isMade(tx: Buffer): boolean {
  return tx[0] === 1 && (tx[1] === TxKind.Reward || tx[1] === TxKind.Forfeit);
}

/** A transaction's actor (hex) and the amount it transfers (0 but for a transfer); undefined if it has no actor. */
function peek(tx: Buffer): { actor: string; transfer: bigint } | undefined {
  let decoded: ReturnType<typeof decodeTx>;
  try {
    decoded = decodeTx(tx);
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
  const b = decoded.body;
  if (!isActing(b)) return undefined;
  return { actor: b.actor.toString("hex"), transfer: b.kind === TxKind.Transfer ? b.amount : 0n };
}

/** The reward the batch of `pulse` must carry (encoded): when the organization pays one; else undefined. */
export function rewardIn(org: OrgInfo, pulse: number, committee: readonly Buffer[]): Buffer | undefined {
  return (org.params.miningReward ?? 0n) > 0n && committee.length > 0
    ? rewardTx(org.id, pulse, committee)
    : undefined;
}

/** Whether a prepared pulse leads to `root` (hash, sum and count). */
export function leadsTo(
  p: PreparedPulse,
  root: { readonly hash: Uint8Array; readonly sum: bigint; readonly count: number },
): boolean {
  return Buffer.from(p.root.hash).equals(root.hash) && p.root.sum === root.sum && p.root.count === root.count;
}

/**
 * The forfeit the batch of `pulse` must carry (encoded): when a cycle's forfeit is due in the pulse
 * and `withheld` (the caller's list for it) names someone; else undefined.
 */
export function forfeitIn(
  org: OrgInfo,
  pulse: number,
  withheld: readonly Buffer[] | undefined,
): Buffer | undefined {
  const c = forfeitCycle(pulse, org.params.electionCycle);
  if (c === undefined || withheld === undefined || withheld.length === 0) return undefined;
  return forfeitTx(org.id, c, withheld);
}

/** What the transfers of a batch add up to (every one that decodes, whatever its verdict will be). */
export function transfersOf(txs: readonly Buffer[]): bigint {
  let total = 0n;
  for (const tx of txs) if (tx[1] === TxKind.Transfer) total += peek(tx)?.transfer ?? 0n;
  return total;
}

/** A prepared pulse seen without the first `n` transactions' results (the reward and forfeit this node put first). */
export function withoutFirst(p: PreparedPulse, n = 1): PreparedPulse {
  return {
    pulse: p.pulse,
    root: p.root,
    results: p.results.slice(n),
    changed: p.changed,
    accountsChanged: p.accountsChanged,
    issued: p.issued,
    account: (id) => p.account(id),
    commit: (extras) => p.commit(extras),
    discard: () => p.discard(),
  };
}
