/**
 * What goes into a batch a bookkeeper proposes (finality-round.ts): the pool's transactions within
 * the count, byte and deposit bounds, and the small readings of transactions those bounds need.
 */
import type { PreparedPulse } from "../ledger/ledger.js";
import { TxKind } from "../ledger/tx.js";
import { decodeTx } from "../ledger/tx-codec.js";
import { DecodeError } from "../util/bytes.js";

/** Bytes of transactions in one proposal at most: with its other fields it stays under a gossip frame (1 MiB). */
export const MAX_BATCH_BYTES = 900 * 1024;

/**
 * The pool's transactions for a batch of at most `room`, the rewards left out (the proposer makes
 * its own), and of at most MAX_BATCH_BYTES. With a bound (the proposer's deposit), a transfer that would take the batch's transfers
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
    if (isReward(tx)) continue;
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

/** Whether encoded transaction bytes are a reward's (format 1, kind 0x0e). */
function isReward(tx: Buffer): boolean {
  return tx[0] === 1 && tx[1] === TxKind.Reward;
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
  if (b.kind === TxKind.Genesis || b.kind === TxKind.Reward) return undefined;
  return { actor: b.actor.toString("hex"), transfer: b.kind === TxKind.Transfer ? b.amount : 0n };
}

/** What the transfers of a batch add up to (every one that decodes, whatever its verdict will be). */
export function transfersOf(txs: readonly Buffer[]): bigint {
  let total = 0n;
  for (const tx of txs) if (tx[1] === TxKind.Transfer) total += peek(tx)?.transfer ?? 0n;
  return total;
}

/** A prepared pulse seen without the first transaction's result (the reward this node put first). */
export function withoutFirst(p: PreparedPulse): PreparedPulse {
  return {
    pulse: p.pulse,
    root: p.root,
    results: p.results.slice(1),
    changed: p.changed,
    accountsChanged: p.accountsChanged,
    issued: p.issued,
    account: (id) => p.account(id),
    commit: (extras) => p.commit(extras),
    discard: () => p.discard(),
  };
}
