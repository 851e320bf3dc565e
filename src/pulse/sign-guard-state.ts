/** The sign guard's in-memory state: the records and floors it holds, rebuilt from its file on open. */
import {
  type FloorLine,
  type GuardRecord,
  headerLine,
  type Line,
  lineText,
  slotKey,
} from "./sign-guard-format.js";
import { GUARD_STEPS, type GuardStep } from "./sign-guard-types.js";

// --- what is held --------------------------------------------------------------------------------

interface OrgBook {
  /** The highest pulse recorded, -1 before any. */
  highest: number;
  /** Votes below it are STALE; no pulse below it is in `pulses`. */
  floor: number;
  /** pulse -> "round:step" -> content hex. */
  readonly pulses: Map<number, Map<string, string>>;
}

/** The records held in memory: those of the pulses at or above each org's floor. */
export class GuardState {
  private readonly orgs = new Map<string, OrgBook>();
  /** Records held. */
  private live = 0;
  /** Records in the file no longer held (pruned or repeated): the rewrite trigger. */
  dead = 0;

  constructor(private readonly keep: number) {}

  floor(org: string): number {
    return this.orgs.get(org)?.floor ?? 0;
  }

  highest(org: string): number {
    return this.orgs.get(org)?.highest ?? -1;
  }

  held(r: GuardRecord): string | undefined {
    return this.orgs.get(r.org)?.pulses.get(r.pulse)?.get(slotKey(r));
  }

  isEmpty(): boolean {
    if (this.live > 0) return false;
    for (const b of this.orgs.values()) if (b.floor > 0) return false;
    return true;
  }

  /**
   * Applies a line as written in the file (replay and live writes share it, so a reopen rebuilds the
   * same state). Returns the content held before for a record that contradicts it, and then changes
   * nothing.
   */
  apply(l: Line): string | undefined {
    let b = this.orgs.get(l.org);
    if (b === undefined) {
      b = { highest: -1, floor: 0, pulses: new Map() };
      this.orgs.set(l.org, b);
    }
    if ("floor" in l) {
      this.raise(b, l.floor);
      return undefined;
    }
    if (l.pulse < b.floor) {
      this.dead++;
      return undefined;
    }
    const key = slotKey(l);
    let slots = b.pulses.get(l.pulse);
    const held = slots?.get(key);
    if (held !== undefined) {
      if (held !== l.content) return held;
      this.dead++;
      return undefined;
    }
    if (slots === undefined) {
      slots = new Map();
      b.pulses.set(l.pulse, slots);
    }
    slots.set(key, l.content);
    this.live++;
    if (l.pulse > b.highest) {
      b.highest = l.pulse;
      this.raise(b, l.pulse - this.keep);
    }
    return undefined;
  }

  /** Raises an org's floor, dropping the pulses below it. */
  private raise(b: OrgBook, to: number): void {
    if (to <= b.floor) return;
    const from = b.floor;
    b.floor = to;
    const drop = (p: number, slots: Map<string, string>) => {
      b.pulses.delete(p);
      this.live -= slots.size;
      this.dead += slots.size;
    };
    // Step through the pulses passed when that is the shorter walk (the floor usually rises by one),
    // else scan what is held (a jump of the highest pulse by millions).
    if (to - from <= b.pulses.size) {
      for (let p = from; p < to; p++) {
        const slots = b.pulses.get(p);
        if (slots !== undefined) drop(p, slots);
      }
    } else {
      for (const [p, slots] of b.pulses) if (p < to) drop(p, slots);
    }
  }

  floors(): FloorLine[] {
    const out: FloorLine[] = [];
    for (const [org, b] of [...this.orgs].sort(byKey)) if (b.floor > 0) out.push({ org, floor: b.floor });
    return out;
  }

  /** The records held for one pulse of one organization (org hex), in round and step order. */
  recordsAt(org: string, pulse: number): GuardRecord[] {
    const rows: GuardRecord[] = [];
    for (const [key, content] of this.orgs.get(org)?.pulses.get(pulse) ?? []) {
      const [round, step] = key.split(":") as [string, GuardStep];
      rows.push({ org, pulse, round: Number(round), step, content });
    }
    return rows.sort(
      (x, y) => x.round - y.round || GUARD_STEPS.indexOf(x.step) - GUARD_STEPS.indexOf(y.step),
    );
  }

  records(): GuardRecord[] {
    const out: GuardRecord[] = [];
    for (const [org, b] of [...this.orgs].sort(byKey)) {
      for (const [pulse, slots] of [...b.pulses].sort((x, y) => x[0] - y[0])) {
        const rows: GuardRecord[] = [];
        for (const [key, content] of slots) {
          const [round, step] = key.split(":") as [string, GuardStep];
          rows.push({ org, pulse, round: Number(round), step, content });
        }
        rows.sort((x, y) => x.round - y.round || GUARD_STEPS.indexOf(x.step) - GUARD_STEPS.indexOf(y.step));
        out.push(...rows);
      }
    }
    return out;
  }

  /** The whole file for what is held: header, floors, records. */
  serialize(): string {
    const lines = [headerLine(), ...this.floors().map(lineText), ...this.records().map(lineText)];
    return `${lines.join("\n")}\n`;
  }
}

function byKey(x: [string, unknown], y: [string, unknown]): number {
  return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
}
