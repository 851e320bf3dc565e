/**
 * Which reject reasons the rules tests (test/ledger-rules-*.test.ts) exercise. ALL_REASONS names
 * every RejectReason: the type fails the build if one is missing. Each rules file records the
 * reasons its pulses give and checks, last, that they are exactly the ones REASONS_SEEN lists for it;
 * ledger-rules-common.test.ts checks that together the lists name every reason.
 */
import { strict as assert } from "node:assert";
import type { RejectReason } from "../../src/ledger/state-machine.js";

export const ALL_REASONS: Record<RejectReason, true> = {
  DECODE: true,
  BAD_SIGNATURE: true,
  KEY_MISMATCH: true,
  DUPLICATE: true,
  NO_ORG: true,
  ORG_EXISTS: true,
  WRONG_ORG: true,
  BAD_PARAMS: true,
  EXPIRED: true,
  ORG_ACCOUNT: true,
  NONCE: true,
  BAD_AMOUNT: true,
  SELF: true,
  INSUFFICIENT_FUNDS: true,
  PAYEE_SIGNATURE: true,
  OVERFLOW: true,
  NOT_SUPERVISOR: true,
  NOT_MEMBER: true,
  NOT_APPLICANT: true,
  ALREADY_MEMBER: true,
  BAD_ROLE: true,
  DEPOSIT: true,
  NOT_CANDIDATE: true,
  VOTE_WEIGHT: true,
  REVEAL_WINDOW: true,
  ALREADY_REVEALED: true,
  BAD_REVEAL: true,
  NO_REWARD: true,
  REWARD_PULSE: true,
  NO_COMMITTEE: true,
  REWARD_RECIPIENTS: true,
  FORFEIT_PULSE: true,
  NO_WITHHELD: true,
  FORFEIT_CANDIDATES: true,
};

/** The reasons each rules file's tests give, exactly (test/ledger-rules-<key>.test.ts). */
export const REASONS_SEEN = {
  common: [
    "ORG_EXISTS",
    "BAD_PARAMS",
    "NO_ORG",
    "INSUFFICIENT_FUNDS",
    "WRONG_ORG",
    "EXPIRED",
    "ORG_ACCOUNT",
    "NONCE",
    "DECODE",
    "BAD_SIGNATURE",
    "KEY_MISMATCH",
    "DUPLICATE",
  ],
  transfer: [
    "BAD_AMOUNT",
    "SELF",
    "PAYEE_SIGNATURE",
    "INSUFFICIENT_FUNDS",
    "NONCE",
    "OVERFLOW",
    "NOT_SUPERVISOR",
  ],
  membership: [
    "ALREADY_MEMBER",
    "NOT_SUPERVISOR",
    "NOT_APPLICANT",
    "SELF",
    "ORG_ACCOUNT",
    "NOT_MEMBER",
    "BAD_ROLE",
  ],
  election: [
    "BAD_AMOUNT",
    "INSUFFICIENT_FUNDS",
    "DEPOSIT",
    "NOT_MEMBER",
    "VOTE_WEIGHT",
    "NOT_CANDIDATE",
    "REVEAL_WINDOW",
    "ALREADY_REVEALED",
    "BAD_REVEAL",
  ],
  reward: [
    "NO_REWARD",
    "REWARD_PULSE",
    "NO_COMMITTEE",
    "REWARD_RECIPIENTS",
    "WRONG_ORG",
    "DUPLICATE",
    "INSUFFICIENT_FUNDS",
    "NOT_MEMBER",
  ],
  forfeit: ["FORFEIT_PULSE", "NO_WITHHELD", "FORFEIT_CANDIDATES", "WRONG_ORG", "DUPLICATE", "DEPOSIT"],
} as const satisfies Record<string, readonly RejectReason[]>;

export type RulesFile = keyof typeof REASONS_SEEN;

/** Asserts a rules file saw exactly the reasons REASONS_SEEN lists for it. */
export function assertReasonsSeen(file: RulesFile, seen: ReadonlySet<string>): void {
  const listed: readonly string[] = REASONS_SEEN[file];
  assert.deepEqual(
    {
      listedButNotSeen: listed.filter((r) => !seen.has(r)),
      seenButNotListed: [...seen].filter((r) => !listed.includes(r)).sort(),
    },
    { listedButNotSeen: [], seenButNotListed: [] },
    `REASONS_SEEN.${file} must name exactly the reasons test/ledger-rules-${file}.test.ts exercises`,
  );
}
