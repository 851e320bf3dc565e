/**
 * Every account of a retained pulse, for the committee draw: the draw needs each candidate and each
 * vote at the snapshot, and the Ledger reads accounts only by id. This walks the tree's leaves at a
 * pulse straight from the store's KV (the root record, docs/PROTOCOL.md §5, then the pages, §4) and
 * reads each account through the Ledger, which checks its data against the leaf's dataHash. Read
 * only; it goes away once the Ledger enumerates its own leaves.
 */
import type { Account } from "../ledger/account.js";
import { rootKey } from "../ledger/keys.js";
import type { KV } from "../ledger/kv.js";
import type { Ledger } from "../ledger/ledger.js";
import { PageStore } from "../ledger/page-store.js";
import type { OrgInfo } from "../ledger/transition-types.js";
import type { Summary } from "../smt/hash.js";
import { Kind, type TreeNode } from "../smt/node.js";
import { decodeRootNode, openSpan } from "../smt/page.js";
import { Reader } from "../util/bytes.js";

/** What the committee computation reads: the organization, accounts, roots, and every account of a pulse. */
export interface ElectionSource {
  readonly org: OrgInfo | undefined;
  /** The newest committed pulse. */
  readonly head: number | undefined;
  account(id: Buffer, pulse?: number): Account | undefined;
  rootAt(pulse?: number): Summary;
  /** Every account with a leaf at a retained pulse, by id ascending. */
  accountsAt(pulse: number): Iterable<{ readonly id: Buffer; readonly account: Account }>;
}

/** Version byte of a root record (PROTOCOL §5). */
const ROOT_RECORD_V1 = 1;
/** The walk loads each page once; a small cache is enough. */
const PAGE_CACHE_BYTES = 1 << 20;

/** The ids of every leaf of the tree at `pulse`, ascending. Throws if the pulse has no root record. */
export function* leafIds(kv: KV, pulse: number): Generator<Buffer> {
  const rec = kv.getSync(rootKey(pulse));
  if (rec === undefined) throw new RangeError(`pulse ${pulse} has no root record (not committed, or pruned)`);
  const r = new Reader(rec);
  const v = r.u8("root record version");
  if (v !== ROOT_RECORD_V1) throw new RangeError(`unknown root record version ${v}`);
  const root = decodeRootNode(r);
  const pages = new PageStore(kv, PAGE_CACHE_BYTES);
  const stack: TreeNode[] = root === null ? [] : [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === Kind.Leaf) yield Buffer.from(n.key);
    else if (n.kind === Kind.Ref) stack.push(pages.resolve(n));
    else {
      const inner = n.kind === Kind.Span ? openSpan(n) : n;
      // Right first, so the left subtree (smaller ids) comes off the stack first.
      stack.push(inner.right, inner.left);
    }
  }
}

/** The Ledger as an ElectionSource, its accounts enumerated from `kv`, the KV it was opened on. */
export function ledgerSource(ledger: Ledger, kv: KV): ElectionSource {
  return {
    get org() {
      return ledger.org;
    },
    get head() {
      return ledger.head;
    },
    account: (id, pulse) => ledger.account(id, pulse),
    rootAt: (pulse) => ledger.rootAt(pulse),
    *accountsAt(pulse) {
      for (const id of leafIds(kv, pulse)) {
        const account = ledger.account(id, pulse);
        if (account === undefined) throw new Error(`account ${id.toString("hex")} has a leaf but no account`);
        yield { id, account };
      }
    },
  };
}
