/**
 * `GET /events?topics=pulse,heartbeat,tx`: the pulse service's events as server-sent events, so a
 * script can follow the node (`event: pulse.final` and `data: <JSON>`). A comment line every 15 s
 * keeps idle connections open through proxies. A slow reader whose buffer passes 1 MiB is dropped
 * rather than let the node buffer without bound.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OrgEvents } from "../org/events.js";
import type { PulseEvents } from "../pulse/events.js";

type Events = PulseEvents & OrgEvents;

/** The bus, as the event stream listens to it. */
export interface EventSource {
  on<K extends keyof Events>(event: K, fn: (p: Events[K]) => void): () => void;
}

const TOPICS: Record<string, keyof Events> = {
  pulse: "pulse.final",
  heartbeat: "pulse.heartbeat",
  tx: "tx.verdict",
  msg: "msg.received",
  application: "org.application",
  "org-pulse": "org.pulse",
};
const MAX_BUFFERED = 1024 * 1024;

/** The event stream route and its open connections. */
export class EventStream {
  private readonly open = new Set<ServerResponse>();
  private closed = false;

  constructor(private readonly bus: EventSource) {}

  /** Open streams. */
  get connections(): number {
    return this.open.size;
  }

  /** The `GET /events` route. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const query = new URL(req.url ?? "/", "http://localhost").searchParams.get("topics");
    // Each topic once: "pulse,pulse" must not send every event twice.
    const names =
      query === null ? Object.keys(TOPICS) : [...new Set(query.split(",").filter((t) => t !== ""))];
    if (this.closed) {
      res
        .writeHead(503, { "content-type": "text/plain; charset=utf-8", connection: "close" })
        .end("the node is stopping\n");
      return;
    }
    const unknown = names.filter((n) => !Object.hasOwn(TOPICS, n));
    if (unknown.length > 0 || names.length === 0) {
      res
        .writeHead(400, { "content-type": "text/plain; charset=utf-8" })
        .end(`unknown topics ${JSON.stringify(unknown)}; known: ${Object.keys(TOPICS).join(", ")}\n`);
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    // A write racing the client's hang-up must not become an unhandled 'error' event.
    res.on("error", () => undefined);
    res.write(": leither events\n\n");
    this.open.add(res);
    const offs = names.map((n) => {
      const event = TOPICS[n]!;
      return this.bus.on(event, (payload) => {
        if (res.writableLength > MAX_BUFFERED) return res.destroy();
        res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
      });
    });
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    ping.unref();
    res.on("close", () => {
      clearInterval(ping);
      for (const off of offs) off();
      this.open.delete(res);
    });
  }

  /** Ends every stream (before the server stops, which waits for open connections). */
  close(): void {
    this.closed = true;
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
