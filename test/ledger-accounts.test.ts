/**
 * Reading accounts: Ledger.accountsAt enumerates every account of a retained pulse from the store's
 * leaves (what the committee draw reads), and what a read returns shares no Buffer with the
 * ledger's account cache.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { schedule } from "../src/election/cycle.js";
import { copyAccount, Role } from "../src/ledger/account.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import { PulseError } from "../src/ledger/store.js";
import { type Chain, verdicts } from "./helpers/ledger-chain.js";
import { randomSociety } from "./helpers/ledger-random.js";
import { A, B, C, PARAMS, recorder, world } from "./helpers/ledger-rules-world.js";
import { hex } from "./helpers/ledger-signers.js";

const code = (want: string) => (err: unknown) => err instanceof PulseError && err.code === want;

/** The accounts of `ids` (hex) at `pulse`, read one by one, ascending by id. */
function byId(chain: Chain, ids: ReadonlySet<string>, pulse?: number): unknown[] {
  return [...ids].sort().flatMap((id) => {
    const account = chain.ledger.account(Buffer.from(id, "hex"), pulse);
    return account === undefined ? [] : [{ id, ...account }];
  });
}

const listed = (ledger: Ledger, pulse?: number) =>
  [...ledger.accountsAt(pulse)].map((e) => ({ id: hex(e.id), ...e.account }));

describe("Ledger.accountsAt", () => {
  it("is every account of a retained pulse, ascending by id, as account() reads them", async () => {
    const { cast: society, chain } = await randomSociety({ seed: 99, runs: 6, minOps: 10, maxOps: 30 });
    const everyone = new Set([...society.all, society.orgKey].map((s) => hex(s.id)));
    for (const pulse of chain.ledger.retained()) {
      const got = listed(chain.ledger, pulse);
      assert.ok(got.length > 0);
      assert.deepEqual(got, byId(chain, everyone, pulse), `pulse ${pulse}`);
    }
    assert.deepEqual(listed(chain.ledger), listed(chain.ledger, chain.ledger.head));
    await chain.close();
  });

  it("checks the pulse at once: EMPTY, FUTURE, PRUNED; reads a past pulse from the store", async () => {
    const empty = await Ledger.open(new MemoryKV());
    assert.throws(() => empty.accountsAt(), code("EMPTY"));
    await empty.close();

    const kv = new MemoryKV();
    const ledger = await Ledger.open(kv, { retention: { keepLast: 2 } });
    const chain = await world();
    // The rules world's pulses, replayed on a ledger with a short retention.
    const t = chain.txs;
    const pulses = [
      chain.log[0]!.txs,
      [t.transfer(A, B, 10, 1, { cosign: B })],
      [t.transfer(B, C, 5, 1, { cosign: C })],
      [t.transfer(C, A, 1, 1, { cosign: A })],
    ];
    const at: unknown[] = [];
    for (const [p, txs] of pulses.entries()) {
      assert.ok(verdicts(await ledger.applyPulse(p, txs)).every((v) => v === "OK"));
      at.push(listed(ledger, p));
    }
    assert.throws(() => ledger.accountsAt(9), code("FUTURE"));
    await ledger.pruneAll();
    assert.throws(() => ledger.accountsAt(0), code("PRUNED"));
    assert.deepEqual(listed(ledger, 2), at[2]);
    const reopened = await Ledger.open(kv, { retention: { keepLast: 2 } });
    assert.deepEqual(listed(reopened, 3), at[3]);
    await chain.close();
  });
});

describe("what a read returns is the caller's", () => {
  it("mutating an account's vote, commitment or reveal secret leaves the ledger's cached account as it was", async () => {
    const { run, candidate, one, join } = recorder();
    const chain = await world();
    const t = chain.txs;
    await candidate(chain, A);
    const w = schedule(0, PARAMS.electionCycle);
    while (chain.next < w.revealFirst) await run(chain, []);
    await one(chain, t.reveal(A, 0, chain.nonce(A)), "OK");
    await join(chain, B, Role.Member);
    await one(chain, t.vote(B, A, 100, chain.nonce(B)), "OK");

    const before = copyAccount(chain.account(A)!);
    assert.ok(before.commitment !== null && before.reveal !== null);
    const got = chain.account(A)!;
    got.commitment!.fill(0xee);
    got.reveal!.secret.fill(0xee);
    assert.deepEqual(chain.account(A), before, "the head's account, from the cache");
    assert.deepEqual(chain.ledger.account(A.id, chain.ledger.head), before, "and by pulse number");

    const voter = chain.account(B)!;
    const candidateId = Buffer.from(voter.vote!.candidate);
    voter.vote!.candidate.fill(0xee);
    assert.deepEqual(chain.account(B)!.vote!.candidate, candidateId);

    // accountsAt decodes from the store: nothing it returns is the cache's either.
    for (const e of chain.ledger.accountsAt()) e.account.commitment?.fill(0xee);
    assert.deepEqual(chain.account(A), before);
    await chain.close();
  });
});
