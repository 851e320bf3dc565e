/**
 * Messages to this node: direct messages (the request server hands them in) and group messages on
 * the organization's topic, whose validator refuses outsiders, stale messages and replays. The last
 * 1,000 are kept for `msg list`; each one also goes on the bus.
 */
import { hash } from "node:crypto";
import { decodeGroupMessage, REQUEST_SKEW_MS } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import { ClockCache } from "../util/clock-cache.js";
import { groupTopic } from "./discovery.js";
import type { Received } from "./server.js";

/** A message as kept and shown. */
export type Message = Received & { readonly group: boolean };

/** What the inbox needs. */
export interface InboxDeps {
  readonly host: {
    subscribe(
      topic: string,
      check: (data: Uint8Array) => unknown,
      on: (topic: string, data: Uint8Array) => void,
    ): void;
  };
  /** An account's role in the organization (the books, or the bookkeeper's answer). */
  roleOf(id: Buffer): Promise<Role>;
  emit(m: Message): void;
}

const KEEP = 1000;

/** The node's received messages. */
export class Inbox {
  private readonly kept: Message[] = [];
  /** Group messages seen (by hash), so that a replay is not delivered twice. */
  private readonly seen = new ClockCache<true>(1024 * 1024);
  private readonly followed = new Set<string>();

  constructor(private readonly d: InboxDeps) {}

  /** Keeps a message and tells the bus. */
  deliver(m: Message): void {
    this.kept.push(m);
    if (this.kept.length > KEEP) this.kept.shift();
    this.d.emit(m);
  }

  /** The kept messages, oldest first. */
  list(): readonly Message[] {
    return this.kept;
  }

  /** Takes the group messages of organization `org` (once per organization). */
  followGroup(org: Buffer): void {
    const topic = groupTopic(org);
    if (this.followed.has(topic)) return;
    this.followed.add(topic);
    this.d.host.subscribe(
      topic,
      async (data) => {
        const m = decodeGroupMessage(data);
        if (!m.org.equals(org)) throw new Error("another organization's message");
        if (Math.abs(Date.now() - m.timeMs) > REQUEST_SKEW_MS) throw new Error("too old, or from the future");
        // A replayed copy is ignored, not delivered twice (gossipsub's own cache is shorter).
        const id = hash("sha256", data, "base64");
        if (this.seen.get(id)) return false;
        if ((await this.d.roleOf(m.from)) < Role.Member) throw new Error("only members send group messages");
        this.seen.set(id, true, 64);
        return true;
      },
      (_t, data) => {
        const m = decodeGroupMessage(data);
        this.deliver({ from: m.from.toString("hex"), to: "", text: m.text, at: m.timeMs, group: true });
      },
    );
  }
}
