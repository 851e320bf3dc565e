/**
 * The schemas the method table (api.ts, api-net.ts) is built from: ids, amounts, roots, statuses.
 */
import type { Schema } from "./schema.js";

export const hex = (bytes: number, what: string): Schema => ({
  type: "string",
  pattern: `^[0-9a-f]{${bytes * 2}}$`,
  description: `${what}: ${bytes * 2} hex digits`,
});
export const ACCOUNT = hex(20, "account id");
export const HASH = hex(32, "hash");
export const U64: Schema = { type: "string", pattern: "^(0|[1-9][0-9]{0,19})$", description: "decimal u64" };
export const PULSE: Schema = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
export const COUNT: Schema = { type: "integer", minimum: 0 };
export const TX_HEX: Schema = {
  type: "string",
  pattern: "^(?:[0-9a-f][0-9a-f])+$",
  maxLength: 1_048_576,
  description: "an encoded transaction (docs/PROTOCOL.md), hex",
};
export const obj = (
  properties: Record<string, Schema>,
  required: readonly string[] = Object.keys(properties),
): Schema => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
export const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as "object", "null"] });

export const ROOT = obj({ hash: HASH, sum: U64, count: COUNT });
export const TX_STATUS = obj(
  {
    txId: HASH,
    state: { type: "string", enum: ["pending", "accepted", "rejected", "unknown"] },
    pulse: PULSE,
    reason: { type: "string", description: "why it was rejected (docs/PROTOCOL.md, State machine)" },
    message: { type: "string" },
    slot: COUNT,
  },
  ["txId", "state"],
);
export const ORG = obj({
  id: ACCOUNT,
  name: { type: "string" },
  supervisor: ACCOUNT,
  pulsePeriodMs: COUNT,
  electionCycle: COUNT,
  publicityPeriod: COUNT,
  committeeSize: COUNT,
  minDeposit: U64,
  miningReward: U64,
  supply: U64,
  distribution: { type: "array", items: obj({ to: ACCOUNT, amount: U64, reason: { type: "string" } }) },
  committee: {
    type: "array",
    items: ACCOUNT,
    description: "the genesis committee; empty: the supervisor alone",
  },
  head: nullable(PULSE),
});
export const ACCOUNT_STATE = obj({
  account: ACCOUNT,
  pulse: PULSE,
  exists: { type: "boolean" },
  amount: U64,
  spendable: U64,
  nonce: U64,
  frozen: U64,
  deposit: U64,
  role: { type: "string", enum: ["none", "applicant", "guest", "member", "supervisor"] },
  candidate: { type: "boolean" },
  policy: { type: "string", enum: ["countersign", "acceptAll"] },
  vote: nullable(obj({ candidate: ACCOUNT, weight: U64 })),
  updated: PULSE,
});
export const PROOF: Schema = {
  type: "object",
  description: "a proof as JSON (SPEC-smt.md; `leither proof verify` reads it)",
};
export const KEY = obj({ id: ACCOUNT, publicKey: HASH, node: { type: "boolean" } });
export const AT = {
  name: "pulse",
  schema: PULSE,
  description: "a retained pulse (default: the newest)",
} as const;
export const WHO = { name: "account", schema: ACCOUNT, description: "default: this node's account" } as const;
export const WAIT = {
  name: "wait",
  schema: { type: "boolean" } as Schema,
  description: "answer with the verdict (at the end of the pulse) instead of `pending`",
} as const;

/** One param of a method. */
export interface ParamSpec {
  readonly name: string;
  readonly schema: Schema;
  readonly required?: boolean;
  readonly description?: string;
}

/** One method: what it does, its params (by name) and its result. */
export interface MethodSpec {
  readonly summary: string;
  readonly params: readonly ParamSpec[];
  readonly result: Schema;
  /** Error codes (errors.ts) it may answer with, besides the protocol's own. */
  readonly errors?: readonly number[];
}
