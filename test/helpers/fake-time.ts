/** A fake time source for the pulse clock and the services driven by it. */
import type { TimeSource } from "../../src/pulse/clock.js";

/** A fake clock: time moves only when the test says, and timers fire in order of their due time. */
export class FakeTime implements TimeSource {
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
