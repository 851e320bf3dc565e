/**
 * The node's JSON-RPC API, written once: each method's params and result as schemas (schema.ts)
 * and as TypeScript types. The server validates params with the schemas, `rpc.discover` publishes
 * them as an OpenRPC document, the typed client (client.ts) takes its types from `LeitherApi`, and
 * a test checks every handler's results against the result schemas. Amounts are decimal strings
 * (u64 does not fit a JSON number); ids and bytes are lowercase hex.
 */
import type { SummaryJson } from "../smt/proof.js";
import { COMMITTEE_METHODS, type CommitteeApi } from "./api-committee.js";
import { NET_METHODS, type NetApi } from "./api-net.js";
import {
  ACCOUNT,
  ACCOUNT_STATE,
  AT,
  COUNT,
  HASH,
  KEY,
  type MethodSpec,
  nullable,
  ORG,
  obj,
  type ParamSpec,
  PROOF,
  PULSE,
  ROOT,
  TX_HEX,
  TX_STATUS,
  U64,
  WAIT,
  WHO,
} from "./api-schemas.js";
import type { Schema } from "./schema.js";

export type { CandidateJson, CommitteeInfoJson, CommitteePhase } from "./api-committee.js";
export type { MessageJson } from "./api-net.js";
export type { MethodSpec, ParamSpec };

/** Every method, by name (`namespace_verb`). `rpc.discover` is added by the server. */
export const METHODS = {
  node_info: {
    summary: "this node: version, account, organization, RPC URL, data dir, pulse period",
    params: [],
    result: obj({
      version: { type: "string" },
      account: ACCOUNT,
      org: nullable(ACCOUNT),
      rpc: { type: "string" },
      dataDir: { type: "string" },
      pulsePeriodMs: COUNT,
      peers: COUNT,
      startedAt: COUNT,
    }),
  },
  node_health: {
    summary: "liveness: whether pulses are being made, the pending queue",
    params: [],
    result: obj({
      ok: { type: "boolean" },
      pulse: nullable(PULSE),
      slot: COUNT,
      pending: COUNT,
      lastPulseMsAgo: nullable(COUNT),
    }),
  },
  node_status: {
    summary: "what `leither status` prints: pulse, root, organization, account, peers, RPC URL",
    params: [],
    result: obj({
      pulse: nullable(PULSE),
      root: nullable(ROOT),
      org: nullable(ACCOUNT),
      account: ACCOUNT,
      peers: COUNT,
      rpc: { type: "string" },
      pending: COUNT,
    }),
  },
  org_create: {
    summary:
      "found an organization kept by this node (its account is the first supervisor); waits for the genesis pulse",
    params: [
      { name: "name", schema: { type: "string", minLength: 1, maxLength: 64 }, required: true },
      { name: "supply", schema: U64, description: "tokens issued (default 1000000000)" },
      { name: "founderAmount", schema: U64, description: "tokens for this node's account (default 1000000)" },
      {
        name: "committee",
        schema: { type: "array", items: ACCOUNT },
        description:
          "the first committee's account ids, distinct, the first proposes first; this node need not be in it (default: this node alone)",
      },
      {
        name: "electionCycle",
        schema: { type: "integer", minimum: 4, maximum: 0xffff_ffff },
        description: "pulses per election cycle (default 1800)",
      },
      {
        name: "committeeSize",
        schema: { type: "integer", minimum: 1, maximum: 0xffff },
        description:
          "bookkeepers per committee, at least the committee's length (default: that length, or 1)",
      },
      { name: "minDeposit", schema: U64, description: "smallest deposit of a candidate (default 1000)" },
      {
        name: "miningReward",
        schema: U64,
        description:
          "tokens paid to the committee per final pulse, from the organization's account (default 0)",
      },
    ],
    result: ORG,
  },
  org_info: {
    summary:
      "the organization this node keeps or joined, or (with `id`) any organization, found through the DHT",
    params: [{ name: "id", schema: ACCOUNT, description: "default: this node's organization" }],
    result: ORG,
  },
  ledger_getAccount: {
    summary: "an account's state at a retained pulse",
    params: [WHO, AT],
    result: ACCOUNT_STATE,
  },
  ledger_getProof: {
    summary: "an account's proof (inclusion, or exclusion if it has no leaf) at a retained pulse",
    params: [WHO, AT],
    result: obj({ account: ACCOUNT, pulse: PULSE, root: ROOT, proof: PROOF }),
  },
  ledger_getRoot: { summary: "the root synopsis at a retained pulse", params: [AT], result: ROOT },
  pulse_current: {
    summary: "the newest final pulse, its root, the clock's slot and the retained range",
    params: [],
    result: obj({
      pulse: nullable(PULSE),
      root: nullable(ROOT),
      slot: COUNT,
      periodMs: COUNT,
      retained: obj({ first: nullable(PULSE), last: nullable(PULSE), count: COUNT }),
    }),
  },
  pulse_get: {
    summary: "a retained pulse by number: its root synopsis",
    params: [{ name: "pulse", schema: PULSE, required: true }],
    result: obj({ pulse: PULSE, root: ROOT }),
  },
  tx_transfer: {
    summary:
      "build, sign and submit a transfer from a key this node holds; countersigned too if it holds the payee's key",
    params: [
      { name: "to", schema: ACCOUNT, required: true },
      { name: "amount", schema: U64, required: true },
      { name: "from", schema: ACCOUNT, description: "default: this node's account" },
      {
        name: "expiry",
        schema: { type: "integer", minimum: 1, maximum: 100_000 },
        description: "valid for this many pulses (default 10)",
      },
      WAIT,
    ],
    result: TX_STATUS,
  },
  tx_sign: {
    summary:
      "add a signature by a key this node holds (a payee's countersignature) to an encoded transaction",
    params: [
      { name: "tx", schema: TX_HEX, required: true },
      { name: "account", schema: ACCOUNT, description: "default: this node's account" },
    ],
    result: obj({ txId: HASH, tx: TX_HEX }),
  },
  tx_submit: {
    summary: "submit an encoded, signed transaction for the end of this pulse",
    params: [{ name: "tx", schema: TX_HEX, required: true }, WAIT],
    result: TX_STATUS,
  },
  tx_status: {
    summary: "where a transaction is: pending, accepted (at which pulse), rejected (why) or unknown",
    params: [{ name: "txId", schema: HASH, required: true }],
    result: TX_STATUS,
  },
  tx_receipt: {
    summary: "an accepted transaction's receipt: its pulse, the root synopsis and each party's proof",
    params: [{ name: "txId", schema: HASH, required: true }],
    result: obj({
      txId: HASH,
      pulse: PULSE,
      root: ROOT,
      tx: TX_HEX,
      proofs: { type: "array", items: obj({ account: ACCOUNT, proof: PROOF }) },
    }),
  },
  keys_list: {
    summary: "the keys this node holds",
    params: [],
    result: obj({ keys: { type: "array", items: KEY } }),
  },
  keys_new: { summary: "make a new local account key (keys/<id>.json)", params: [], result: KEY },
  ...COMMITTEE_METHODS,
  ...NET_METHODS,
} as const satisfies Record<string, MethodSpec>;

/** A method's name. */
export type MethodName = keyof typeof METHODS;

/** A root synopsis. */
export type RootJson = SummaryJson;

/** A transaction's status. */
export interface TxStatusJson {
  txId: string;
  state: "pending" | "accepted" | "rejected" | "unknown";
  pulse?: number;
  reason?: string;
  message?: string;
  slot?: number;
}

/** An organization. */
export interface OrgJson {
  id: string;
  name: string;
  supervisor: string;
  pulsePeriodMs: number;
  electionCycle: number;
  publicityPeriod: number;
  committeeSize: number;
  minDeposit: string;
  /** Tokens the committee is paid per final pulse, from the organization's account ("0": none). */
  miningReward: string;
  supply: string;
  distribution: { to: string; amount: string; reason: string }[];
  /** The genesis committee (cycle 0's, in drawn order); empty: the supervisor alone. */
  committee: string[];
  head: number | null;
}

/** An account's state. */
export interface AccountJson {
  account: string;
  pulse: number;
  exists: boolean;
  amount: string;
  spendable: string;
  nonce: string;
  frozen: string;
  deposit: string;
  role: "none" | "applicant" | "guest" | "member" | "supervisor";
  candidate: boolean;
  policy: "countersign" | "acceptAll";
  vote: { candidate: string; weight: string } | null;
  updated: number;
}

/** A key the node holds. */
export interface KeyJson {
  id: string;
  publicKey: string;
  node: boolean;
}

/** Amounts may be given as bigint or decimal string; the client sends strings. */
type Amount = string | bigint;

/** Each method's params and result, for the typed client. */
export interface LeitherApi extends NetApi, CommitteeApi {
  node_info: {
    params: Record<string, never>;
    result: {
      version: string;
      account: string;
      org: string | null;
      rpc: string;
      dataDir: string;
      pulsePeriodMs: number;
      peers: number;
      startedAt: number;
    };
  };
  node_health: {
    params: Record<string, never>;
    result: {
      ok: boolean;
      pulse: number | null;
      slot: number;
      pending: number;
      lastPulseMsAgo: number | null;
    };
  };
  node_status: {
    params: Record<string, never>;
    result: {
      pulse: number | null;
      root: RootJson | null;
      org: string | null;
      account: string;
      peers: number;
      rpc: string;
      pending: number;
    };
  };
  org_create: {
    params: {
      name: string;
      supply?: Amount;
      founderAmount?: Amount;
      committee?: string[];
      electionCycle?: number;
      committeeSize?: number;
      minDeposit?: Amount;
      miningReward?: Amount;
    };
    result: OrgJson;
  };
  org_info: { params: { id?: string }; result: OrgJson };
  ledger_getAccount: { params: { account?: string; pulse?: number }; result: AccountJson };
  ledger_getProof: {
    params: { account?: string; pulse?: number };
    result: { account: string; pulse: number; root: RootJson; proof: unknown };
  };
  ledger_getRoot: { params: { pulse?: number }; result: RootJson };
  pulse_current: {
    params: Record<string, never>;
    result: {
      pulse: number | null;
      root: RootJson | null;
      slot: number;
      periodMs: number;
      retained: { first: number | null; last: number | null; count: number };
    };
  };
  pulse_get: { params: { pulse: number }; result: { pulse: number; root: RootJson } };
  tx_transfer: {
    params: { to: string; amount: Amount; from?: string; expiry?: number; wait?: boolean };
    result: TxStatusJson;
  };
  tx_sign: { params: { tx: string; account?: string }; result: { txId: string; tx: string } };
  tx_submit: { params: { tx: string; wait?: boolean }; result: TxStatusJson };
  tx_status: { params: { txId: string }; result: TxStatusJson };
  tx_receipt: {
    params: { txId: string };
    result: {
      txId: string;
      pulse: number;
      root: RootJson;
      tx: string;
      proofs: { account: string; proof: unknown }[];
    };
  };
  keys_list: { params: Record<string, never>; result: { keys: KeyJson[] } };
  keys_new: { params: Record<string, never>; result: KeyJson };
}

/** The params schema of a method: an object of its named params. */
export function paramsSchema(spec: MethodSpec): Schema {
  return {
    type: "object",
    properties: Object.fromEntries(spec.params.map((p) => [p.name, p.schema])),
    required: spec.params.filter((p) => p.required === true).map((p) => p.name),
    additionalProperties: false,
  };
}

/** Compile-time check: the types and the table name the same methods. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameMethods: Same<keyof LeitherApi, MethodName> = true;
void _sameMethods;
