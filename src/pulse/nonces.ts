/**
 * The next nonce of an account this node signs for. A transaction this node signed and submitted
 * takes its nonce while it waits for a pulse, so back-to-back transactions from one account do not
 * collide; once it is settled (or lost) the committed nonce is the truth again.
 */
export class NonceBook {
  private readonly pending = new Map<string, { nonce: bigint; txId: string }>();

  /** The nonce to sign with: one past the committed one, or past this node's own waiting transaction. */
  next(account: string, committed: bigint, isPending: (txId: string) => boolean): bigint {
    const queued = this.pending.get(account);
    if (queued !== undefined && queued.nonce > committed && isPending(queued.txId)) return queued.nonce + 1n;
    this.pending.delete(account);
    return committed + 1n;
  }

  /** Records a submitted transaction that is waiting for a pulse. */
  reserve(account: string, nonce: bigint, txId: string): void {
    this.pending.set(account, { nonce, txId });
  }
}
