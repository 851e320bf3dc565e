import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { PulseClock, type Tick } from "../src/pulse/clock.js";
import { FakeTime } from "./helpers/fake-time.js";

function setup(start: number, period = 1000) {
  const time = new FakeTime(start);
  const ticks: Tick[] = [];
  const at: number[] = [];
  const errors: unknown[] = [];
  const clock = new PulseClock(
    period,
    (t) => {
      ticks.push(t);
      at.push(time.now());
    },
    (e) => errors.push(e),
    time,
  );
  return { time, ticks, at, errors, clock };
}

describe("pulse clock", () => {
  it("ticks on the multiples of the period, with their index", () => {
    const { time, ticks, at, clock } = setup(10_250);
    clock.start();
    assert.equal(clock.msToNext(), 750);
    time.advance(3000);
    assert.deepEqual(at, [11_000, 12_000, 13_000]);
    assert.deepEqual(
      ticks.map((t) => t.index),
      [11, 12, 13],
    );
    assert.ok(ticks.every((t) => t.missed === 0));
  });

  it("stop cancels: no tick after it, no timer left", () => {
    const { time, ticks, clock } = setup(0);
    clock.start();
    time.advance(2500);
    clock.stop();
    time.advance(5000);
    assert.equal(ticks.length, 2);
    assert.equal(time.pending(), 0);
    assert.equal(clock.running, false);
  });

  it("a timer that fires early waits for the boundary instead of ticking twice", () => {
    const { time, ticks, at, clock } = setup(0);
    time.skew = -3;
    clock.start();
    time.advance(3000);
    assert.deepEqual(
      ticks.map((t) => t.index),
      [1, 2, 3],
    );
    assert.ok(at.every((x) => x % 1000 === 0));
  });

  it("a late timer skips the ticks it missed and says how many", () => {
    const { time, ticks, at, clock } = setup(0);
    time.delayNext = 2500; // the event loop is blocked for 2.5 s when the first tick is due
    clock.start();
    time.advance(4600);
    assert.deepEqual(ticks, [
      { index: 3, missed: 2 },
      { index: 4, missed: 0 },
    ]);
    assert.deepEqual(at, [3500, 4000]);
  });

  it("a throwing listener goes to onError and the clock goes on", () => {
    const time = new FakeTime(0);
    const errors: unknown[] = [];
    let n = 0;
    const clock = new PulseClock(
      100,
      () => {
        n++;
        throw new Error("listener failed");
      },
      (e) => errors.push(e),
      time,
    );
    clock.start();
    time.advance(300);
    assert.equal(n, 3);
    assert.equal(errors.length, 3);
  });

  it("refuses a period that is not a whole number of milliseconds >= 1", () => {
    for (const p of [0, -1, 1.5, Number.NaN])
      assert.throws(
        () =>
          new PulseClock(
            p,
            () => {},
            () => {},
          ),
        RangeError,
      );
  });
});
