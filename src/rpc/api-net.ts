/**
 * The network half of the JSON-RPC API: joining and approving, messages, the node's place in the
 * peer-to-peer network. Merged into METHODS and LeitherApi by api.ts.
 */

import type { TxStatusJson } from "./api.js";
import { ACCOUNT, COUNT, HASH, type MethodSpec, obj, TX_STATUS } from "./api-schemas.js";

const TEXT = { type: "string", minLength: 1, maxLength: 4096 } as const;
const MESSAGE = obj({
  from: ACCOUNT,
  to: { type: "string", description: "the addressee's account, or empty for a group message" },
  text: { type: "string" },
  at: COUNT,
  group: { type: "boolean" },
});

/** The network methods. */
export const NET_METHODS = {
  org_join: {
    summary:
      "apply to join an organization found through the DHT (or through the peer `via`); this node then follows its pulses",
    params: [
      { name: "org", schema: ACCOUNT, required: true },
      {
        name: "via",
        schema: { type: "string", maxLength: 512 },
        description: "a member's multiaddr (with /p2p/)",
      },
    ],
    result: obj({ org: ACCOUNT, name: { type: "string" }, pulse: COUNT, application: TX_STATUS }),
  },
  org_approve: {
    summary: "approve a join application (this node keeps the books and holds the supervisor's key)",
    params: [
      { name: "account", schema: ACCOUNT, required: true },
      { name: "role", schema: { type: "string", enum: ["member", "guest"] }, description: "default member" },
    ],
    result: TX_STATUS,
  },
  org_applications: {
    summary: "join applications waiting for approval",
    params: [],
    result: obj({
      applications: { type: "array", items: obj({ account: ACCOUNT, txId: HASH, at: COUNT }) },
    }),
  },
  msg_send: {
    summary: "send a signed direct message to a member's node, or to the whole organization (no `to`)",
    params: [
      { name: "text", schema: TEXT, required: true },
      { name: "to", schema: ACCOUNT, description: "the addressee; omitted: the organization's group topic" },
      { name: "from", schema: ACCOUNT, description: "default: this node's account" },
    ],
    result: obj({ sent: { type: "boolean" } }),
  },
  msg_list: {
    summary: "messages this node received (the last 1,000), oldest first",
    params: [],
    result: obj({ messages: { type: "array", items: MESSAGE } }),
  },
  net_info: {
    summary: "this node in the peer-to-peer network: peer id, addresses, connected peers",
    params: [],
    result: obj({
      enabled: { type: "boolean" },
      peerId: { type: ["string", "null"] },
      addrs: { type: "array", items: { type: "string" } },
      peers: COUNT,
      joined: { type: ["string", "null"], description: "the organization this node joined, if any" },
    }),
  },
} as const satisfies Record<string, MethodSpec>;

/** A message as the API shows it. */
export interface MessageJson {
  from: string;
  to: string;
  text: string;
  at: number;
  group: boolean;
}

/** The network methods' params and results. */
export interface NetApi {
  org_join: {
    params: { org: string; via?: string };
    result: { org: string; name: string; pulse: number; application: TxStatusJson };
  };
  org_approve: { params: { account: string; role?: "member" | "guest" }; result: TxStatusJson };
  org_applications: {
    params: Record<string, never>;
    result: { applications: { account: string; txId: string; at: number }[] };
  };
  msg_send: { params: { text: string; to?: string; from?: string }; result: { sent: boolean } };
  msg_list: { params: Record<string, never>; result: { messages: MessageJson[] } };
  net_info: {
    params: Record<string, never>;
    result: {
      enabled: boolean;
      peerId: string | null;
      addrs: string[];
      peers: number;
      joined: string | null;
    };
  };
}
