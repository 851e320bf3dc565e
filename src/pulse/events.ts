/**
 * What the pulse service tells the rest of the node, on the bus (src/node/bus.ts). The RPC service
 * forwards these to subscribers; the payloads are plain JSON-ready values.
 */
import type { RejectReason } from "../ledger/transition-types.js";
import type { SummaryJson } from "../smt/proof.js";

/** A root synopsis in JSON form (hash hex, sum decimal). */
export type RootJson = SummaryJson;

/** A final pulse: its state is committed. */
export interface PulseFinal {
  readonly pulse: number;
  readonly root: RootJson;
  /** The clock slot it closed (floor(time / period)). */
  readonly slot: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Milliseconds from the tick to the commit. */
  readonly applyMs: number;
}

/** A slot that changed nothing: the last final pulse, re-signed. */
export interface HeartbeatEvent {
  readonly pulse: number;
  readonly slot: number;
  readonly rootHash: string;
  /** Rejected transactions of the slot (they changed nothing). */
  readonly rejected: number;
  /** The signed heartbeat, hex (src/pulse/heartbeat.ts). */
  readonly heartbeat: string;
}

/** A transaction's verdict. */
export type TxVerdict =
  | { readonly txId: string; readonly state: "accepted"; readonly pulse: number }
  | {
      readonly txId: string;
      readonly state: "rejected";
      readonly reason: RejectReason;
      readonly message: string;
      readonly slot: number;
    };

/** The pulse service's events: name -> payload. */
export type PulseEvents = {
  "pulse.final": PulseFinal;
  "pulse.heartbeat": HeartbeatEvent;
  "tx.verdict": TxVerdict;
};
