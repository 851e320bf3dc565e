/**
 * The rule of each transaction kind (seed section 7.2.1). A rule checks every condition first and
 * throws Reject before it changes anything, then changes the accounts; so a rejected transaction
 * leaves no trace. docs/PROTOCOL.md ("State machine") lists the same rules in prose.
 */
import { accountId } from "../crypto/account-id.js";
import { depositsLocked, forfeitCycle, inRevealWindow, MIN_ELECTION_CYCLE } from "../election/cycle.js";
import { commitment } from "../election/draw.js";
import { MAX_U64 } from "../smt/hash.js";
import { type Account, Policy, Role, spendable } from "./account.js";
import { type Entry, type OrgInfo, type Overlay, Reject } from "./transition-types.js";
import {
  type Acting,
  type ActingKind,
  type OrgParams,
  type Tx,
  type TxBody,
  TxKind,
  type TxOf,
} from "./tx.js";

const ZERO_ID = Buffer.alloc(20);

/** Applies one transaction whose signatures were checked; returns the tokens it issued. */
export function applyRule(o: Overlay, pulse: number, tx: Tx): bigint {
  const b = tx.body;
  if (b.kind === TxKind.Genesis) return genesis(o, tx, b);
  const org = o.org;
  if (org === undefined) throw new Reject("NO_ORG", "the organization has no genesis yet");
  if (!b.org.equals(org.id)) throw new Reject("WRONG_ORG", "signed for another organization");
  if (b.kind === TxKind.Reward) {
    reward(o, org, pulse, b);
    return 0n;
  }
  if (b.kind === TxKind.Forfeit) {
    forfeit(o, org, pulse, b);
    return 0n;
  }
  if (pulse > b.expiry) throw new Reject("EXPIRED", `expired at pulse ${b.expiry}, this is pulse ${pulse}`);
  if (b.actor.equals(org.id))
    throw new Reject("ORG_ACCOUNT", "the organization's account moves only by supervisors' distributions");
  const actor = o.get(b.actor);
  if (b.nonce !== actor.cur.nonce + 1n)
    throw new Reject("NONCE", `nonce ${b.nonce}, the account expects ${actor.cur.nonce + 1n}`);
  acting[b.kind](o, org, actor, b as never, tx, pulse);
  set(actor, { nonce: actor.cur.nonce + 1n });
  return 0n;
}

type Rule<K extends ActingKind> = (
  o: Overlay,
  org: OrgInfo,
  actor: Entry,
  b: TxOf<K>,
  tx: Tx,
  pulse: number,
) => void;

const acting: { [K in ActingKind]: Rule<K> } = {
  [TxKind.Transfer]: (o, _org, actor, b, tx) => {
    positive(b.amount);
    if (b.to.equals(b.actor)) throw new Reject("SELF", "payer and payee are the same account");
    const payee = o.get(b.to);
    if (tx.signatures.length < 2 && payee.cur.policy !== Policy.AcceptAll)
      throw new Reject(
        "PAYEE_SIGNATURE",
        "the payee countersigns each incoming transfer; its signature is missing",
      );
    move(actor, payee, b.amount);
  },
  [TxKind.Distribute]: (o, org, actor, b) => {
    supervisor(actor);
    positive(b.amount);
    if (b.to.equals(org.id))
      throw new Reject("SELF", "a distribution from the organization's account to itself");
    move(o.get(org.id), o.get(b.to), b.amount);
  },
  [TxKind.Apply]: (_o, _org, actor) => {
    if (actor.cur.role !== Role.None)
      throw new Reject("ALREADY_MEMBER", `the account already has role ${roleName(actor.cur.role)}`);
    set(actor, { role: Role.Applicant });
  },
  [TxKind.Approve]: (o, _org, actor, b) => {
    supervisor(actor);
    const applicant = o.get(b.applicant);
    if (applicant.cur.role !== Role.Applicant)
      throw new Reject("NOT_APPLICANT", "the account has not applied");
    set(applicant, { role: b.role });
  },
  [TxKind.SetRole]: (o, org, actor, b) => {
    supervisor(actor);
    if (b.target.equals(b.actor)) throw new Reject("SELF", "a supervisor does not change its own role");
    if (b.target.equals(org.id)) throw new Reject("ORG_ACCOUNT", "the organization's account has no role");
    const target = o.get(b.target);
    if (target.cur.role < Role.Guest) throw new Reject("NOT_MEMBER", "the account is not a member or guest");
    const stays = b.role >= Role.Member && target.cur.candidate;
    set(target, {
      role: b.role,
      candidate: stays,
      commitment: stays ? target.cur.commitment : null,
      // An account outside the organization has no say in its elections.
      vote: b.role === Role.None ? null : target.cur.vote,
    });
  },
  [TxKind.Leave]: (_o, _org, actor) => {
    const role = actor.cur.role;
    if (role === Role.None) throw new Reject("NOT_MEMBER", "the account is not in the organization");
    if (role === Role.Supervisor)
      throw new Reject("BAD_ROLE", "a supervisor cannot leave; another supervisor changes its role first");
    set(actor, { role: Role.None, candidate: false, commitment: null, vote: null });
  },
  [TxKind.Pledge]: (_o, _org, actor, b) => {
    positive(b.amount);
    canSpend(actor, b.amount);
    set(actor, { deposit: actor.cur.deposit + b.amount });
  },
  [TxKind.Release]: (_o, org, actor, b, _tx, pulse) => {
    positive(b.amount);
    const a = actor.cur;
    if (b.amount > a.deposit)
      throw new Reject("DEPOSIT", `release of ${b.amount}, the deposit is ${a.deposit}`);
    // A candidate could otherwise withdraw, release, and then withhold its reveal for free.
    if (depositsLocked(pulse, org.params.electionCycle))
      throw new Reject(
        "DEPOSIT",
        `deposits are locked in a reveal window (pulse ${pulse}) until its forfeit`,
      );
    if (a.candidate && a.deposit - b.amount < org.params.minDeposit)
      throw new Reject(
        "DEPOSIT",
        `a candidate keeps at least ${org.params.minDeposit}; withdraw the candidacy first`,
      );
    set(actor, { deposit: a.deposit - b.amount });
  },
  [TxKind.Candidacy]: (_o, org, actor, b) => {
    // The last reveal stays: a draw whose window it was in still reads it.
    if (!b.declare) return set(actor, { candidate: false, commitment: null });
    if (actor.cur.role < Role.Member)
      throw new Reject("NOT_MEMBER", "only members and supervisors are candidates");
    if (actor.cur.deposit < org.params.minDeposit)
      throw new Reject(
        "DEPOSIT",
        `a candidate pledges at least ${org.params.minDeposit}, pledged ${actor.cur.deposit}`,
      );
    // Declaring again replaces the commitment; a draw only counts a reveal of the one held at its snapshot.
    set(actor, { candidate: true, commitment: b.commitment });
  },
  [TxKind.Reveal]: (_o, org, actor, b, _tx, pulse) => {
    const a = actor.cur;
    if (!a.candidate || a.commitment === null)
      throw new Reject("NOT_CANDIDATE", "only a candidate with a commitment reveals");
    if (!inRevealWindow(pulse, b.cycle, org.params.electionCycle))
      throw new Reject("REVEAL_WINDOW", `pulse ${pulse} is outside the reveal window of cycle ${b.cycle}`);
    if (a.reveal !== null && a.reveal.cycle === b.cycle)
      throw new Reject("ALREADY_REVEALED", `the account already revealed in cycle ${b.cycle}`);
    if (!commitment(b.secret).equals(a.commitment))
      throw new Reject("BAD_REVEAL", "the secret does not match the account's commitment");
    set(actor, { reveal: { cycle: b.cycle, secret: b.secret }, commitment: b.next });
  },
  [TxKind.Vote]: (o, _org, actor, b) => {
    if (b.weight === 0n) return set(actor, { vote: null });
    if (actor.cur.role < Role.Guest) throw new Reject("NOT_MEMBER", "only members and guests vote");
    const balance = actor.cur.amount - actor.received;
    if (b.weight > balance)
      throw new Reject("VOTE_WEIGHT", `weight ${b.weight} is above the balance ${balance}`);
    if (!o.get(b.candidate).cur.candidate)
      throw new Reject("NOT_CANDIDATE", "the account is not a candidate");
    set(actor, { vote: { candidate: b.candidate, weight: b.weight } });
  },
  [TxKind.SetPolicy]: (_o, _org, actor, b) => set(actor, { policy: b.policy }),
};

/**
 * The mining reward of this pulse (no acting fields, no signature): `miningReward` from the
 * organization's account, or what it can spend if less, split equally among the pulse's committee
 * (floor), the remainder to the first. A body is fixed by (org, pulse, committee), so a second one in
 * a batch is the same transaction (DUPLICATE).
 */
function reward(o: Overlay, org: OrgInfo, pulse: number, b: TxOf<typeof TxKind.Reward>): void {
  const total = org.params.miningReward ?? 0n;
  if (total === 0n) throw new Reject("NO_REWARD", "the organization pays no mining reward");
  if (b.pulse !== pulse)
    throw new Reject("REWARD_PULSE", `a reward for pulse ${b.pulse}, this is pulse ${pulse}`);
  const committee = o.committee;
  if (committee === undefined)
    throw new Reject(
      "NO_COMMITTEE",
      "the pulse was applied without its committee: a reward cannot be checked",
    );
  if (committee.length !== b.recipients.length || !committee.every((id, i) => id.equals(b.recipients[i]!)))
    throw new Reject("REWARD_RECIPIENTS", "the recipients are not the pulse's committee in drawn order");
  const from = o.get(org.id);
  const held = available(from);
  const paid = held < total ? held : total;
  if (paid === 0n) return;
  const n = BigInt(b.recipients.length);
  const credits = b.recipients
    .map((id, i) => ({ to: o.get(id), amount: paid / n + (i === 0 ? paid % n : 0n) }))
    .filter((c) => c.amount > 0n);
  for (const c of credits)
    if (c.to.cur.amount + c.amount > MAX_U64)
      throw new Reject("OVERFLOW", "a recipient's amount would pass u64");
  debit(from, paid);
  for (const c of credits) credit(c.to, c.amount);
}

/**
 * The forfeit of one election cycle (no acting fields, no signature), due only in the pulse after
 * its reveal window: each candidate that stood at the snapshot and did not open its commitment in
 * the window loses `minDeposit` of its deposit (all of it if less) to the organization's account,
 * where confiscated deposits go. The list must be exactly the one the caller computed from the
 * draw (TransitionOptions.withheld); the body is fixed by (org, cycle, list), so a second copy is
 * DUPLICATE and a cycle is charged once.
 */
function forfeit(o: Overlay, org: OrgInfo, pulse: number, b: TxOf<typeof TxKind.Forfeit>): void {
  if (forfeitCycle(pulse, org.params.electionCycle) !== b.cycle)
    throw new Reject(
      "FORFEIT_PULSE",
      `a forfeit of cycle ${b.cycle} is due only in the pulse after its reveal window; this is pulse ${pulse}`,
    );
  const withheld = o.withheld;
  if (withheld === undefined)
    throw new Reject(
      "NO_WITHHELD",
      "the pulse was applied without its withheld reveals: a forfeit cannot be checked",
    );
  if (withheld.length !== b.candidates.length || !withheld.every((id, i) => id.equals(b.candidates[i]!)))
    throw new Reject("FORFEIT_CANDIDATES", `the candidates are not those that withheld in cycle ${b.cycle}`);
  const min = org.params.minDeposit;
  let taken = 0n;
  for (const id of b.candidates) {
    const e = o.get(id);
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
    const x = e.cur.deposit < min ? e.cur.deposit : min;
    if (x === 0n) continue;
    // Out of the deposit and so out of the amount: what the account can spend stays as it was.
    set(e, { deposit: e.cur.deposit - x });
    debit(e, x);
    taken += x;
  }
  // The amounts were in the tree's sum, so the organization's account cannot pass u64.
  if (taken > 0n) credit(o.get(org.id), taken);
}

function genesis(o: Overlay, tx: Tx, b: TxOf<typeof TxKind.Genesis>): bigint {
  if (o.org !== undefined) throw new Reject("ORG_EXISTS", "the organization already had its genesis");
  const p = b.params;
  const problem = paramsProblem(b.org, p);
  if (problem !== undefined) throw new Reject("BAD_PARAMS", problem);
  let distributed = 0n;
  for (const line of p.distribution) credit(o.get(line.to), line.amount);
  for (const line of p.distribution) distributed += line.amount;
  const orgAccount = o.get(b.org);
  credit(orgAccount, p.supply - distributed);
  set(orgAccount, { policy: Policy.AcceptAll });
  set(o.get(p.supervisor), { role: Role.Supervisor });
  o.setGenesis({ id: b.org, params: p }, tx);
  return p.supply;
}

/** Why genesis parameters are not acceptable, or undefined. */
export function paramsProblem(org: Buffer, p: OrgParams): string | undefined {
  if (p.name.length === 0) return "the name is empty";
  if (p.pulsePeriodMs < 1) return "the pulse period is 0";
  if (p.electionCycle < MIN_ELECTION_CYCLE)
    return `the election cycle is below ${MIN_ELECTION_CYCLE} pulses (its reveal window would be empty)`;
  if (p.committeeSize < 1) return "the committee size is 0";
  // A certificate holds at most this many signatures, and binds the next committee by its hash.
  if (p.committeeSize > MAX_COMMITTEE_SIZE)
    return `the committee size is ${p.committeeSize}, above ${MAX_COMMITTEE_SIZE}`;
  if (p.supervisor.equals(org)) return "the supervisor is the organization's own account";
  const seen = new Set<string>();
  let total = 0n;
  for (const line of p.distribution) {
    if (line.amount === 0n) return "a distribution line of 0";
    if (line.to.equals(org)) return "a distribution line to the organization's own account";
    const k = line.to.toString("hex");
    if (seen.has(k)) return `two distribution lines to ${k}`;
    seen.add(k);
    total += line.amount;
  }
  if (total > p.supply) return `the distribution (${total}) exceeds the supply (${p.supply})`;
  return committeeProblem(p.committee, p.committeeSize);
}

/** Most bookkeepers a committee has: a certificate's most signers (src/pulse/certificate.ts). */
export const MAX_COMMITTEE_SIZE = 1024;

/** Why a genesis committee is not acceptable (more than `size` ids, a duplicate, a zero id), or undefined. */
export function committeeProblem(committee: readonly Buffer[], size: number): string | undefined {
  if (committee.length > size)
    return `the genesis committee has ${committee.length} members, more than the committee size ${size}`;
  const members = new Set<string>();
  for (const id of committee) {
    const k = id.toString("hex");
    if (id.equals(ZERO_ID)) return "a genesis committee member is the zero account id";
    if (members.has(k)) return `${k} is twice in the genesis committee`;
    members.add(k);
  }
  return undefined;
}

/** The account ids a transaction touches, each once: its receipt carries their proofs. */
export function partiesOf(b: TxBody, org: Buffer | undefined): Buffer[] {
  const ids = touched(b, org);
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = id.toString("latin1");
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function touched(b: TxBody, org: Buffer | undefined): Buffer[] {
  switch (b.kind) {
    case TxKind.Genesis:
      return [b.org, b.params.supervisor, ...b.params.distribution.map((l) => l.to)];
    case TxKind.Transfer:
      return [b.actor, b.to];
    case TxKind.Distribute:
      return org === undefined ? [b.actor, b.to] : [b.actor, org, b.to];
    case TxKind.Approve:
      return [b.actor, b.applicant];
    case TxKind.SetRole:
      return [b.actor, b.target];
    case TxKind.Reward:
      return [b.org, ...b.recipients];
    case TxKind.Forfeit:
      return [b.org, ...b.candidates];
    default:
      return [(b as Acting).actor];
  }
}

/** Checks that the public key of each signature belongs to the account that must sign there. */
export function keysMatch(tx: Tx, ids: readonly Buffer[]): boolean {
  return tx.signatures.every((s, i) => ids[i] !== undefined && accountId(s.publicKey).equals(ids[i]!));
}

function move(from: Entry, to: Entry, amount: bigint): void {
  canSpend(from, amount);
  if (to.cur.amount + amount > MAX_U64) throw new Reject("OVERFLOW", "the payee's amount would pass u64");
  debit(from, amount);
  credit(to, amount);
}

/** What an account can spend now: its spendable amount less what it received in this pulse. */
function available(e: Entry): bigint {
  const s = spendable(e.cur);
  return s > e.received ? s - e.received : 0n;
}

function canSpend(e: Entry, amount: bigint): void {
  const avail = available(e);
  if (amount > avail)
    throw new Reject("INSUFFICIENT_FUNDS", `spends ${amount}, can spend ${avail} in this pulse`);
}

function debit(e: Entry, amount: bigint): void {
  const amountAfter = e.cur.amount - amount;
  const v = e.cur.vote;
  // A vote never weighs more than the balance: a spend that goes below it lowers it.
  const vote =
    v === null || v.weight <= amountAfter ? v : amountAfter === 0n ? null : { ...v, weight: amountAfter };
  set(e, { amount: amountAfter, vote });
}

function credit(e: Entry, amount: bigint): void {
  set(e, { amount: e.cur.amount + amount });
  e.received += amount;
}

function set(e: Entry, patch: Partial<Account>): void {
  e.cur = { ...e.cur, ...patch };
  e.dirty = true;
}

function positive(amount: bigint): void {
  if (amount <= 0n) throw new Reject("BAD_AMOUNT", "the amount must be above 0");
}

function supervisor(e: Entry): void {
  if (e.cur.role !== Role.Supervisor) throw new Reject("NOT_SUPERVISOR", "only a supervisor signs this");
}

function roleName(r: number): string {
  return ["none", "applicant", "guest", "member", "supervisor"][r] ?? String(r);
}
