/**
 * Child process of test/crash.test.ts: commits deterministic pulses to a LevelDB ledger as fast as
 * it can, pruning as it goes, and prints "committed P" after each commit resolves. It is killed
 * with SIGKILL at a random moment; the parent then checks the store.
 */
import "../../src/polyfill.js";
import { LevelKV } from "../../src/ledger/level-kv.js";
import { VersionedTree } from "../../src/ledger/store.js";
import { crashOps } from "./crash-ops.js";

const dir = process.argv[2]!;
const t = await VersionedTree.open(await LevelKV.open(dir), {
  retention: { keepLast: 4, keepEvery: 10 },
  sync: false,
});
for (let p = (t.head ?? -1) + 1; ; p++) {
  await t.commit(p, crashOps(p));
  process.stdout.write(`committed ${p}\n`);
  await t.prune(50);
}
