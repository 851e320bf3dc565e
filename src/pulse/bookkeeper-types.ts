/** The pulse service's options, the ports it is given and its refusal (bookkeeper.ts). */
import type { Signer } from "../crypto/ed25519.js";
import type { Ledger } from "../ledger/ledger.js";
import type { TxResult } from "../ledger/state-machine.js";
import type { Logger } from "../node/log.js";
import type { Summary } from "../smt/hash.js";
import { CodedError } from "../util/errors.js";
import type { TimeSource } from "./clock.js";
import type { PulseEvents } from "./events.js";

/** What the bookkeeper needs of the committee's finality (finality.ts). */
export interface FinalityPort {
  /** Transactions (encoded) for the next proposal. */
  offer(txs: readonly Buffer[]): void;
  /** A slot ended. */
  tick(): void;
}

/** A pulse the committee made final (what finality.ts reports, narrowed). */
export interface FinalPulse {
  readonly pulse: number;
  readonly txs: readonly Buffer[];
  readonly outcome: {
    readonly root: Summary;
    readonly results: readonly TxResult[];
    readonly receipts: readonly unknown[];
  };
}

/** Why a transaction was refused on arrival (nothing was queued). */
export class SubmitError extends CodedError<
  "DECODE" | "NO_ORG" | "ORG_EXISTS" | "WRONG_ORG" | "BUSY" | "STOPPED"
> {}

/** What the bookkeeper emits (a TypedBus<PulseEvents> fits). */
export interface PulseEmitter {
  emit<K extends keyof PulseEvents>(event: K, payload: PulseEvents[K]): void;
}

/** Options of a Bookkeeper. */
export interface BookkeeperOptions {
  readonly ledger: Ledger;
  /** This node's key: it signs heartbeats. */
  readonly signer: Signer;
  readonly bus: PulseEmitter;
  readonly log: Logger;
  /** Slot length in milliseconds. */
  readonly periodMs: number;
  /** Most transactions waiting for a pulse; past it, submit refuses with BUSY. @default 100000 */
  readonly maxPending?: number;
  /** Transactions verified together as they arrive. @default 256 */
  readonly chunk?: number;
  /** Verdicts remembered for status queries (accepted ones are also in the ledger's index). @default 100000 */
  readonly verdictMemory?: number;
  /** @default the system clock */
  readonly time?: TimeSource;
  /** The committee's finality; without it, this node makes pulses final alone. */
  readonly finality?: FinalityPort;
  /**
   * A transaction newly queued here, not from gossip: the host relays it to the other bookkeepers
   * (whoever proposes next needs it).
   */
  readonly relay?: (bytes: Buffer) => void;
}
