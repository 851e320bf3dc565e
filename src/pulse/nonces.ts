/**
 * The next nonce of an account this node signs for. A transaction this node signed takes its nonce
 * from the moment it is signed (held while the payee's node countersigns it, then while it waits for
 * a pulse), so transactions from one account signed at the same time do not collide; once it is
 * settled, lost or given up, the committed nonce is the truth again.
 */
export class NonceBook {
  private readonly taken = new Map<string, { nonce: bigint; txId: string; held: boolean }>();

  /** The nonce to sign with: one past the committed one, or past this node's own transaction in flight. */
  next(account: string, committed: bigint, isPending: (txId: string) => boolean): bigint {
    const t = this.taken.get(account);
    if (t !== undefined && t.nonce > committed && (t.held || isPending(t.txId))) return t.nonce + 1n;
    this.taken.delete(account);
    return committed + 1n;
  }

  /** Takes `nonce` for a transaction being made (not submitted yet); the function gives it back. */
  hold(account: string, nonce: bigint, txId: string): () => void {
    this.taken.set(account, { nonce, txId, held: true });
    return () => {
      const t = this.taken.get(account);
      if (t?.txId === txId && t.held) this.taken.delete(account);
    };
  }

  /** Records a submitted transaction that is waiting for a pulse. */
  reserve(account: string, nonce: bigint, txId: string): void {
    this.taken.set(account, { nonce, txId, held: false });
  }
}
