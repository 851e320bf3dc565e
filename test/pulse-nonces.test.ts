import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NonceBook } from "../src/pulse/nonces.js";

describe("NonceBook", () => {
  it("a held nonce is taken until released; a submitted one while it is pending", () => {
    const book = new NonceBook();
    const pending = new Set<string>();
    const isPending = (t: string) => pending.has(t);
    assert.equal(book.next("a", 4n, isPending), 5n);
    const h5 = book.hold("a", 5n, "t5");
    assert.equal(book.next("a", 4n, isPending), 6n, "held while the payee countersigns");
    h5.release();
    assert.equal(book.next("a", 4n, isPending), 5n, "given back");
    book.hold("a", 5n, "t5");
    book.reserve("a", 5n, "t5");
    pending.add("t5");
    assert.equal(book.next("a", 4n, isPending), 6n, "submitted and waiting for its pulse");
    assert.equal(book.next("a", 5n, isPending), 6n, "committed caught up");
    book.reserve("a", 6n, "t6");
    assert.equal(book.next("a", 5n, isPending), 6n, "settled (not pending): the ledger's nonce decides");
    assert.equal(book.next("b", 0n, isPending), 1n, "accounts apart");
  });

  it("a submission does not hide a later nonce held meanwhile", () => {
    const book = new NonceBook();
    const pending = () => true;
    book.hold("a", 1n, "t1");
    book.hold("a", 2n, "t2");
    book.reserve("a", 1n, "t1");
    assert.equal(book.next("a", 0n, pending), 3n);
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
    // A released hold lets the next go too.
    const x = book.hold("a", 4n, "t4");
    const y = book.hold("a", 5n, "t5");
    x.release();
    await y.turn();
  });
});
