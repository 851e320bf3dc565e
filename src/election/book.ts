/**
 * The committees a bookkeeper node knows, by cycle: the one that finalizes each pulse. A cycle's
 * committee is drawn once the draw's seed pulse is committed (committee.ts) and written to a small
 * file at once, because the draw reads the snapshot and seed pulses, which retention may prune
 * long before the cycle ends; a restart reads the file instead of drawing again.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import type { ElectionSource } from "./accounts.js";
import { draw, genesisCommittee } from "./committee.js";
import { cycleOf, schedule } from "./cycle.js";

const FORMAT = "leither-committees";

/** Known committees of one organization. */
export class CommitteeBook {
  private readonly byCycle = new Map<number, readonly Buffer[]>();

  private constructor(
    private readonly path: string,
    private readonly src: ElectionSource,
  ) {}

  /** Opens the book at `path` (a missing or other organization's file starts an empty one). */
  static async open(path: string, src: ElectionSource): Promise<CommitteeBook> {
    const book = new CommitteeBook(path, src);
    let doc: { format?: unknown; org?: unknown; cycles?: Record<string, string[]> };
    try {
      doc = JSON.parse(await readFile(path, "utf8"));
    } catch {
      return book;
    }
    const org = src.org?.id.toString("hex");
    if (doc.format !== FORMAT || org === undefined || doc.org !== org || typeof doc.cycles !== "object")
      return book;
    for (const [c, ids] of Object.entries(doc.cycles ?? {}))
      if (Array.isArray(ids) && ids.every((x) => typeof x === "string" && /^[0-9a-f]{40}$/.test(x)))
        book.byCycle.set(
          Number(c),
          ids.map((x) => Buffer.from(x, "hex")),
        );
    return book;
  }

  /** The committee that finalizes `pulse`, in drawn order. Throws when it cannot be known here. */
  of(pulse: number): readonly Buffer[] {
    const org = this.src.org;
    if (org === undefined) throw new RangeError("the organization has no genesis yet");
    return this.ofCycle(cycleOf(pulse, org.params.electionCycle));
  }

  /** The committee serving `cycle`. */
  ofCycle(cycle: number): readonly Buffer[] {
    const org = this.src.org;
    if (org === undefined) throw new RangeError("the organization has no genesis yet");
    if (cycle === 0) return genesisCommittee(org.params);
    const known = this.byCycle.get(cycle);
    if (known !== undefined) return known;
    // Drawn in the cycle before; nobody took part: that cycle's committee carries on.
    const drawn = draw(this.src, cycle - 1).members;
    const members = drawn.length > 0 ? drawn : this.ofCycle(cycle - 1);
    this.byCycle.set(cycle, members);
    return members;
  }

  /** After `pulse` is committed: at a draw's seed pulse, draws the next committee and records it. */
  async committed(pulse: number): Promise<void> {
    const org = this.src.org;
    if (org === undefined) return;
    const c = cycleOf(pulse, org.params.electionCycle);
    if (pulse !== schedule(c, org.params.electionCycle).revealLast || this.byCycle.has(c + 1)) return;
    this.ofCycle(c + 1);
    await this.save();
  }

  private async save(): Promise<void> {
    const cycles: Record<string, string[]> = {};
    for (const [c, ids] of this.byCycle) cycles[c] = ids.map((x) => x.toString("hex"));
    const doc = { format: FORMAT, org: this.src.org!.id.toString("hex"), cycles };
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify(doc)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }
}
