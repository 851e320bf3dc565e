/** The versioned tree's options, results and errors (store.ts holds the tree itself). */
import type { Summary } from "../smt/hash.js";
import { CodedError } from "../util/errors.js";
import type { RetentionPolicy } from "./retention.js";

/** Version byte of the store's layout (META "format"). */
export const STORE_FORMAT = 1;
/** Version byte of a pulse's root record. */
export const ROOT_RECORD_V1 = 1;

/** Options of a VersionedTree. */
export interface VersionedTreeOptions {
  /** Which pulses stay readable. @default {keepLast: 100, keepEvery: 0} */
  retention?: Partial<RetentionPolicy>;
  /** Bytes of pages kept decoded in memory (the top of the tree stays hot). @default 32 MiB */
  cacheBytes?: number;
  /** Wait for each pulse's batch to reach the disk (fsync) before the commit resolves. @default true */
  sync?: boolean;
}

/** Why a pulse cannot be read or written (STALE: prepared on a head that has moved since). */
export class PulseError extends CodedError<
  "EMPTY" | "PRUNED" | "FUTURE" | "BEFORE_FIRST" | "NOT_NEXT" | "STALE"
> {}

/** What a commit did. */
export interface CommitResult {
  readonly pulse: number;
  readonly root: Summary;
  /** Pages written (a pulse that changes k accounts writes O(k log n) of them). */
  readonly pagesWritten: number;
  /** Pages this pulse made stale (kept until no retained pulse needs them). */
  readonly pagesReplaced: number;
  /** Bytes of the write batch. */
  readonly bytesWritten: number;
}

/** A pulse computed but not written (VersionedTree.prepareCommit): finish writes it, discard drops it. */
export interface PreparedCommit {
  readonly pulse: number;
  /** The root the pulse will have once finished. */
  readonly root: Summary;
}

/** A key written beside the tree in a pulse's batch. */
export interface CommitPut {
  readonly key: Buffer;
  readonly value: Buffer;
}

/**
 * Other state that rides in a pulse's atomic batch (the ledger's account data): keys to put, and
 * STALE targets (docs/PROTOCOL.md) that this pulse retires, pruned like pages.
 */
export interface CommitExtras {
  readonly puts?: readonly CommitPut[];
  readonly stale?: readonly Buffer[];
  /** Refuse the batch (TreeError SUM_MISMATCH, nothing written) unless the new root's sum is this. */
  readonly expectSum?: bigint;
}

/** Reads another bucket of the store's KV (account data), synchronously. */
export type RawGet = (key: Buffer) => Buffer | undefined;

/** What one prune step did. */
export interface PruneResult {
  readonly pulsesDropped: number;
  readonly pagesDeleted: number;
  /** True when nothing is left to prune for now. */
  readonly done: boolean;
}

/** An account's leaf as the tree stores it. */
export interface LeafValue {
  readonly amount: bigint;
  readonly dataHash: Buffer;
}
