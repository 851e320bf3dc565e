import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { TypedBus } from "../src/node/bus.js";
import { type Startable, StartError, startAll, stopAll } from "../src/node/lifecycle.js";

type Events = { "pulse.final": { pulse: number }; "tx.received": { id: string } };

describe("typed bus", () => {
  it("delivers each event's payload to its listeners in order, and unsubscribes", () => {
    const errors: unknown[] = [];
    const bus = new TypedBus<Events>((e) => errors.push(e));
    const got: string[] = [];
    const off = bus.on("pulse.final", (p) => got.push(`a${p.pulse}`));
    bus.on("pulse.final", (p) => got.push(`b${p.pulse}`));
    bus.on("tx.received", (p) => got.push(`tx${p.id}`));
    bus.emit("pulse.final", { pulse: 1 });
    off();
    bus.emit("pulse.final", { pulse: 2 });
    bus.emit("tx.received", { id: "x" });
    assert.deepEqual(got, ["a1", "b1", "b2", "txx"]);
    assert.equal(bus.listenerCount("pulse.final"), 1);
    assert.deepEqual(errors, []);
  });

  it("a throwing listener reaches onError and never stops the others", () => {
    const errors: [unknown, string][] = [];
    const bus = new TypedBus<Events>((e, ev) => errors.push([e, String(ev)]));
    const got: number[] = [];
    bus.on("pulse.final", () => {
      throw new Error("boom");
    });
    bus.on("pulse.final", (p) => got.push(p.pulse));
    bus.emit("pulse.final", { pulse: 7 });
    assert.deepEqual(got, [7]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![1], "pulse.final");
  });

  it("once fires one time; a listener added during emit waits for the next event", () => {
    const bus = new TypedBus<Events>(() => {});
    const got: string[] = [];
    bus.once("pulse.final", (p) => got.push(`once${p.pulse}`));
    bus.on("pulse.final", (p) => {
      if (p.pulse === 1) bus.on("pulse.final", (q) => got.push(`late${q.pulse}`));
    });
    bus.emit("pulse.final", { pulse: 1 });
    bus.emit("pulse.final", { pulse: 2 });
    assert.deepEqual(got, ["once1", "late2"]);
  });

  it("next resolves with the next payload, or rejects when its signal aborts", async () => {
    const bus = new TypedBus<Events>(() => {});
    const p = bus.next("pulse.final");
    bus.emit("pulse.final", { pulse: 3 });
    assert.deepEqual(await p, { pulse: 3 });
    const ac = new AbortController();
    const q = bus.next("pulse.final", ac.signal);
    ac.abort(new Error("stopped"));
    await assert.rejects(q, /stopped/);
    assert.equal(bus.listenerCount("pulse.final"), 0, "an aborted wait leaves no listener");
  });
});

describe("lifecycle", () => {
  const log: string[] = [];
  const svc = (name: string, o: { failStart?: boolean; failStop?: boolean } = {}): Startable => ({
    name,
    async start() {
      if (o.failStart) throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop() {
      log.push(`stop ${name}`);
      if (o.failStop) throw new Error(`${name} cannot stop`);
    },
  });

  it("starts in order and stops in reverse", async () => {
    log.length = 0;
    const all = [svc("db"), svc("ledger"), svc("rpc")];
    await startAll(all);
    assert.deepEqual(await stopAll(all), []);
    assert.deepEqual(log, ["start db", "start ledger", "start rpc", "stop rpc", "stop ledger", "stop db"]);
  });

  it("a failed start stops what started, in reverse, and names the service", async () => {
    log.length = 0;
    const err = await startAll([
      svc("db"),
      svc("ledger", { failStop: true }),
      svc("rpc", { failStart: true }),
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StartError);
    assert.equal(err.service, "rpc");
    assert.match(err.message, /rpc failed to start: rpc cannot start/);
    assert.deepEqual(log, ["start db", "start ledger", "stop ledger", "stop db"]);
    assert.deepEqual(
      err.stopErrors.map((e) => e.service),
      ["ledger"],
    );
  });

  it("stopAll asks every service even when one fails, and returns the failures", async () => {
    log.length = 0;
    const errors = await stopAll([svc("a"), svc("b", { failStop: true }), svc("c")]);
    assert.deepEqual(log, ["stop c", "stop b", "stop a"]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.service, "b");
  });
});
