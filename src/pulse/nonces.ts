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
  /** Resolves when every transaction of the account signed before this one was submitted (or gave up). */
  turn(): Promise<void>;
  /** This one was submitted (or given up): the next may go. */
  done(): void;
  /** Gives the nonce back (the transaction was not submitted); also done(). */
  release(): void;
}

/** Longest a submission waits for the earlier ones of its account. */
const TURN_WAIT_MS = 15_000;

/** Nonces in flight, per account. */
export class NonceBook {
  private readonly taken = new Map<string, { nonce: bigint; txId: string; held: boolean }>();
  private readonly chains = new Map<string, Promise<void>>();

  /** The nonce to sign with: one past the committed one, or past this node's own transaction in flight. */
  next(account: string, committed: bigint, isPending: (txId: string) => boolean): bigint {
    const t = this.taken.get(account);
    if (t !== undefined && t.nonce > committed && (t.held || isPending(t.txId))) return t.nonce + 1n;
    this.taken.delete(account);
    return committed + 1n;
  }

  /** Takes `nonce` for a transaction being made (not submitted yet). */
  hold(account: string, nonce: bigint, txId: string): NonceHold {
    this.taken.set(account, { nonce, txId, held: true });
    const before = this.chains.get(account) ?? Promise.resolve();
    let finish!: () => void;
    const mine = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const tail = before.then(() => mine);
    this.chains.set(account, tail);
    void tail.then(() => {
      if (this.chains.get(account) === tail) this.chains.delete(account);
    });
    return {
      turn: () => Promise.race([before, sleep(TURN_WAIT_MS, undefined, { ref: false })]),
      done: () => finish(),
      release: () => {
        finish();
        const t = this.taken.get(account);
        if (t?.txId === txId && t.held) this.taken.delete(account);
      },
    };
  }

  /** Records a submitted transaction that is waiting for a pulse (unless a later nonce is taken already). */
  reserve(account: string, nonce: bigint, txId: string): void {
    const t = this.taken.get(account);
    if (t !== undefined && t.nonce > nonce) return;
    this.taken.set(account, { nonce, txId, held: false });
  }
}
