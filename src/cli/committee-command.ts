/**
 * `leither committee`: the committee keeping the books in a cycle and where the draw of the next
 * one stands (committee_info, docs/PROTOCOL.md §12), as a table or, with --json, the RPC result.
 */
import type { Command } from "commander";
import type { CommitteeInfoJson } from "../rpc/api.js";
import { intArg, type NodeOpts, print, rpc, withNodeOptions } from "./node-rpc.js";

/** Registers `leither committee`. */
export function registerCommitteeCommand(program: Command): void {
  withNodeOptions(
    program
      .command("committee")
      .description(
        "the committee keeping the books, and the next draw: phase, window, candidates, reveals, forfeits",
      ),
  )
    .option("--cycle <n>", "an election cycle up to the head's (default: the head's)")
    .action(async (opts: NodeOpts & { cycle?: string }) => {
      const r = await rpc(
        opts,
        "committee_info",
        opts.cycle === undefined ? {} : { cycle: intArg(opts.cycle, "--cycle", 0, 0xffffffff) },
      );
      print(opts, r, () => committeeLines(r));
    });
}

/** A candidate's reveal: yes, no, or the deposit a withheld one costs (forfeited once its pulse is final). */
function revealStatus(c: CommitteeInfoJson["next"]["candidates"][number], taken: boolean): string {
  if (c.revealed) return "yes";
  if (c.forfeits === true) return taken ? "forfeited" : "no, forfeits";
  return "no";
}

/** The committee_info result as lines for a person. */
export function committeeLines(r: CommitteeInfoJson): string[] {
  const s = r.serving;
  const n = r.next;
  const lines = [
    `cycle      ${r.cycle} (pulses ${r.cycle * r.cycleLength} to ${(r.cycle + 1) * r.cycleLength - 1}), head pulse ${r.head}`,
    `committee  ${s.members.length === 0 ? "(unknown)" : `${s.members.length} member${s.members.length === 1 ? "" : "s"}`}${s.carried === true ? ", carried over (no one took part in the last draw)" : ""}`,
    ...s.members.map((m, i) => `  ${i === 0 ? "*" : " "} ${m}${i === 0 ? "  chief" : ""}`),
    ...(s.note === undefined ? [] : [`  ${s.note}`]),
    `next draw  the committee of cycle ${n.cycle}: ${n.phase}`,
    `  snapshot pulse ${n.snapshotPulse}, reveals in pulses ${n.revealWindow.from} to ${n.revealWindow.to}, seed after pulse ${n.seedPulse}, forfeit in pulse ${n.forfeitPulse}`,
  ];
  if (n.note !== undefined) lines.push(`  note: ${n.note}`);
  if (n.candidates.length === 0) lines.push(`  no standing candidates at pulse ${n.candidatesAt}`);
  else {
    lines.push(`  candidates at pulse ${n.candidatesAt}, by weight:`);
    const rows = [
      ["", "account", "weight", "deposit", "votes", "committed", "revealed"],
      ...[...n.candidates]
        .sort((a, b) => {
          const d = BigInt(b.weight) - BigInt(a.weight);
          return d > 0n ? 1 : d < 0n ? -1 : a.id < b.id ? -1 : 1;
        })
        .map((c) => [
          n.drawn?.members[0] === c.id ? "*" : n.drawn?.members.includes(c.id) === true ? "+" : "",
          c.id,
          c.weight,
          c.deposit,
          c.votes,
          c.committed ? "yes" : "no",
          revealStatus(c, r.head >= n.forfeitPulse),
        ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    const numeric = new Set([2, 3, 4]);
    for (const row of rows)
      lines.push(
        `  ${row
          .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd()}`,
      );
  }
  if (n.drawn !== undefined)
    lines.push(
      `  drawn: ${n.drawn.members.length === 0 ? "no one" : n.drawn.members.join(", ")}${n.drawn.carried ? " (carried over)" : ""}`,
      `  seed ${n.drawn.seed}${n.candidates.length > 0 ? " (* chief, + member)" : ""}`,
    );
  return lines;
}
