/**
 * The books of a test ledger, as the request server reads them (src/org/bookkeeping.ts booksOf): a
 * submitted transaction is recorded and answered `pending`; a status comes from the ledger's index,
 * as the bookkeeper answers once a verdict is no longer cached.
 */
import type { Ledger } from "../../src/ledger/ledger.js";
import { decodeTx } from "../../src/ledger/tx-codec.js";
import { booksOf, finalPulses } from "../../src/org/bookkeeping.js";
import type { Books } from "../../src/org/server.js";

/** Books over `ledger`; `proof` gives a pulse's proof of finality (helpers/certify.ts); submissions are pushed to `submitted`. */
export function testBooks(ledger: Ledger, proof: (pulse: number) => Buffer, submitted: Buffer[] = []): Books {
  const books = booksOf(
    ledger,
    {
      submit: (bytes) => {
        submitted.push(Buffer.from(bytes));
        return { txId: decodeTx(bytes).id.toString("hex"), state: "pending" };
      },
      status: (txId) => {
        const found = ledger.findTx(Buffer.from(txId, "hex"));
        return found === undefined
          ? { txId, state: "unknown" }
          : { txId, state: "accepted", pulse: found.pulse };
      },
    },
    proof,
    { pulses: (from, count) => finalPulses(ledger, from, count) },
  );
  if (books === undefined) throw new Error("the test ledger has no organization yet");
  return books;
}
