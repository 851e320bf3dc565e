import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { PulseClock, type Tick, type TimeSource } from "../src/pulse/clock.js";

/** A fake clock: time moves only when the test says, and timers fire in order of their due time. */
class FakeTime implements TimeSource {
  t: number;
  /** Added to each timer's delay (negative: fires early; positive: late). */
  skew = 0;
  /** Added to the next timer only (a one-off stall of the event loop). */
  delayNext = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    // Skewed, but never by the whole wait: a timer fires at least 1 ms after it is set.
    const timer = { at: this.t + Math.max(1, ms + this.skew) + this.delayNext, fn, live: true };
    this.delayNext = 0;
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  pending(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

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
