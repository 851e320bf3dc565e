/**
 * The election cycle's schedule (docs/PROTOCOL.md §12): pure arithmetic on pulse numbers, shared by
 * the reveal rule of the state machine and the committee computation, so that both read the same
 * window. With L = params.electionCycle, cycle c covers pulses [c·L, (c+1)·L); in it the committee of
 * cycle c+1 is drawn:
 *
 *   snapshot  s = c·L + floor(L/2)          weights and candidates: the state after pulse s
 *   reveals   s+1 .. c·L + floor(3L/4)     candidates open their commitments (Reveal)
 *   seed      the root after the window's last pulse, mixed with the reveals made in it
 *
 * Pulse numbers are consecutive (each committed pulse is one more than the last), so every pulse of
 * the schedule exists once the ledger has reached it. Cycles count from pulse 0 whatever the pulse of
 * the genesis. The window's last pulse is in cycle c (it is c·L + 3 = its last pulse when L = 4), so
 * the seed's root is committed before the new committee's first pulse. The pulse after the window
 * carries the cycle's forfeit (forfeitCycle), and releases of deposits wait out the window.
 */

/** The shortest election cycle: below 4 pulses the reveal window would be empty or touch the next cycle. */
export const MIN_ELECTION_CYCLE = 4;

/** The pulses of one cycle's draw, each inclusive. */
export interface CycleSchedule {
  readonly cycle: number;
  /** The cycle's first pulse, c·L. */
  readonly first: number;
  /** The cycle's last pulse, (c+1)·L − 1. */
  readonly last: number;
  /** The state after this pulse gives the weights and the standing candidates. */
  readonly snapshot: number;
  /** The first pulse a reveal for this cycle is accepted in: snapshot + 1. */
  readonly revealFirst: number;
  /** The last pulse a reveal for this cycle is accepted in; its root is the seed's root. */
  readonly revealLast: number;
}

/** Throws RangeError unless `length` is a whole number of pulses >= MIN_ELECTION_CYCLE. */
export function checkCycleLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < MIN_ELECTION_CYCLE)
    throw new RangeError(`an election cycle is at least ${MIN_ELECTION_CYCLE} pulses, got ${length}`);
}

/** The cycle a pulse belongs to. */
export function cycleOf(pulse: number, length: number): number {
  checkCycleLength(length);
  if (!Number.isSafeInteger(pulse) || pulse < 0) throw new RangeError(`not a pulse number: ${pulse}`);
  return Math.floor(pulse / length);
}

/** The schedule of cycle `cycle` (the draw of the committee of cycle + 1). */
export function schedule(cycle: number, length: number): CycleSchedule {
  checkCycleLength(length);
  const first = cycle * length;
  const last = first + length - 1;
  if (!Number.isSafeInteger(cycle) || cycle < 0 || !Number.isSafeInteger(last))
    throw new RangeError(`no such cycle: ${cycle} of ${length} pulses`);
  const snapshot = first + Math.floor(length / 2);
  return {
    cycle,
    first,
    last,
    snapshot,
    revealFirst: snapshot + 1,
    revealLast: first + Math.floor((3 * length) / 4),
  };
}

/** Whether a reveal for `cycle` (any u32) may be applied in `pulse`. */
export function inRevealWindow(pulse: number, cycle: number, length: number): boolean {
  // Compared by cycle first: a far-off cycle number never reaches the arithmetic that would overflow.
  if (cycleOf(pulse, length) !== cycle) return false;
  const s = schedule(cycle, length);
  return pulse >= s.revealFirst && pulse <= s.revealLast;
}

/**
 * Whether deposits are locked in `pulse` (no release): in its own cycle's reveal window, so that a
 * candidate that withholds its reveal cannot take its deposit out before the forfeit takes part of it.
 */
export function depositsLocked(pulse: number, length: number): boolean {
  return inRevealWindow(pulse, cycleOf(pulse, length), length);
}

/**
 * The cycle whose forfeit is due in `pulse`, or undefined: a cycle's forfeit (the deposit its
 * withheld reveals cost) is due in exactly one pulse, the first after its reveal window
 * (revealLast + 1; for L = 4 that is the next cycle's first pulse).
 */
export function forfeitCycle(pulse: number, length: number): number | undefined {
  if (pulse < 1) return undefined;
  const c = cycleOf(pulse - 1, length);
  return schedule(c, length).revealLast === pulse - 1 ? c : undefined;
}

/**
 * The oldest pulse a draw still to come will read, once `head` is committed: the snapshot of head's
 * cycle from the snapshot until one pulse after the reveal window (the draw runs when its last
 * pulse commits), else undefined. A ledger keeps it however few pulses it otherwise retains.
 */
export function drawHold(head: number, length: number): number | undefined {
  // head − 1 too: the pulse after the window may open the next cycle (a cycle of 4).
  for (const h of [head - 1, head]) {
    if (h < 0) continue;
    const s = schedule(cycleOf(h, length), length);
    if (h >= s.snapshot && h <= s.revealLast) return s.snapshot;
  }
  return undefined;
}
