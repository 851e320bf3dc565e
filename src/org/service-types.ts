/** What the org service (service.ts) needs: the libp2p host, the bus, and the node's parts. */
import type { Signer } from "../crypto/ed25519.js";
import type { Ledger, PulseOutcome } from "../ledger/ledger.js";
import type { Bookkeeper } from "../pulse/bookkeeper.js";
import type { PulseEvents } from "../pulse/events.js";
import type { NonceBook } from "../pulse/nonces.js";
import type { ConsensusPort } from "./bookkeeping.js";
import type { NetPort } from "./discovery.js";
import type { OrgEvents } from "./events.js";

/** What the service needs of the libp2p host. */
export interface OrgHost extends NetPort {
  putRecord(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void>;
  handleRequests(
    handler: (bytes: Uint8Array, peer: string, signal: AbortSignal) => Promise<Uint8Array>,
  ): Promise<void>;
  subscribe(
    topic: string,
    check: (data: Uint8Array) => unknown,
    on: (topic: string, data: Uint8Array) => void,
  ): void;
  recordParts(): { peerId: Uint8Array; addrs: Uint8Array[] };
  readonly peerCount: number;
}

/** A bus the service emits on. */
export interface OrgBus {
  emit<K extends keyof (OrgEvents & PulseEvents)>(event: K, payload: (OrgEvents & PulseEvents)[K]): void;
  on<K extends keyof PulseEvents>(event: K, fn: (payload: PulseEvents[K]) => void): () => void;
}

/** What the service needs from the node. */
export interface OrgServiceDeps {
  readonly host: OrgHost;
  readonly keys: { readonly node: Signer; get(id: string): Signer | undefined };
  /** The key of an organization this node founded (it signs the organization's DHT record). */
  orgKey(org: Buffer): Promise<Signer | undefined>;
  readonly ledger: Pick<
    Ledger,
    | "org"
    | "head"
    | "genesisBytes"
    | "account"
    | "accountsAt"
    | "prove"
    | "findTx"
    | "rootAt"
    | "batchAt"
    | "certificateAt"
    | "applyPulse"
    | "prepare"
  >;
  /** The committee keeping the books at a pulse. */
  readonly committee?: (pulse: number) => readonly Buffer[];
  /** Who withheld its reveal, when a pulse carries a forfeit: replayed pulses are applied with it. */
  readonly withheld?: (pulse: number) => readonly Buffer[] | undefined;
  /** An organization this node keeps the books of with its committee, replayed from a bookkeeper first. */
  readonly keep?: Buffer;
  /** After each pulse replayed while catching up. */
  readonly replayed?: (pulse: number, txs: readonly Buffer[], outcome: PulseOutcome) => Promise<void>;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "status" | "verdict" | "currentSlot">;
  /** The committee's finality of this node (bookkeepers): its messages go over the consensus topic. */
  readonly consensus?: ConsensusPort;
  readonly bus: OrgBus;
  readonly nonces: NonceBook;
  /** Where a joined organization is remembered. */
  readonly membershipFile: string;
  readonly autoApprove: "off" | "guest" | "member";
  readonly autoCountersign: boolean;
  readonly log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    debug(o: object, m: string): void;
  };
}
