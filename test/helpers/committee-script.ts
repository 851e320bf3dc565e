/**
 * An organization whose committee changes twice, for any cycle length L: four keepers are the
 * genesis committee (cycles 0 and 1); candidates 0 and 1 reveal in cycle 1 and are drawn for cycle
 * 2; candidate 0 withdraws and the voter moves its vote, and candidates 1 and 2 are drawn for cycle
 * 3. Each draw's reveals are made in its seed pulse, the cycle's last when L = 4.
 */
import type { Signer } from "../../src/crypto/ed25519.js";
import { schedule } from "../../src/election/cycle.js";
import { Policy, Role } from "../../src/ledger/account.js";
import type { OrgParams } from "../../src/ledger/tx.js";
import { makeCast, orgParams, secretOf, type Txs } from "./ledger-signers.js";

export const cast = makeCast(8);
/** Candidates 0 to 2. */
export const candidates = cast.users.slice(0, 3) as [Signer, Signer, Signer];
export const voter = cast.users[3]!;
/** The genesis committee, in its order. */
export const keepers = cast.users.slice(4, 8);

/** The genesis parameters for cycles of `L` pulses (the draws have two takers: committees of 2 from cycle 2 on). */
export function scriptParams(L: number): OrgParams {
  return {
    ...orgParams(cast.supervisor, {
      minDeposit: 100n,
      distribution: [[cast.supervisor, 1000n], ...[...candidates, voter].map((u) => [u, 10_000n] as const)],
      committee: keepers,
    }),
    electionCycle: L,
    committeeSize: keepers.length,
  };
}

/** The script's transactions pulse by pulse (ask for pulses 1, 2, 3... in order: it counts nonces). */
export class Script {
  private readonly nonces = new Map<Signer, number>();

  /** `filler`: a pulse with nothing scripted still changes the state (finality makes no empty pulse). */
  constructor(
    private readonly txs: Txs,
    private readonly L: number,
    private readonly filler = false,
  ) {}

  /** The transactions of pulse `p` (p >= 1). */
  at(p: number): Buffer[] {
    const t = this.txs;
    const [U0, U1, U2] = candidates;
    const joining = [...candidates, voter];
    const c1 = schedule(1, this.L);
    const c2 = schedule(2, this.L);
    let out: Buffer[] = [];
    if (p === 1) out = joining.map((u) => t.apply(u, this.n(u)));
    else if (p === 2)
      out = joining.map((u) =>
        t.approve(cast.supervisor, u, u === voter ? Role.Guest : Role.Member, this.n(cast.supervisor)),
      );
    else if (p === 3) out = candidates.map((u, i) => t.pledge(u, 300 - 100 * i, this.n(u)));
    else if (p === c1.first) out = candidates.map((u) => t.candidacy(u, true, this.n(u)));
    else if (p === c1.first + 1) out = [t.vote(voter, U1, 500, this.n(voter))];
    // Candidate 2 withholds its reveal: it takes no part in cycle 1's draw.
    else if (p === c1.revealLast)
      out = [U0, U1].map((u) => t.reveal(u, 1, this.n(u), { secret: secretOf(u, 0) }));
    else if (p === c2.first)
      out = [t.candidacy(U0, false, this.n(U0)), t.vote(voter, U2, 800, this.n(voter))];
    else if (p === c2.revealLast)
      out = [t.reveal(U1, 2, this.n(U1)), t.reveal(U2, 2, this.n(U2), { secret: secretOf(U2, 0) })];
    if (out.length === 0 && this.filler) out = [t.setPolicy(voter, Policy.AcceptAll, this.n(voter))];
    return out;
  }

  /** The next nonce of `who`. */
  private n(who: Signer): number {
    const next = (this.nonces.get(who) ?? 0) + 1;
    this.nonces.set(who, next);
    return next;
  }
}
