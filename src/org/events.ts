/**
 * What the organization service tells the rest of the node, on the bus. The RPC service forwards
 * these to event-stream subscribers; payloads are plain JSON-ready values.
 */
import type { Received } from "./server.js";

/** Events the service puts on the bus. */
export type OrgEvents = {
  /** A direct or group message to this node. */
  "msg.received": Received & { readonly group: boolean };
  /** A join application reached this supervisor's node. */
  "org.application": { readonly account: string; readonly txId: string };
  /** A final pulse of the organization this node joined. */
  "org.pulse": {
    readonly pulse: number;
    readonly root: { hash: string; sum: string; count: number };
  };
};
