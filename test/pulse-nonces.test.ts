import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NonceBook } from "../src/pulse/nonces.js";

describe("NonceBook", () => {
  it("a held nonce is taken until given back; a submitted one while it is pending", () => {
    const book = new NonceBook();
    const pending = new Set<string>();
    const isPending = (t: string) => pending.has(t);
    assert.equal(book.next("a", 4n, isPending), 5n);
    const h5 = book.hold("a", 5n, "t5");
    assert.equal(book.next("a", 4n, isPending), 6n, "held while the payee countersigns");
    h5.release();
    assert.equal(book.next("a", 4n, isPending), 5n, "given back");
    const again = book.hold("a", 5n, "t5");
    pending.add("t5");
    again.done();
    again.release(); // after done(): nothing to give back
    assert.equal(book.next("a", 4n, isPending), 6n, "submitted and waiting for its pulse");
    assert.equal(book.next("a", 5n, isPending), 6n, "committed caught up");
    pending.delete("t5");
    assert.equal(book.next("a", 4n, isPending), 5n, "settled (not pending): the ledger's nonce decides");
    assert.equal(book.next("b", 0n, isPending), 1n, "accounts apart");
  });

  it("giving back a later nonce does not hide an earlier one still in flight", () => {
    const book = new NonceBook();
    const pending = new Set(["t5"]);
    const isPending = (t: string) => pending.has(t);
    const a = book.hold("a", 5n, "t5");
    const b = book.hold("a", 6n, "t6");
    a.done(); // submitted, pending
    b.release(); // its payee did not countersign
    assert.equal(book.next("a", 4n, isPending), 6n, "5 is still in flight");
    const slow = book.hold("a", 6n, "t6b"); // in countersign for long
    const fast = book.hold("a", 7n, "t7");
    fast.release();
    assert.equal(book.next("a", 4n, isPending), 7n, "6 is still held");
    slow.release();
  });

  it("submissions go in the order the nonces were taken", async () => {
    const book = new NonceBook();
    const order: number[] = [];
    const first = book.hold("a", 1n, "t1");
    const second = book.hold("a", 2n, "t2");
    const third = book.hold("a", 3n, "t3");
    const go = async (h: typeof first, n: number, delayMs: number) => {
      await new Promise((r) => setTimeout(r, delayMs));
      await h.turn();
      order.push(n);
      h.done();
    };
    // The third is ready first and the first last: they still go 1, 2, 3.
    await Promise.all([go(first, 1, 30), go(second, 2, 10), go(third, 3, 0)]);
    assert.deepEqual(order, [1, 2, 3]);
    // A given-back hold lets the next go too; a caller that gives up stops waiting at once.
    const x = book.hold("a", 4n, "t4");
    const y = book.hold("a", 5n, "t5");
    const z = book.hold("a", 6n, "t6");
    const ac = new AbortController();
    ac.abort();
    await z.turn(ac.signal);
    x.release();
    await y.turn();
  });
});
