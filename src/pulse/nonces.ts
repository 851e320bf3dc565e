/**
 * The next nonce of an account this node signs for. A transaction this node signed takes its nonce
 * from the moment it is signed (held while the payee's node countersigns it, then while it waits for
 * a pulse), so transactions from one account signed at the same time do not collide; once it is
 * settled, lost or given up, the committed nonce is the truth again. Their submissions are put in
 * nonce order too: a later nonce that reached the bookkeeper a pulse before an earlier one would be
 * rejected.
 */
import { setTimeout as sleep } from "node:timers/promises";

/** A nonce taken for a transaction being made. */
export interface NonceHold {
  /**
   * Resolves when every transaction of the account signed before this one was submitted or given up
   * (or after 15 s, or when `signal` aborts).
   */
  turn(signal?: AbortSignal): Promise<void>;
  /** This one was submitted: the next may go. */
  done(): void;
  /** Gives the nonce back (the transaction was not submitted); the next may go. Safe after done(). */
  release(): void;
}

/** Longest a submission waits for the earlier ones of its account. */
const TURN_WAIT_MS = 15_000;

interface Live {
  readonly nonce: bigint;
  /** Signed, not submitted yet. */
  held: boolean;
}

/** Nonces in flight, per account. */
export class NonceBook {
  /** Every transaction in flight per account, by id: a given-back one must not hide the others. */
  private readonly live = new Map<string, Map<string, Live>>();
  private readonly chains = new Map<string, Promise<void>>();

  /** The nonce to sign with: one past the committed one and past every one this node has in flight. */
  next(account: string, committed: bigint, isPending: (txId: string) => boolean): bigint {
    const mine = this.live.get(account);
    let top = committed;
    for (const [txId, l] of mine ?? []) {
      // Settled, lost or overtaken by the ledger: no longer in flight.
      if (l.nonce <= committed || (!l.held && !isPending(txId))) mine!.delete(txId);
      else if (l.nonce > top) top = l.nonce;
    }
    if (mine?.size === 0) this.live.delete(account);
    return top + 1n;
  }

  /** Takes `nonce` for a transaction being made (not submitted yet). */
  hold(account: string, nonce: bigint, txId: string): NonceHold {
    let mine = this.live.get(account);
    if (mine === undefined) {
      mine = new Map();
      this.live.set(account, mine);
    }
    mine.set(txId, { nonce, held: true });
    const before = this.chains.get(account) ?? Promise.resolve();
    let finish!: () => void;
    const ours = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // A stuck predecessor costs its successors one wait, not one each.
    const tail = Promise.race([before, sleep(TURN_WAIT_MS, undefined, { ref: false })]).then(() => ours);
    this.chains.set(account, tail);
    void tail.then(() => {
      if (this.chains.get(account) === tail) this.chains.delete(account);
    });
    let over = false;
    return {
      turn: (signal) =>
        Promise.race([
          before,
          sleep(TURN_WAIT_MS, undefined, { ref: false, ...(signal === undefined ? {} : { signal }) }).catch(
            () => undefined,
          ),
        ]),
      done: () => {
        over = true;
        const l = mine.get(txId);
        if (l !== undefined) l.held = false;
        finish();
      },
      release: () => {
        finish();
        if (over) return;
        over = true;
        mine.delete(txId);
      },
    };
  }
}
