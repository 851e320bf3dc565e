/**
 * Page I/O for the versioned tree: loading a stored page (through a byte-bounded LRU of decoded
 * pages) and encoding the pages a pulse changed (docs/PROTOCOL.md, "Tree page v1").
 */
import { hashOf, type InnerNode, Kind, type RefNode, type SpanNode, type TreeNode } from "../smt/node.js";
import { decodePage, PAGE_FORMAT_V1, pageLevel, writeInnerHeader, writeLeaf, writeRef } from "../smt/page.js";
import { TreeError } from "../smt/tree.js";
import { DecodeError, Writer } from "../util/bytes.js";
import { ClockCache } from "../util/clock-cache.js";
import { pageKey } from "./keys.js";
import type { KV } from "./kv.js";

/** A page about to be written. */
export interface PageWrite {
  readonly key: Buffer;
  readonly level: number;
  readonly value: Buffer;
}

/** Records that the stored page (level, key's prefix, version) is no longer in the tree. */
export type MarkStale = (level: number, key: Uint8Array, version: number) => void;

/** Reads and writes tree pages on a KV, with a cache of decoded pages. */
export class PageStore {
  /** Decoded pages by PAGE key (latin1); a page's bytes are immutable once written. */
  private readonly cache: ClockCache<InnerNode>;
  /** Page cache key of each reference resolved (refs live as long as the pages holding them). */
  private readonly keys = new WeakMap<RefNode, string>();
  private readonly writers: Writer[] = [];

  /** `maxBytes`: the budget of the cache, counted in page bytes. */
  constructor(
    private readonly kv: KV,
    maxBytes: number,
  ) {
    this.cache = new ClockCache(maxBytes);
  }

  /**
   * Encodes the page whose top is `top` (and any new page below it) into `out`. Unchanged in-page
   * subtrees (spans) are copied byte for byte; a subtree whose level differs is a reference.
   */
  writePage(top: InnerNode | SpanNode, pulse: number, out: PageWrite[], markStale: MarkStale): void {
    const level = pageLevel(top.depth);
    // Writers are reused (one per nesting level: deeper pages are written while this one is open).
    const w = (this.writers.pop() ?? new Writer(4096)).reset().u8(PAGE_FORMAT_V1);
    const enc = (n: TreeNode): void => {
      if (n.kind === Kind.Leaf) {
        writeLeaf(w, n);
        return;
      }
      if (pageLevel(n.depth) !== level) {
        // The top of a deeper page: reference it, writing it first if it is new.
        if (n.kind === Kind.Ref) writeRef(w, n, n.version);
        else if (n.kind === Kind.Inner && n.stored !== undefined) writeRef(w, n, n.stored);
        else {
          this.writePage(n, pulse, out, markStale);
          writeRef(w, n, pulse);
        }
        return;
      }
      if (n.kind === Kind.Span) {
        w.copyFrom(n.bytes, n.start, n.end);
        return;
      }
      // Same level: the node goes inline. If it was the top of a stored page, that page is replaced.
      let inner: InnerNode;
      if (n.kind === Kind.Ref) {
        inner = this.resolve(n) as InnerNode;
        markStale(level, n.key, n.version);
      } else {
        inner = n;
        if (n !== top && n.stored !== undefined) markStale(level, n.key, n.stored);
      }
      const at = writeInnerHeader(w, inner, hashOf(inner));
      const start = w.length;
      enc(inner.left);
      w.patchU16(at, w.length - start);
      enc(inner.right);
    };
    enc(top);
    out.push({ key: pageKey(level, top.key, pulse), level, value: w.finishOwned() });
    this.writers.push(w);
  }

  /** Keeps a decoded page, evicting cold pages past the byte budget. */
  put(ks: string, top: InnerNode, size: number): void {
    this.cache.set(ks, top, size);
  }

  /** Loads a stored page (through the page cache). Synchronous: LevelDB's getSync. */
  readonly resolve = (ref: RefNode): TreeNode => {
    const level = pageLevel(ref.depth);
    let ks = this.keys.get(ref);
    if (ks !== undefined) {
      const hit = this.cache.get(ks);
      if (hit !== undefined) return hit;
    }
    const key = pageKey(level, ref.key, ref.version);
    ks = key.toString("latin1");
    this.keys.set(ref, ks);
    const hit = this.cache.get(ks);
    if (hit !== undefined) return hit;
    const bytes = this.kv.getSync(key);
    if (bytes === undefined)
      throw new TreeError("CORRUPT", `page ${key.toString("hex")} is missing from the store`);
    let top: InnerNode;
    try {
      top = decodePage(bytes, level, ref.version);
    } catch (err) {
      if (err instanceof DecodeError)
        throw new TreeError("CORRUPT", `page ${key.toString("hex")}: ${err.message}`);
      throw err;
    }
    if (top.depth !== ref.depth || top.hash !== ref.hash || top.sum !== ref.sum || top.count !== ref.count)
      throw new TreeError("CORRUPT", `page ${key.toString("hex")} does not match its reference`);
    this.put(ks, top, bytes.length);
    return top;
  };

  /** Drops a page from the cache (pruning deleted it). */
  forget(ks: string): void {
    this.cache.delete(ks);
  }

  /** Empties the cache. */
  clear(): void {
    this.cache.clear();
  }
}
