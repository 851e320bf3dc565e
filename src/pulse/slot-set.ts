/** The bookkeeper's sets of transactions (a slot's, the batch being applied, those awaiting the committee). */

/** The transactions of one slot: each distinct copy once (by its bytes' hash), and their ids. */
export class SlotSet {
  /** Copy key -> id. */
  private readonly keys = new Map<string, string>();
  /** Id -> number of copies. */
  readonly ids = new Map<string, number>();

  get copies(): number {
    return this.keys.size;
  }

  has(copy: string): boolean {
    return this.keys.has(copy);
  }

  add(copy: string, txId: string): void {
    this.keys.set(copy, txId);
    this.ids.set(txId, (this.ids.get(txId) ?? 0) + 1);
  }

  /** Takes a copy out (no-op if absent). */
  remove(copy: string): void {
    const txId = this.keys.get(copy);
    if (txId === undefined) return;
    this.keys.delete(copy);
    const n = (this.ids.get(txId) ?? 1) - 1;
    if (n === 0) this.ids.delete(txId);
    else this.ids.set(txId, n);
  }

  /** Adds every copy of `other`. */
  merge(other: SlotSet): void {
    for (const [copy, txId] of other.keys) if (!this.keys.has(copy)) this.add(copy, txId);
  }
}
