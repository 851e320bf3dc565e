/**
 * The world of the rules tests (test/ledger-rules-*.test.ts): a cast of six users, organization
 * A's genesis with small fixed holdings, and pulse helpers that record every reason a rejection
 * gives (see ledger-reasons.ts). Every pulse goes through Ledger.applyPulse on a MemoryKV and has
 * its receipts checked; a rejected transaction must leave the root as it was.
 */
import { strict as assert } from "node:assert";
import type { Signer } from "../../src/crypto/ed25519.js";
import { Role } from "../../src/ledger/account.js";
import type { PulseOutcome } from "../../src/ledger/ledger.js";
import type { OrgParams } from "../../src/ledger/tx.js";
import { type Chain, openOrg, verdicts } from "./ledger-chain.js";
import { checkReceipts, summaryJson } from "./ledger-receipts.js";
import { makeCast, orgParams } from "./ledger-signers.js";

export const cast = makeCast(6);
export const S = cast.supervisor;
export const [A, B, C, D, E] = cast.users as [Signer, Signer, Signer, Signer, Signer];
export const ORG = cast.orgKey.id;
export const MIN = 100n;

/** Supply 10,000: S 1,000, A 1,000, B 500, C 300; D and E hold nothing; the rest (7,200) is ORG's. */
export const PARAMS: OrgParams = orgParams(S, {
  supply: 10_000n,
  minDeposit: MIN,
  distribution: [
    [S, 1000n],
    [A, 1000n],
    [B, 500n],
    [C, 300n],
  ],
});

export const world = (): Promise<Chain> => openOrg(cast, PARAMS);

/** Pulse helpers of one test file, and the reasons its rejections gave. */
export interface Recorder {
  /** Every reason a rejection gave so far. */
  readonly seen: ReadonlySet<string>;
  /** Records verdicts got some other way ("OK" is ignored). */
  note(verdicts: readonly string[]): void;
  /** Applies a pulse, records its reasons and checks its receipts. */
  run(chain: Chain, batch: readonly Uint8Array[]): Promise<PulseOutcome>;
  /** Applies one transaction alone and expects `want`; a rejection must change nothing. */
  one(chain: Chain, bytes: Uint8Array, want: string, message?: RegExp): Promise<PulseOutcome>;
  /** Makes `who` an applicant then gives it `role`. */
  join(chain: Chain, who: Signer, role: typeof Role.Guest | typeof Role.Member): Promise<void>;
  /** Makes `who` a member and a candidate with MIN pledged. */
  candidate(chain: Chain, who: Signer): Promise<void>;
}

export function recorder(): Recorder {
  const seen = new Set<string>();
  const note = (vs: readonly string[]): void => {
    for (const v of vs) if (v !== "OK") seen.add(v);
  };
  const run = async (chain: Chain, batch: readonly Uint8Array[]): Promise<PulseOutcome> => {
    const out = await chain.pulse(batch);
    note(verdicts(out));
    checkReceipts(chain.ledger, out, batch);
    return out;
  };
  const one = async (
    chain: Chain,
    bytes: Uint8Array,
    want: string,
    message?: RegExp,
  ): Promise<PulseOutcome> => {
    const before = chain.ledger.head === undefined ? undefined : summaryJson(chain.root());
    const out = await run(chain, [bytes]);
    assert.deepEqual(verdicts(out), [want]);
    if (want !== "OK") {
      if (before !== undefined)
        assert.deepEqual(summaryJson(out.root), before, "a rejection changes nothing");
      assert.equal(out.accountsChanged, 0);
      const r = out.results[0]!;
      if (message !== undefined && !r.ok) assert.match(r.message, message);
    }
    return out;
  };
  const join = async (
    chain: Chain,
    who: Signer,
    role: typeof Role.Guest | typeof Role.Member,
  ): Promise<void> => {
    await one(chain, chain.txs.apply(who, chain.nonce(who)), "OK");
    await one(chain, chain.txs.approve(S, who, role, chain.nonce(S)), "OK");
  };
  const candidate = async (chain: Chain, who: Signer): Promise<void> => {
    await join(chain, who, Role.Member);
    await one(chain, chain.txs.pledge(who, MIN, chain.nonce(who)), "OK");
    await one(chain, chain.txs.candidacy(who, true, chain.nonce(who)), "OK");
  };
  return { seen, note, run, one, join, candidate };
}
