/**
 * The network side of keeping an organization's books (until committees exist, the founder's node
 * keeps them alone): each final pulse is signed as a statement and announced on the pulse topic,
 * each heartbeat too; transactions gossiped on the tx topic by members go to the bookkeeper; and
 * the server answers peers from the books through `books()`.
 */
import type { Signer } from "../crypto/ed25519.js";
import { signPulseFinal } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { TxKind } from "../ledger/tx.js";
import type { Bookkeeper } from "../pulse/bookkeeper.js";
import type { PulseEvents } from "../pulse/events.js";
import { pulseTopic, txTopic } from "./discovery.js";
import { verifiedTx } from "./protocol.js";
import type { Books } from "./server.js";

/** What bookkeeping needs from the node. */
export interface BookkeepingDeps {
  readonly host: {
    publish(topic: string, data: Uint8Array): Promise<void>;
    subscribe(
      topic: string,
      check: (data: Uint8Array) => void,
      on: (topic: string, data: Uint8Array) => void,
    ): void;
  };
  readonly keys: { readonly node: Signer };
  readonly ledger: Pick<Ledger, "org" | "head" | "genesisBytes" | "account" | "prove" | "findTx" | "rootAt">;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "status">;
  readonly bus: {
    on<K extends keyof PulseEvents>(event: K, fn: (payload: PulseEvents[K]) => void): () => void;
  };
  readonly log: { debug(o: object, m: string): void };
}

/**
 * The books as the request server reads them: a ledger, where transactions go, and who signs pulse
 * statements; undefined while the ledger has no organization.
 */
export function booksOf(
  ledger: Pick<Ledger, "org" | "head" | "genesisBytes" | "account" | "prove" | "findTx">,
  queue: Pick<Bookkeeper, "submit" | "status">,
  statement: (pulse: number) => Buffer,
): Books | undefined {
  const org = ledger.org;
  const head = ledger.head;
  if (org === undefined || head === undefined) return undefined;
  return {
    org,
    head,
    genesis: () => ledger.genesisBytes()!,
    account: (id, pulse) => ledger.account(id, pulse),
    prove: (id, pulse) => ledger.prove(id, pulse),
    findTx: (id) => ledger.findTx(id),
    submit: (bytes) => queue.submit(bytes),
    status: (txId) => queue.status(txId),
    final: (pulse = head) => statement(pulse),
  };
}

/** The bookkeeper's announcements and the books as peers read them. */
export class Bookkeeping {
  /** The head's statement, signed once when the pulse is final. */
  private latest: { pulse: number; bytes: Buffer } | undefined;

  constructor(private readonly d: BookkeepingDeps) {}

  /** Starts announcing and taking gossiped transactions; returns what unsubscribes from the bus. */
  start(): (() => void)[] {
    const { ledger, host, bookkeeper } = this.d;
    const org = ledger.org!.id;
    const publish = (data: Uint8Array) =>
      host.publish(pulseTopic(org), data).catch((err) => this.d.log.debug({ err }, "publish failed"));
    host.subscribe(
      txTopic(org),
      (data) => {
        // Signatures too: a forged transaction must not be forwarded, nor fill the queue.
        const tx = verifiedTx(data);
        if (tx.body.kind === TxKind.Genesis || !tx.body.org.equals(org))
          throw new Error("not for this organization");
        if ((ledger.account(tx.body.actor)?.role ?? Role.None) < Role.Member)
          throw new Error("only members' transactions are taken from gossip");
      },
      (_t, data) => {
        try {
          bookkeeper.submit(data);
        } catch (err) {
          this.d.log.debug({ err }, "a gossiped transaction was refused");
        }
      },
    );
    return [
      this.d.bus.on("pulse.final", (p) => {
        const bytes = signPulseFinal(
          { org, slot: p.slot, pulse: p.pulse, root: ledger.rootAt(p.pulse) },
          this.d.keys.node,
        );
        this.latest = { pulse: p.pulse, bytes };
        void publish(bytes);
      }),
      this.d.bus.on("pulse.heartbeat", (h) => void publish(Buffer.from(h.heartbeat, "hex"))),
    ];
  }

  /** The books as the request server reads them, or undefined while this node keeps none. */
  books(): Books | undefined {
    return booksOf(this.d.ledger, this.d.bookkeeper, (pulse) => this.statement(pulse));
  }

  /** The signed statement of a final pulse: the head's as announced, an older one signed now (slot 0: not known). */
  private statement(pulse: number): Buffer {
    if (this.latest?.pulse === pulse) return this.latest.bytes;
    const org = this.d.ledger.org!;
    return signPulseFinal(
      { org: org.id, slot: 0, pulse, root: this.d.ledger.rootAt(pulse) },
      this.d.keys.node,
    );
  }
}
