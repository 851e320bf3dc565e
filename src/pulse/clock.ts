/**
 * The pulse clock (lodestar's util/clock.ts is the model): a tick at every multiple of the pulse
 * period on the wall clock, so every node of an organization ticks at the same moments. Each wait
 * is computed afresh from the current time, so timer drift never accumulates, and a late timer (a
 * busy event loop, a suspended machine) skips the ticks it missed instead of firing them in a burst.
 * Time and timers are injected, so tests run on a fake clock and never on wall time.
 */

/** What the clock needs from the outside world. */
export interface TimeSource {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The real time source: Date.now and an unref'd setTimeout (a clock never holds the process). */
export const systemTime: TimeSource = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** One tick: its index (time / period) and how many ticks were missed before it. */
export interface Tick {
  /** floor(time / period): the same on every node at the same moment. */
  readonly index: number;
  /** Ticks skipped because the timer fired late. */
  readonly missed: number;
}

/** Ticks every `periodMs` on the multiples of the period, from start() until stop(). */
export class PulseClock {
  private cancel: (() => void) | undefined;
  private last: number | undefined;

  /** @param onTick called at each tick; what it throws goes to `onError`. */
  constructor(
    readonly periodMs: number,
    private readonly onTick: (t: Tick) => void,
    private readonly onError: (err: unknown) => void,
    private readonly time: TimeSource = systemTime,
  ) {
    if (!Number.isSafeInteger(periodMs) || periodMs < 1)
      throw new RangeError(`the pulse period must be a whole number of milliseconds >= 1, got ${periodMs}`);
  }

  /** The index of the current period. */
  current(): number {
    return Math.floor(this.time.now() / this.periodMs);
  }

  /** Milliseconds until the next tick. */
  msToNext(): number {
    const now = this.time.now();
    return (Math.floor(now / this.periodMs) + 1) * this.periodMs - now;
  }

  /** Starts ticking (from the next multiple of the period). */
  start(): void {
    if (this.cancel !== undefined) return;
    this.last = this.current();
    this.schedule();
  }

  /** Stops ticking; no tick fires after this returns. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** True between start() and stop(). */
  get running(): boolean {
    return this.cancel !== undefined;
  }

  private schedule(): void {
    this.cancel = this.time.setTimer(() => this.fire(), this.msToNext());
  }

  private fire(): void {
    if (this.cancel === undefined) return;
    const index = this.current();
    // A timer may fire a hair early: wait for the boundary rather than tick twice in one period.
    if (index === this.last) {
      this.schedule();
      return;
    }
    const missed = this.last === undefined ? 0 : Math.max(0, index - this.last - 1);
    this.last = index;
    this.schedule();
    try {
      this.onTick({ index, missed });
    } catch (err) {
      this.onError(err);
    }
  }
}
