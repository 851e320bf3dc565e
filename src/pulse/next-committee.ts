/**
 * The committee a pulse's value binds (`next`, docs/PROTOCOL.md §13.1): the committee that keeps
 * the pulse after it. Within a cycle that is the cycle's own committee; at a cycle's last pulse, the
 * one drawn in the cycle (the same carried on when no one took part). The committee book knows both
 * once the draw's seed pulse is committed, which is before the cycle's last pulse, except in a
 * cycle of 4 pulses: there the seed pulse is the last one, the very pulse being proposed, and the
 * draw runs over the state it prepares (election/prepared-source.ts), which is what the book draws
 * from the ledger once that pulse commits.
 *
 * Hashes are kept by the cycle they serve, so a pulse costs a lookup; a draw over a prepared pulse
 * is kept by the root it leads to, so the proposer's build and a validator's check of one value
 * draw once.
 */
import type { ElectionSource } from "../election/accounts.js";
import { draw } from "../election/committee.js";
import { cycleOf, schedule } from "../election/cycle.js";
import { type PreparedState, preparedSource } from "../election/prepared-source.js";
import { committeeHash } from "./certificate.js";

/** Draws over prepared pulses kept (values of one pulse proposed in different rounds). */
const DRAWS_KEPT = 8;

/** The next committee of each pulse, for proposing, validating and replaying it. */
export class NextCommittee {
  private readonly byCycle = new Map<number, Buffer>();
  private readonly drawn = new Map<string, readonly Buffer[]>();

  /**
   * @param src the ledger, with pulse `prepared.pulse - 1` its head when asked
   * @param committee the committee that finalizes a pulse (the committee book's `of`)
   */
  constructor(
    private readonly src: ElectionSource,
    private readonly committee: (pulse: number) => readonly Buffer[],
  ) {}

  /** The committee that keeps pulse `prepared.pulse + 1`, once `prepared` commits; in drawn order. */
  membersAfter(prepared: PreparedState): readonly Buffer[] {
    const p = prepared.pulse;
    if (!this.drawsOver(p)) return this.committee(p + 1);
    const key = `${p}:${Buffer.from(prepared.root.hash).toString("hex")}`;
    let members = this.drawn.get(key);
    if (members === undefined) {
      const c = draw(preparedSource(this.src, prepared), cycleOf(p, this.cycleLength()));
      // No one took part: the committee of this cycle carries on, as committeeFor says.
      members = c.members.length > 0 ? c.members : this.committee(p);
      if (this.drawn.size >= DRAWS_KEPT) this.drawn.clear();
      this.drawn.set(key, members);
    }
    return members;
  }

  /** committeeHash of membersAfter(prepared): the `next` of pulse `prepared.pulse`'s value. */
  hashAfter(prepared: PreparedState): Buffer {
    const p = prepared.pulse;
    if (this.drawsOver(p)) return committeeHash(this.membersAfter(prepared));
    const serves = cycleOf(p + 1, this.cycleLength());
    let h = this.byCycle.get(serves);
    if (h === undefined) {
      h = committeeHash(this.committee(p + 1));
      for (const k of this.byCycle.keys()) if (k < serves - 1) this.byCycle.delete(k);
      this.byCycle.set(serves, h);
    }
    return h;
  }

  /** Whether the committee after pulse `p` is drawn with `p` as its seed pulse (the last of a 4-pulse cycle). */
  private drawsOver(p: number): boolean {
    const s = schedule(cycleOf(p, this.cycleLength()), this.cycleLength());
    return p === s.last && p === s.revealLast;
  }

  private cycleLength(): number {
    const org = this.src.org;
    if (org === undefined) throw new RangeError("the organization has no genesis yet");
    return org.params.electionCycle;
  }
}
