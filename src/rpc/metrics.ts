/**
 * `GET /metrics`: Prometheus text from prom-client, on the node's own registry (never the global
 * one, so two nodes in one test process do not mix). The pulse figures come from the bus; the
 * pending queue is read when scraped.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PulseEvents } from "../pulse/events.js";

/** Subscribes to the pulse service's events (a TypedBus<PulseEvents> fits). */
export interface PulseSource {
  on<K extends keyof PulseEvents>(event: K, fn: (p: PulseEvents[K]) => void): () => void;
}

/** The node's metrics. */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly rpcLatency: Histogram<"method" | "ok">;
  private readonly offs: (() => void)[] = [];

  /** @param head the newest final pulse at start, if any (so a restart does not show 0). */
  constructor(bus: PulseSource, pending: () => number, head?: number) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: "leither_" });
    const height = new Gauge({ name: "leither_pulse_height", help: "newest final pulse", registers: [r] });
    if (head !== undefined) height.set(head);
    const apply = new Histogram({
      name: "leither_pulse_apply_seconds",
      help: "time from the pulse tick to its commit",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    const heartbeats = new Counter({
      name: "leither_heartbeats_total",
      help: "slots that changed nothing (a signed heartbeat went out)",
      registers: [r],
    });
    new Gauge({
      name: "leither_pending_transactions",
      help: "transactions waiting for a pulse",
      registers: [r],
      collect() {
        this.set(pending());
      },
    });
    const txs = new Counter({
      name: "leither_transactions_total",
      help: "verdicts on transactions, by result and reason",
      labelNames: ["result", "reason"] as const,
      registers: [r],
    });
    this.rpcLatency = new Histogram({
      name: "leither_rpc_seconds",
      help: "JSON-RPC call latency by method",
      labelNames: ["method", "ok"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [r],
    });
    this.offs.push(
      bus.on("pulse.final", (p) => {
        height.set(p.pulse);
        apply.observe(p.applyMs / 1000);
      }),
      bus.on("pulse.heartbeat", () => heartbeats.inc()),
      bus.on("tx.verdict", (v) =>
        v.state === "accepted"
          ? txs.inc({ result: "accepted", reason: "" })
          : txs.inc({ result: "rejected", reason: v.reason }),
      ),
    );
  }

  /** Records one RPC call (the server's onCall). */
  observeCall(method: string, seconds: number, ok: boolean): void {
    this.rpcLatency.observe({ method, ok: ok ? "true" : "false" }, seconds);
  }

  /** The `GET /metrics` route. */
  async serve(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.writeHead(200, { "content-type": this.registry.contentType }).end(text);
  }

  /** Stops listening to the bus. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
