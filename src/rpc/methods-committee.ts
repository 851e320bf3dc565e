/**
 * committee_info (api-committee.ts): the committee serving a cycle and the draw of the next one, read
 * from this node's books with src/election (docs/PROTOCOL.md §12). The draw reads the snapshot and
 * seed pulses, which retention may have dropped: what cannot be read is said in the answer (a note,
 * the candidates read at the head) rather than failing the call.
 */
import type { ElectionSource } from "../election/accounts.js";
import { committeeFor, committeeOf } from "../election/committee.js";
import { cycleOf, schedule } from "../election/cycle.js";
import { commitment } from "../election/draw.js";
import { candidateWeights } from "../election/weights.js";
import type { Account } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { PulseError } from "../ledger/store-types.js";
import { decodeCertificate } from "../pulse/certificate.js";
import { checkEvidence } from "../pulse/votes.js";
import type {
  CandidateJson,
  CertificateJson,
  CommitteeInfoJson,
  CommitteePhase,
  EvidenceJson,
} from "./api-committee.js";
import { RpcError, RpcErrorCode } from "./errors.js";

/** What committee_info reads. */
export interface CommitteeDeps {
  readonly ledger: Pick<
    Ledger,
    "org" | "head" | "account" | "rootAt" | "accountsAt" | "retained" | "certificateAt"
  >;
  /** The committee finalizing a pulse, as this node's finality knows it. */
  committee?(pulse: number): readonly Buffer[];
  /** Equivocation evidence this node's finality holds. */
  evidence?(): readonly Buffer[];
}

const STEPS = { 1: "propose", 2: "prevote", 3: "precommit" } as const;

/** The pulse_certificate handler. */
export function pulseCertificate(d: CommitteeDeps, needOrg: () => unknown) {
  return (p: { pulse: number }): CertificateJson | null => {
    needOrg();
    const head = d.ledger.head!;
    if (p.pulse > head)
      throw new RpcError(RpcErrorCode.NOT_RETAINED, `pulse ${p.pulse} is not final yet (head ${head})`);
    const bytes = d.ledger.certificateAt(p.pulse);
    if (bytes === undefined) return null;
    const c = decodeCertificate(bytes);
    let proposer: string | null = null;
    try {
      const members = d.committee?.(p.pulse);
      if (members !== undefined && members.length > 0) proposer = hex(members[c.round % members.length]!);
    } catch {
      // The committee of an old pulse may not be known any more: the proposer is then left out.
    }
    return {
      pulse: c.pulse,
      round: c.round,
      proposer,
      signers: c.signers.map(hex),
      root: { hash: hex(c.root.hash), sum: c.root.sum.toString() },
      bytes: hex(bytes),
    };
  };
}

/** The committee_evidence handler. */
export function committeeEvidence(d: CommitteeDeps) {
  return (): { evidence: EvidenceJson[] } => ({
    evidence: (d.evidence?.() ?? []).map((b) => {
      const e = checkEvidence(b);
      return { signer: hex(e.signer), pulse: e.pulse, round: e.round, step: STEPS[e.step], bytes: hex(b) };
    }),
  });
}

/** The books as the election reads them: the one place that says how (the Ledger is an ElectionSource). */
function electionSource(d: CommitteeDeps): ElectionSource {
  return d.ledger;
}

const hex = (b: Buffer) => b.toString("hex");

/** The committee_info handler over `d`; `needOrg` throws the usual NO_ORG error. */
export function committeeInfo(d: CommitteeDeps, needOrg: () => unknown) {
  return (p: { cycle?: number }): CommitteeInfoJson => {
    needOrg();
    const src = electionSource(d);
    const L = src.org!.params.electionCycle;
    const head = src.head!;
    const current = cycleOf(head, L);
    const cycle = p.cycle ?? current;
    if (cycle > current)
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMS,
        `cycle ${cycle} has not begun: the head is pulse ${head}, in cycle ${current}`,
      );
    const retained = new Set(d.ledger.retained());
    const readable = (pulse: number) => pulse <= head && retained.has(pulse);
    return {
      cycle,
      cycleLength: L,
      head,
      serving: serving(src, cycle),
      next: next(src, cycle, head, readable),
    };
  };
}

/** Runs an election read; a pulse it needs that is not retained gives its message instead. */
function attempt<T>(fn: () => T): T | { missing: string } {
  try {
    return fn();
  } catch (err) {
    // PulseError: a pruned pulse read by id; RangeError: a pulse with no root record, or not reached.
    if (err instanceof PulseError || err instanceof RangeError) return { missing: err.message };
    throw err;
  }
}

const failed = (x: unknown): x is { missing: string } =>
  typeof x === "object" && x !== null && "missing" in x && !Array.isArray(x);

/** The committee keeping the books in `cycle`: the draw of the cycle before (the genesis's in cycle 0). */
function serving(src: ElectionSource, cycle: number): CommitteeInfoJson["serving"] {
  if (cycle === 0) {
    // The genesis committee: no draw before it.
    const members = committeeOf(src, 0).map(hex);
    return { cycle, members, chief: members[0] ?? null };
  }
  const c = attempt(() => committeeFor(src, cycle - 1));
  if (failed(c))
    return {
      cycle,
      members: [],
      chief: null,
      note: `the draw of cycle ${cycle - 1} cannot be read here: ${c.missing}`,
    };
  const members = c.members.map(hex);
  return { cycle, members, chief: members[0] ?? null, carried: c.carried };
}

/** The draw made in `cycle`, of the committee of cycle + 1, as far as the head has come. */
function next(
  src: ElectionSource,
  cycle: number,
  head: number,
  readable: (pulse: number) => boolean,
): CommitteeInfoJson["next"] {
  const p = src.org!.params;
  const s = schedule(cycle, p.electionCycle);
  const phase: CommitteePhase =
    head < s.snapshot ? "before-snapshot" : head < s.revealLast ? "reveal-window" : "drawn";
  const base = {
    cycle: cycle + 1,
    snapshotPulse: s.snapshot,
    revealWindow: { from: s.revealFirst, to: s.revealLast },
    seedPulse: s.revealLast,
    forfeitPulse: s.revealLast + 1,
    phase,
  };
  // The candidates stand as at the snapshot; before it (or once it is pruned), as at the head.
  const atSnapshot = readable(s.snapshot);
  const at = atSnapshot ? s.snapshot : head;
  const accounts = [...src.accountsAt(at)];
  const byId = new Map(accounts.map((e) => [hex(e.id), e.account]));
  // Reveals as they stand at the seed pulse, or at the head while the window is open.
  const revealsAt = Math.min(head, s.revealLast);
  const revealsRead = atSnapshot && readable(revealsAt);
  let drawn: CommitteeInfoJson["next"]["drawn"];
  let unread: string | undefined;
  let withheld: Set<string> | undefined;
  if (phase === "drawn") {
    const c = attempt(() => committeeFor(src, cycle));
    if (failed(c)) unread = c.missing;
    else {
      drawn = { members: c.members.map(hex), seed: hex(c.seed), carried: c.carried };
      withheld = new Set(c.withheld.map(hex));
    }
  }
  const candidates: CandidateJson[] = candidateWeights(accounts, p.minDeposit)
    .sort((a, b) => Buffer.compare(a.id, b.id))
    .map((w) => {
      const a = byId.get(hex(w.id))!;
      return {
        id: hex(w.id),
        deposit: a.deposit.toString(),
        votes: (w.weight - a.deposit).toString(),
        weight: w.weight.toString(),
        committed: a.commitment !== null,
        revealed: revealsRead && opened(a, src.account(w.id, revealsAt), cycle),
        ...(withheld === undefined ? {} : { forfeits: withheld.has(hex(w.id)) }),
      };
    });
  let note: string | undefined;
  if (!atSnapshot)
    note =
      phase === "before-snapshot"
        ? `the snapshot (pulse ${s.snapshot}) is not reached: candidates as at the head, pulse ${head}`
        : `the snapshot (pulse ${s.snapshot}) is no longer retained: candidates as at the head, pulse ${head}, without reveals`;
  else if (!revealsRead) note = `the seed pulse ${s.revealLast} is no longer retained: reveals are not shown`;
  if (unread !== undefined)
    note = `${note === undefined ? "" : `${note}; `}the draw cannot be read here: ${unread}`;
  return {
    ...base,
    candidatesAt: at,
    candidates,
    ...(note === undefined ? {} : { note }),
    ...(drawn === undefined ? {} : { drawn }),
  };
}

/** Whether `later` (the account after the reveals) opened in `cycle` the commitment `atSnapshot` held. */
function opened(atSnapshot: Account, later: Account | undefined, cycle: number): boolean {
  const held = atSnapshot.commitment;
  const r = later?.reveal ?? null;
  return held !== null && r !== null && r.cycle === cycle && commitment(r.secret).equals(held);
}
