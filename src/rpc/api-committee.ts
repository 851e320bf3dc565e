/**
 * The committee half of the JSON-RPC API (docs/PROTOCOL.md §12): who keeps the books in a cycle,
 * and where the draw of the next committee stands. Merged into METHODS and LeitherApi by api.ts.
 */
import { ACCOUNT, COUNT, HASH, type MethodSpec, nullable, obj, PULSE, U64 } from "./api-schemas.js";

const PHASE = {
  type: "string",
  enum: ["before-snapshot", "reveal-window", "drawn"],
  description:
    "before-snapshot: the head is before the snapshot pulse; reveal-window: the snapshot is taken and the window's last pulse is not committed yet; drawn: the seed pulse is committed",
} as const;

const CANDIDATE = obj(
  {
    id: ACCOUNT,
    deposit: U64,
    votes: { ...U64, description: "the votes counted for it (each capped at its voter's amount)" },
    weight: { ...U64, description: "deposit + votes" },
    committed: {
      type: "boolean",
      description: "it held a commitment (at the pulse the candidates were read at)",
    },
    revealed: {
      type: "boolean",
      description: "it opened that commitment in this cycle's window: it takes part",
    },
    forfeits: {
      type: "boolean",
      description:
        "once drawn: it stood with a commitment and did not open it, so the forfeit in forfeitPulse takes min(minDeposit, deposit) of its deposit",
    },
  },
  ["id", "deposit", "votes", "weight", "committed", "revealed"],
);

const CERTIFICATE = obj({
  pulse: PULSE,
  round: { ...COUNT, description: "the round whose proposal is final" },
  proposer: nullable(ACCOUNT),
  signers: { type: "array", items: ACCOUNT, description: "the committee members whose precommits it holds" },
  root: obj({ hash: HASH, sum: U64 }),
  bytes: { type: "string", pattern: "^([0-9a-f]{2})+$", description: "the certificate (kind 0x49), hex" },
});

const EVIDENCE = obj({
  signer: ACCOUNT,
  pulse: PULSE,
  round: COUNT,
  step: { type: "string", enum: ["propose", "prevote", "precommit"] },
  bytes: { type: "string", pattern: "^([0-9a-f]{2})+$", description: "the evidence (kind 0x47), hex" },
});

/** The committee methods. */
export const COMMITTEE_METHODS = {
  pulse_certificate: {
    summary:
      "the certificate that made a pulse final: 2f+1 precommits of its committee (null for the genesis)",
    params: [{ name: "pulse", schema: PULSE, required: true }],
    result: nullable(CERTIFICATE),
  },
  committee_evidence: {
    summary: "equivocation evidence this node holds: two conflicting signed votes of one committee member",
    params: [],
    result: obj({ evidence: { type: "array", items: EVIDENCE } }),
  },
  committee_info: {
    summary:
      "the committee that keeps the books in a cycle (default: the head's) and the draw of the next one: its schedule, phase, candidates with their weights, commitments and reveals, and once drawn its members and seed",
    params: [
      {
        name: "cycle",
        schema: { type: "integer", minimum: 0, maximum: 0xffffffff },
        description: "an election cycle up to the head's (default: the head's)",
      },
    ],
    result: obj({
      cycle: COUNT,
      cycleLength: COUNT,
      head: PULSE,
      serving: obj(
        {
          cycle: COUNT,
          members: { type: "array", items: ACCOUNT, description: "in drawn order, the chief first" },
          chief: nullable(ACCOUNT),
          carried: {
            type: "boolean",
            description: "no one took part in the last draw: the committee before continues",
          },
          note: { type: "string", description: "why the members are not known (pulses no longer retained)" },
        },
        ["cycle", "members", "chief"],
      ),
      next: obj(
        {
          cycle: {
            ...COUNT,
            description: "the cycle the drawn committee serves (reveals name the cycle before)",
          },
          snapshotPulse: PULSE,
          revealWindow: obj({ from: PULSE, to: PULSE }),
          seedPulse: PULSE,
          forfeitPulse: {
            ...PULSE,
            description: "the pulse whose forfeit charges the candidates that withheld their reveal",
          },
          phase: PHASE,
          candidatesAt: { ...PULSE, description: "the pulse the candidates were read at" },
          candidates: { type: "array", items: CANDIDATE, description: "the standing candidates, by id" },
          note: {
            type: "string",
            description:
              "when the candidates are read at the head: the snapshot is not reached or not retained",
          },
          drawn: obj({
            members: { type: "array", items: ACCOUNT },
            seed: HASH,
            carried: { type: "boolean" },
          }),
        },
        [
          "cycle",
          "snapshotPulse",
          "revealWindow",
          "seedPulse",
          "forfeitPulse",
          "phase",
          "candidatesAt",
          "candidates",
        ],
      ),
    }),
  },
} as const satisfies Record<string, MethodSpec>;

/** Where the draw of the next committee stands. */
export type CommitteePhase = "before-snapshot" | "reveal-window" | "drawn";

/** A standing candidate of a draw. */
export interface CandidateJson {
  id: string;
  deposit: string;
  votes: string;
  weight: string;
  committed: boolean;
  revealed: boolean;
  /** Present once drawn: whether the cycle's forfeit charges it. */
  forfeits?: boolean;
}

/** The result of committee_info. */
export interface CommitteeInfoJson {
  cycle: number;
  cycleLength: number;
  head: number;
  serving: { cycle: number; members: string[]; chief: string | null; carried?: boolean; note?: string };
  next: {
    cycle: number;
    snapshotPulse: number;
    revealWindow: { from: number; to: number };
    seedPulse: number;
    forfeitPulse: number;
    phase: CommitteePhase;
    candidatesAt: number;
    candidates: CandidateJson[];
    note?: string;
    drawn?: { members: string[]; seed: string; carried: boolean };
  };
}

/** A final pulse's certificate as JSON. */
export interface CertificateJson {
  pulse: number;
  round: number;
  proposer: string | null;
  signers: string[];
  root: { hash: string; sum: string };
  bytes: string;
}

/** One piece of evidence as JSON. */
export interface EvidenceJson {
  signer: string;
  pulse: number;
  round: number;
  step: "propose" | "prevote" | "precommit";
  bytes: string;
}

/** The committee methods' params and results. */
export interface CommitteeApi {
  pulse_certificate: { params: { pulse: number }; result: CertificateJson | null };
  committee_evidence: { params: Record<string, never>; result: { evidence: EvidenceJson[] } };
  committee_info: { params: { cycle?: number }; result: CommitteeInfoJson };
}
