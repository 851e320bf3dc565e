/**
 * The committees a bookkeeper node knows, by cycle: the one that finalizes each pulse. A cycle's
 * committee is drawn once the draw's seed pulse is committed (committee.ts) and written to a small
 * file at once, because the draw reads the snapshot and seed pulses, which retention may prune
 * long before the cycle ends; a restart reads the file instead of drawing again.
 *
 * With each drawn committee the book keeps each member's deposit at the draw's snapshot: what bounds
 * the transfers a member may propose in one pulse (finality-round.ts, docs/PROTOCOL.md §13.3). A
 * carried committee keeps the deposits of the draw that elected it; the genesis committee (cycle 0,
 * and carried from it) has none: the founder named it, with or without deposits, so it is unbounded.
 *
 * With each draw the book also keeps who withheld its reveal in it: what the forfeit of the pulse
 * after the window must name (rules.ts, docs/PROTOCOL.md §12), read by the proposer, every validator
 * and a replay of that pulse, when the snapshot may be pruned already.
 *
 * File: {"format": "leither-committees", "org": hex, "cycles": {c: [id hex, ...]},
 *        "deposits": {c: [decimal, ...]}, "withheld": {d: [id hex, ...]}}, deposits in the members'
 * order; "cycles" and "deposits" by the cycle served, "withheld" by the cycle of the draw. A file
 * written before deposits were kept (no "deposits", or none for a cycle) still reads: those cycles
 * are unbounded; a draw with no "withheld" is read again from the ledger when its forfeit is due.
 */
import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { syncDir } from "../util/fs.js";
import type { ElectionSource } from "./accounts.js";
import { draw, genesisCommittee } from "./committee.js";
import { cycleOf, forfeitCycle, schedule } from "./cycle.js";

const FORMAT = "leither-committees";

/** One cycle's committee as the book keeps it. */
interface Entry {
  readonly members: readonly Buffer[];
  /** Each member's deposit at the snapshot of the draw that elected it; undefined: unbounded. */
  readonly deposits: readonly bigint[] | undefined;
}

/** Known committees of one organization. */
export class CommitteeBook {
  private readonly byCycle = new Map<number, Entry>();
  /** Something learnt since the file was last written. */
  private dirty = false;
  /** Who withheld its reveal, by the cycle of the draw. */
  private readonly withheldBy = new Map<number, readonly Buffer[]>();

  private constructor(
    private readonly path: string,
    private readonly src: ElectionSource,
  ) {}

  /** Opens the book at `path` (a missing or other organization's file starts an empty one). */
  static async open(path: string, src: ElectionSource): Promise<CommitteeBook> {
    const book = new CommitteeBook(path, src);
    let doc: {
      format?: unknown;
      org?: unknown;
      cycles?: Record<string, string[]>;
      deposits?: Record<string, unknown>;
      withheld?: Record<string, unknown>;
    };
    try {
      doc = JSON.parse(await readFile(path, "utf8"));
    } catch {
      return book;
    }
    const org = src.org?.id.toString("hex");
    if (doc.format !== FORMAT || org === undefined || doc.org !== org || typeof doc.cycles !== "object")
      return book;
    const deposits = typeof doc.deposits === "object" && doc.deposits !== null ? doc.deposits : {};
    for (const [c, ids] of Object.entries(doc.cycles ?? {})) {
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string" && /^[0-9a-f]{40}$/.test(x)))
        continue;
      const d = deposits[c];
      const known =
        Array.isArray(d) &&
        d.length === ids.length &&
        d.every((x) => typeof x === "string" && /^\d{1,20}$/.test(x));
      book.byCycle.set(Number(c), {
        members: ids.map((x) => Buffer.from(x, "hex")),
        deposits: known ? (d as string[]).map((x) => BigInt(x)) : undefined,
      });
    }
    const withheld = typeof doc.withheld === "object" && doc.withheld !== null ? doc.withheld : {};
    for (const [c, ids] of Object.entries(withheld))
      if (Array.isArray(ids) && ids.every((x) => typeof x === "string" && /^[0-9a-f]{40}$/.test(x)))
        book.withheldBy.set(
          Number(c),
          (ids as string[]).map((x) => Buffer.from(x, "hex")),
        );
    return book;
  }

  /** The committee that finalizes `pulse`, in drawn order. Throws when it cannot be known here. */
  of(pulse: number): readonly Buffer[] {
    return this.ofCycle(this.cycleOfPulse(pulse));
  }

  /** The committee serving `cycle`. */
  ofCycle(cycle: number): readonly Buffer[] {
    return this.entry(cycle).members;
  }

  /**
   * The deposits that bound what each member of `pulse`'s committee proposes, in the members' order
   * (as of(pulse)): each one's deposit at the snapshot of the draw that elected the committee.
   * Undefined when there is no bound: the genesis committee (cycle 0, and carried from it), or a
   * committee read from a file written before deposits were kept.
   */
  deposits(pulse: number): readonly bigint[] | undefined {
    return this.entry(this.cycleOfPulse(pulse)).deposits;
  }

  /**
   * The candidates a forfeit in `pulse` must name (ascending ids; possibly none), or undefined when
   * no forfeit is due in it: a cycle's forfeit is due in the pulse after its reveal window. Throws
   * when the draw cannot be read here (as of).
   */
  withheld(pulse: number): readonly Buffer[] | undefined {
    const org = this.src.org;
    if (org === undefined) return undefined;
    const c = forfeitCycle(pulse, org.params.electionCycle);
    if (c === undefined) return undefined;
    let w = this.withheldBy.get(c);
    if (w === undefined) {
      w = draw(this.src, c).withheld;
      this.withheldBy.set(c, w);
      this.dirty = true;
    }
    return w;
  }

  private cycleOfPulse(pulse: number): number {
    const org = this.src.org;
    if (org === undefined) throw new RangeError("the organization has no genesis yet");
    return cycleOf(pulse, org.params.electionCycle);
  }

  private entry(cycle: number): Entry {
    const org = this.src.org;
    if (org === undefined) throw new RangeError("the organization has no genesis yet");
    if (cycle === 0) return { members: genesisCommittee(org.params), deposits: undefined };
    const known = this.byCycle.get(cycle);
    if (known !== undefined) return known;
    // Drawn in the cycle before; nobody took part: that cycle's committee carries on.
    const drawn = draw(this.src, cycle - 1);
    this.withheldBy.set(cycle - 1, drawn.withheld);
    const e: Entry =
      drawn.members.length > 0
        ? {
            members: drawn.members,
            deposits: drawn.members.map((id) => this.src.account(id, drawn.snapshot)?.deposit ?? 0n),
          }
        : this.entry(cycle - 1);
    this.byCycle.set(cycle, e);
    this.dirty = true;
    return e;
  }

  /**
   * After `pulse` is committed (and at start, with the head): from the draw's seed pulse on, draws
   * the next committee; writes whatever the book learnt since it was last written (a draw made
   * lazily, or one whose write failed, is not lost when the snapshot is pruned).
   */
  async committed(pulse: number): Promise<void> {
    const org = this.src.org;
    if (org === undefined) return;
    const c = cycleOf(pulse, org.params.electionCycle);
    if (pulse >= schedule(c, org.params.electionCycle).revealLast) this.entry(c + 1);
    if (this.dirty) await this.save();
  }

  private save(): Promise<void> {
    // One write at a time (they share the temporary file); cleared first: what is learnt while it
    // writes marks the book again, for the next write.
    const run = this.saving.then(async () => {
      this.dirty = false;
      try {
        await this.write();
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    this.saving = run.catch(() => undefined);
    return run;
  }

  private saving: Promise<void> = Promise.resolve();

  private async write(): Promise<void> {
    const cycles: Record<string, string[]> = {};
    const deposits: Record<string, string[]> = {};
    for (const [c, e] of this.byCycle) {
      cycles[c] = e.members.map((x) => x.toString("hex"));
      if (e.deposits !== undefined) deposits[c] = e.deposits.map(String);
    }
    const withheld: Record<string, string[]> = {};
    for (const [c, ids] of this.withheldBy) withheld[c] = ids.map((x) => x.toString("hex"));
    const doc = { format: FORMAT, org: this.src.org!.id.toString("hex"), cycles, deposits, withheld };
    // Durable before it counts: the draw's pulses may be pruned, and this file is then all there is.
    const tmp = `${this.path}.tmp`;
    const f = await open(tmp, "w", 0o600);
    try {
      await f.writeFile(`${JSON.stringify(doc)}\n`);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
  }
}
