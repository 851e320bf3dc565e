/**
 * The bookkeeper's "never sign twice" guard. Before it signs a vote for an organization's (pulse,
 * round, step), a bookkeeper asks `approve`, which resolves only once the vote's content is durably
 * recorded and refuses a different content for a slot already recorded, across crashes and restarts.
 *
 * One file per key, append-only JSON lines:
 *
 *   {"format":"leither-sign-guard","version":1}                               the header, line 1
 *   {"org":hex(20),"pulse":n,"round":n,"step":"prevote","content":hex(32)}    a vote approved
 *   {"org":hex(20),"floor":n}                                                 pulses below n were pruned
 *
 * Records are kept for the highest `keepPulses` pulses of each organization (pulse >= highest -
 * keepPulses); a vote below that floor is refused, since its records may be gone. Floor lines pin a
 * floor that pruning made real, so reopening with a larger `keepPulses` cannot revive a pruned range.
 * When enough pruned records accumulate the file is rewritten (temp file, fsync, rename, fsync dir).
 *
 * On open, a torn last line (no final newline, or not JSON) is the trace of a crash mid-append: that
 * approval never resolved, so the line is dropped and the file truncated. Damage anywhere else is a
 * CORRUPT error naming the file and line: guessing what a key signed is how keys get slashed.
 *
 * One process per file: the guard serializes the calls of its process, not of two processes (the
 * daemon's data dir lock keeps a second daemon off the same files).
 */
import { type FileHandle, open, realpath, rename, rm, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  createNew,
  exists,
  makeDirs,
  messageOf,
  removeTemps,
  syncDir,
  tempPath,
  withCause,
  writeAll,
} from "./sign-guard-files.js";
import {
  checkOptions,
  checkVote,
  corrupt,
  EXPORT_FORMAT,
  type GuardRecord,
  headerLine,
  type Line,
  lineText,
  type ParsedExport,
  parseExport,
  replay,
  type Settings,
  type SignGuardExport,
  slotName,
  VERSION,
} from "./sign-guard-format.js";
import { GuardState } from "./sign-guard-state.js";
import {
  type GuardedVote,
  type GuardRepair,
  type GuardStep,
  SignGuardError,
  type SignGuardOptions,
} from "./sign-guard-types.js";

export type { SignGuardExport, SignGuardFloorJson, SignGuardRecordJson } from "./sign-guard-format.js";
export {
  GUARD_STEPS,
  type GuardedVote,
  type GuardRepair,
  type GuardStep,
  KEEP_PULSES,
  PRUNE_THRESHOLD,
  SignGuardError,
  type SignGuardErrorCode,
  type SignGuardOptions,
} from "./sign-guard-types.js";

/**
 * The never-sign-twice guard of one key. Open with `SignGuard.open` (or `SignGuard.import`); calls
 * run one at a time in call order.
 */
export class SignGuard {
  /** Real paths of the guards open in this process: two guards on one file would not serialize. */
  private static readonly inUse = new Set<string>();
  private tail: Promise<unknown> = Promise.resolve();
  /** close() was called (later calls queue behind it). */
  private closing = false;
  /** The file is closed (calls queued before close() ran first). */
  private closed = false;
  private broken: Error | undefined;

  private constructor(
    /** The guard file. */
    readonly path: string,
    private readonly key: string,
    private fh: FileHandle,
    private size: number,
    private readonly state: GuardState,
    private readonly settings: Settings,
    /** The torn last line dropped on open, if any (worth a log line: a crash interrupted an approval). */
    readonly repaired: GuardRepair | undefined,
  ) {}

  /**
   * Opens the guard file at `path`, creating it (mode 0600, missing folders 0700) if there is none.
   * @throws SignGuardError `CORRUPT` (the message names the line), `FORMAT` for an unknown version,
   * `IN_USE` when this process has it open already; RangeError for bad options.
   */
  static async open(path: string, opts: SignGuardOptions = {}): Promise<SignGuard> {
    const settings = checkOptions(opts);
    await makeDirs(dirname(resolve(path)));
    if (!(await exists(path))) await createNew(path, `${headerLine()}\n`);
    return SignGuard.load(path, settings);
  }

  /**
   * Creates the guard file at `path` from an export document (moving a key to a new machine). Only a
   * missing file or one that holds nothing is written; to add to a guard in use, open it and `merge`.
   * @throws SignGuardError `FORMAT` for a malformed document, `CONFLICT` when it contradicts itself,
   * `EXISTS` when the file holds votes, or any error of `open`.
   */
  static async import(path: string, doc: unknown, opts: SignGuardOptions = {}): Promise<SignGuard> {
    const settings = checkOptions(opts);
    const parsed = parseExport(doc);
    await makeDirs(dirname(resolve(path)));
    if (!(await exists(path))) {
      const state = new GuardState(settings.keepPulses);
      for (const l of [...parsed.floors, ...parsed.records]) state.apply(l);
      // Written whole or not at all, so a crash cannot leave a half-imported guard to sign with.
      if (await createNew(path, state.serialize())) return SignGuard.load(path, settings);
    }
    const g = await SignGuard.load(path, settings);
    try {
      if (!g.state.isEmpty())
        throw new SignGuardError(
          "EXISTS",
          `${path} already holds votes; refusing to overwrite it (open it and merge the document instead)`,
        );
      await g.run(() => g.mergeNow(parsed));
    } catch (err) {
      await g.close();
      throw err;
    }
    return g;
  }

  /**
   * Resolves once it is safe to sign `vote`: its content is durably recorded for its slot (or was
   * already). Safe to call again with the same content.
   * @throws SignGuardError `CONFLICT` when another content was approved for the slot, `STALE` when the
   * pulse is below the org's floor, `IO` when the record could not be written, `BROKEN` after an
   * earlier failed write, `CLOSED`; RangeError for a malformed vote.
   */
  async approve(vote: GuardedVote): Promise<void> {
    const r = checkVote(vote);
    return this.run(() => this.approveNow(r));
  }

  /**
   * Adds an export document's records and floors (say, from the key's previous machine) to this guard,
   * all or nothing. Returns how many records were added.
   * @throws SignGuardError `FORMAT` for a malformed document, `CONFLICT` when it contradicts itself or a
   * record held here, `IO`, `BROKEN`, `CLOSED`.
   */
  async merge(doc: unknown): Promise<number> {
    const parsed = parseExport(doc);
    return this.run(() => this.mergeNow(parsed));
  }

  /**
   * What this key approved for one pulse of an organization (durable records only): a restarted
   * bookkeeper resumes there and says it again.
   */
  recorded(org: Uint8Array, pulse: number): { round: number; step: GuardStep; content: Buffer }[] {
    return this.state
      .recordsAt(Buffer.from(org).toString("hex"), pulse)
      .map((r) => ({ round: r.round, step: r.step, content: Buffer.from(r.content, "hex") }));
  }

  /**
   * The records and floors held, JSON-ready, for `import` or `merge` elsewhere. Only durable records:
   * an approval still in flight is not in it, so stop signing before moving a key.
   */
  export(): SignGuardExport {
    return {
      format: EXPORT_FORMAT,
      version: VERSION,
      floors: this.state.floors(),
      records: this.state.records(),
    };
  }

  /** Waits for the calls in flight, then closes the file. Later calls fail with `CLOSED`. */
  close(): Promise<void> {
    if (this.closing) return this.tail.then(() => undefined);
    this.closing = true;
    return this.run(async () => {
      this.closed = true;
      SignGuard.inUse.delete(this.key);
      await this.fh.close();
    });
  }

  private static async load(path: string, settings: Settings): Promise<SignGuard> {
    const key = await realpath(path);
    if (SignGuard.inUse.has(key))
      throw new SignGuardError("IN_USE", `${path} is already open in this process; close that guard first`);
    SignGuard.inUse.add(key);
    let fh: FileHandle | undefined;
    try {
      // A FIFO would block the open forever: refuse anything but a regular file first.
      if (!(await stat(path)).isFile()) throw corrupt(path, "it is not a regular file");
      fh = await open(path, "r+");
      const state = new GuardState(settings.keepPulses);
      const { size, repaired } = replay(path, await fh.readFile(), state);
      if (repaired !== undefined) await fh.truncate(size);
      // Even with nothing changed: a crashed process may have written a record (never approved) that
      // sits only in the page cache, and approving it again here writes nothing, so make it durable
      // now; likewise the directory entry of a file whose creator crashed before syncing it.
      await fh.sync();
      await syncDir(dirname(path));
      await removeTemps(path);
      // An oversized file is compacted by the next write, not here: a full disk must not stop the open.
      return new SignGuard(path, key, fh, size, state, settings, repaired);
    } catch (err) {
      await fh?.close().catch(() => {});
      SignGuard.inUse.delete(key);
      throw err;
    }
  }

  /** Runs `fn` after every call before it: one approval's check and write at a time. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => {});
    return p;
  }

  private async approveNow(r: GuardRecord): Promise<void> {
    this.checkUsable();
    const floor = this.state.floor(r.org);
    if (r.pulse < floor)
      throw new SignGuardError(
        "STALE",
        `refusing to approve ${slotName(r)}: the guard keeps no records below pulse ${floor} ` +
          `for this org, so double signing there could not be ruled out`,
      );
    const held = this.state.held(r);
    if (held === r.content) return;
    if (held !== undefined) throw conflict(r, held);
    if (this.state.dead > this.settings.pruneThreshold) await this.compact();
    await this.append([r]);
  }

  private async mergeNow(d: ParsedExport): Promise<number> {
    this.checkUsable();
    // All or nothing: look for contradictions before writing anything.
    for (const r of d.records) {
      const held = this.state.held(r);
      if (held !== undefined && held !== r.content) throw conflict(r, held, "the document gives");
    }
    // Each org's floor once the document is in: records it would prune at once are not written.
    const target = new Map<string, number>();
    const raise = (org: string, to: number) =>
      target.set(org, Math.max(target.get(org) ?? this.state.floor(org), to));
    for (const f of d.floors) raise(f.org, f.floor);
    for (const r of d.records)
      raise(r.org, Math.max(r.pulse, this.state.highest(r.org)) - this.settings.keepPulses);
    const lines: Line[] = d.floors.filter((f) => f.floor > this.state.floor(f.org));
    const added = d.records.filter(
      (r) => r.pulse >= (target.get(r.org) ?? 0) && this.state.held(r) === undefined,
    );
    if (lines.length + added.length === 0) return 0;
    if (this.state.dead > this.settings.pruneThreshold) await this.compact();
    await this.append([...lines, ...added]);
    return added.length;
  }

  /** Appends `lines`, makes them durable, then applies them in memory (never before: memory is what is safe). */
  private async append(lines: readonly Line[]): Promise<void> {
    const buf = Buffer.from(lines.map((l) => `${lineText(l)}\n`).join(""));
    try {
      await writeAll(this.fh, buf, this.size);
      await this.fh.sync();
    } catch (err) {
      // After a failed write or fsync the file's content is unknown (the kernel may even have dropped
      // the dirty pages): only a reopen, which reads what is really there, can be trusted.
      throw this.fail(`cannot record in ${this.path}`, err);
    }
    this.size += buf.length;
    for (const l of lines) this.state.apply(l);
  }

  /** Rewrites the file with only what is held (temp file, fsync, rename, fsync dir). */
  private async compact(): Promise<void> {
    const buf = Buffer.from(this.state.serialize());
    const tmp = tempPath(this.path);
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, "wx+", 0o600);
      await writeAll(fh, buf, 0);
      await fh.sync();
      await rename(tmp, this.path);
    } catch (err) {
      await fh?.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      // The old file is untouched, so the guard stays usable.
      throw withCause(new SignGuardError("IO", `cannot compact ${this.path}: ${messageOf(err)}`), err);
    }
    const old = this.fh;
    this.fh = fh;
    this.size = buf.length;
    this.state.dead = 0;
    await old.close().catch(() => {});
    try {
      await syncDir(dirname(this.path));
    } catch (err) {
      // Until the rename is durable a crash may bring back the old file, without what is appended next.
      throw this.fail(`cannot make the compaction of ${this.path} durable`, err);
    }
  }

  private fail(what: string, err: unknown): SignGuardError {
    this.broken = withCause(
      new SignGuardError("IO", `${what}: ${messageOf(err)}; the guard approves nothing until reopened`),
      err,
    );
    return this.broken as SignGuardError;
  }

  private checkUsable(): void {
    if (this.closed) throw new SignGuardError("CLOSED", `${this.path}: the guard is closed`);
    if (this.broken !== undefined)
      throw withCause(
        new SignGuardError(
          "BROKEN",
          `${this.path}: an earlier write failed (${this.broken.message}); close and reopen the guard`,
        ),
        this.broken,
      );
  }
}

function conflict(r: GuardRecord, held: string, lead = "refusing to approve"): SignGuardError {
  return new SignGuardError(
    "CONFLICT",
    `${lead} content ${r.content} for ${slotName(r)}: content ${held} is recorded there ` +
      `(signing both would be double signing)`,
  );
}
