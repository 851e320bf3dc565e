/**
 * A first committee named at genesis (issue 7): its encoding at the end of the genesis body, the
 * rules on it, cycle 0's committee (and its carrying on past a draw with no one), founding with it
 * (src/org/found.ts), the configuration keys, and `org_create` / `org_info` on a real daemon.
 */
import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Signer } from "../src/crypto/ed25519.js";
import { CommitteeBook } from "../src/election/book.js";
import { committeeFor, committeeOf, genesisCommittee } from "../src/election/committee.js";
import { schedule } from "../src/election/cycle.js";
import { committeeProblem, paramsProblem } from "../src/ledger/rules.js";
import { type OrgParams, TxKind } from "../src/ledger/tx.js";
import { decodeTx, encodeBody } from "../src/ledger/tx-codec.js";
import { ConfigError, loadConfig } from "../src/node/config.js";
import { FoundError, type FoundOptions, foundOrganization } from "../src/org/found.js";
import { type LeitherClient, RpcCallError } from "../src/rpc/client.js";
import { RpcErrorCode } from "../src/rpc/errors.js";
import { cleanupDaemons, daemonDir, spawnDaemon, stopDaemon, waitReady } from "./helpers/daemon.js";
import { allOk, Chain, verdicts } from "./helpers/ledger-chain.js";
import { genesisTx, hex, makeCast, orgParams } from "./helpers/ledger-signers.js";
import { tmpDir } from "./helpers/tmp.js";

const cast = makeCast(4);
const S = cast.supervisor;
const [A, B, C, D] = cast.users as [Signer, Signer, Signer, Signer];
const ZERO = Buffer.alloc(20);
const L = 8;
const base = (committee: readonly Signer[], size = 3): OrgParams => ({
  ...orgParams(S, { distribution: [[S, 1000n]] }),
  electionCycle: L,
  committeeSize: size,
  committee: committee.map((k) => k.id),
});

describe("genesis committee: encoding", () => {
  it("round trips; the ids follow a u16 count, in their order, before the u64 mining reward", () => {
    for (const members of [[], [A], [C, A, B]]) {
      const p = { ...base(members), miningReward: 258n };
      const body = encodeBody({ kind: TxKind.Genesis, org: cast.orgKey.id, params: p });
      const reward = Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]);
      const tail = Buffer.concat([Buffer.from([0, members.length]), ...members.map((k) => k.id), reward]);
      assert.equal(hex(body.subarray(body.length - tail.length)), hex(tail));
      const tx = decodeTx(genesisTx(cast.orgKey, p));
      assert.equal(hex(tx.bodyBytes), hex(body));
      assert.deepEqual(
        tx.body.kind === TxKind.Genesis ? tx.body.params.committee.map(hex) : null,
        members.map((k) => hex(k.id)),
      );
      assert.equal(tx.body.kind === TxKind.Genesis ? tx.body.params.miningReward : null, 258n);
    }
    // A literal without miningReward encodes 0, and decodes with it.
    const { miningReward: _, ...without } = base([]);
    const tx = decodeTx(genesisTx(cast.orgKey, without));
    assert.equal(tx.body.kind === TxKind.Genesis ? tx.body.params.miningReward : null, 0n);
    // Two members make the body 40 bytes longer than none (the count is there either way).
    const none = encodeBody({ kind: TxKind.Genesis, org: cast.orgKey.id, params: base([]) });
    const two = encodeBody({ kind: TxKind.Genesis, org: cast.orgKey.id, params: base([A, B]) });
    assert.equal(two.length - none.length, 40);
  });

  it("the encoder refuses an id that is not 20 bytes", () => {
    const p = { ...base([]), committee: [Buffer.alloc(19)] };
    assert.throws(
      () => encodeBody({ kind: TxKind.Genesis, org: cast.orgKey.id, params: p }),
      /committee member \(an account id\) must be 20 bytes/,
    );
  });
});

describe("genesis committee: rules", () => {
  const org = cast.orgKey.id;
  it("0 to committeeSize distinct, non-zero ids; the founder need not be one", () => {
    assert.equal(paramsProblem(org, base([])), undefined);
    assert.equal(paramsProblem(org, base([A, B, C])), undefined, "as many as the committee size");
    assert.equal(paramsProblem(org, base([A, B], 2)), undefined, "without the supervisor");
    assert.match(paramsProblem(org, base([A, B, C, D]))!, /4 members, more than the committee size 3/);
    assert.match(paramsProblem(org, base([A, B, A]))!, /twice in the genesis committee/);
    assert.match(paramsProblem(org, { ...base([]), committee: [A.id, ZERO] })!, /zero account id/);
    assert.equal(committeeProblem([], 1), undefined);
  });

  it("the ledger refuses a bad committee BAD_PARAMS and accepts a good one", async () => {
    const chain = await Chain.open(org);
    const out = await chain.pulse([genesisTx(cast.orgKey, base([A, B, A]))]);
    assert.deepEqual(verdicts(out), ["BAD_PARAMS"]);
    allOk(await chain.pulse([genesisTx(cast.orgKey, base([B, A]))]));
    assert.deepEqual(
      chain.ledger.org!.params.committee.map(hex),
      [B, A].map((k) => hex(k.id)),
    );
    await chain.close();
  });
});

describe("genesis committee: cycle 0 and after", () => {
  it("cycle 0 is the genesis committee in its order, or the supervisor alone without one", async () => {
    assert.deepEqual(
      genesisCommittee(base([C, A])).map(hex),
      [C, A].map((k) => hex(k.id)),
    );
    assert.deepEqual(genesisCommittee(base([])).map(hex), [hex(S.id)]);
    for (const members of [[], [C, A, B]]) {
      const chain = await Chain.open(cast.orgKey.id);
      allOk(await chain.pulse([genesisTx(cast.orgKey, base(members))]));
      const want = members.length > 0 ? members.map((k) => hex(k.id)) : [hex(S.id)];
      assert.deepEqual(committeeOf(chain.ledger, 0).map(hex), want);
      const book = await CommitteeBook.open(join(tmpDir("leither-book-"), "committees.json"), chain.ledger);
      assert.deepEqual(book.ofCycle(0).map(hex), want);
      assert.deepEqual(book.of(1).map(hex), want, "pulse 1 is in cycle 0");
      await chain.close();
    }
  });

  it("with no candidate in the draw, the genesis committee carries on, cycle after cycle", async () => {
    const chain = await Chain.open(cast.orgKey.id);
    allOk(await chain.pulse([genesisTx(cast.orgKey, base([C, A, B]))]));
    const want = [C, A, B].map((k) => hex(k.id));
    const path = join(tmpDir("leither-book-"), "committees.json");
    const book = await CommitteeBook.open(path, chain.ledger);
    // Through cycle 2's seed pulse, no one standing: every draw is empty.
    while (chain.next <= schedule(2, L).revealLast) {
      allOk(await chain.pulse([]));
      await book.committed(chain.next - 1);
    }
    for (const c of [0, 1, 2]) {
      const drawn = committeeFor(chain.ledger, c);
      assert.equal(drawn.carried, true, `the draw of cycle ${c} had no one`);
      assert.deepEqual(drawn.members.map(hex), want);
      assert.deepEqual(committeeOf(chain.ledger, c + 1).map(hex), want);
      assert.deepEqual(book.ofCycle(c + 1).map(hex), want);
    }
    // The book wrote the carried committees down, in order.
    const doc = JSON.parse(await readFile(path, "utf8")) as { cycles: Record<string, string[]> };
    assert.deepEqual(doc.cycles["3"], want);
    await chain.close();
  });
});

describe("genesis committee: founding", () => {
  const founding = (extra: Partial<FoundOptions> = {}): FoundOptions => ({
    name: "Keepers",
    founder: S.id,
    pulsePeriodMs: 1000,
    keyDir: tmpDir("leither-found-"),
    ...extra,
  });
  /** The parameters of the genesis founded with `extra`. */
  const founded = async (extra: Partial<FoundOptions> = {}): Promise<OrgParams> => {
    const tx = decodeTx((await foundOrganization(founding(extra))).genesis);
    assert.ok(tx.body.kind === TxKind.Genesis);
    return tx.body.params;
  };

  it("founds with a committee the founder is not in; the committee size defaults to its length", async () => {
    const p = await founded({ committee: [A.id, B.id, C.id], electionCycle: 16, minDeposit: 5n });
    assert.deepEqual(
      p.committee.map(hex),
      [A, B, C].map((k) => hex(k.id)),
    );
    assert.deepEqual([p.committeeSize, p.electionCycle, p.minDeposit], [3, 16, 5n]);
    assert.equal(hex(p.supervisor), hex(S.id));
  });

  it("defaults: no committee, a committee of 1, cycles of 1800, a deposit of 1000, no mining reward", async () => {
    const p = await founded();
    assert.deepEqual(
      [p.committee, p.committeeSize, p.electionCycle, p.minDeposit, p.miningReward],
      [[], 1, 1800, 1000n, 0n],
    );
    assert.equal((await founded({ miningReward: 25n })).miningReward, 25n);
  });

  it("refuses more members than the committee size, duplicates and a short cycle", async () => {
    const refused = (extra: Partial<FoundOptions>, message: RegExp) =>
      assert.rejects(
        foundOrganization(founding(extra)),
        (e) => e instanceof FoundError && message.test(e.message),
      );
    await refused({ committee: [A.id, B.id], committeeSize: 1 }, /more than the committee size 1/);
    await refused({ committee: [A.id, A.id] }, /twice/);
    await refused({ electionCycle: 3 }, /election cycle is below 4/);
  });
});

describe("genesis committee: configuration", () => {
  const dataDir = tmpDir("leither-config-");
  it("org.committee, org.electionCycle and org.minDeposit, with defaults, env and flags", () => {
    const d = loadConfig({ dataDir, env: {} }).config.org;
    assert.deepEqual([d.committee, d.electionCycle, d.minDeposit, d.miningReward], [[], 1800, 1000n, 0n]);
    const reward = (o: Parameters<typeof loadConfig>[0]) => loadConfig(o).config.org.miningReward;
    assert.equal(reward({ dataDir, env: { LEITHER_ORG_MINING_REWARD: "12" } }), 12n);
    assert.equal(reward({ dataDir, env: {}, flags: { "org.miningReward": "9" } }), 9n);
    const ids = [A, B].map((k) => hex(k.id));
    const { config, sources } = loadConfig({
      dataDir,
      env: { LEITHER_ORG_COMMITTEE: ` ${ids[0]!.toUpperCase()}, ${ids[1]}`, LEITHER_ORG_MIN_DEPOSIT: "7" },
      flags: { "org.electionCycle": "16" },
    });
    assert.deepEqual(config.org.committee.map(hex), ids);
    assert.deepEqual([config.org.electionCycle, config.org.minDeposit], [16, 7n]);
    assert.deepEqual(
      [sources["org.committee"], sources["org.minDeposit"], sources["org.electionCycle"]],
      ["env", "env", "flag"],
    );
  });

  it("refuses a bad id, a duplicate, the zero id, a cycle below 4 and a bad deposit", () => {
    const bad = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadConfig({ dataDir, env }),
        (e) => e instanceof ConfigError && e.code === "BAD_FIELD" && message.test(e.message),
      );
    bad(
      { LEITHER_ORG_COMMITTEE: "abc" },
      /LEITHER_ORG_COMMITTEE \(environment\): "abc" is not an account id/,
    );
    bad({ LEITHER_ORG_COMMITTEE: `${hex(A.id)},${hex(A.id)}` }, /listed twice/);
    bad({ LEITHER_ORG_COMMITTEE: hex(ZERO) }, /zero account id/);
    bad({ LEITHER_ORG_ELECTION_CYCLE: "3" }, /integer from 4/);
    bad({ LEITHER_ORG_MIN_DEPOSIT: "-1" }, /whole number from 0 to 2\^64-1/);
    bad({ LEITHER_ORG_MIN_DEPOSIT: "18446744073709551616" }, /whole number/);
    bad({ LEITHER_ORG_MINING_REWARD: "1.5" }, /LEITHER_ORG_MINING_REWARD.*whole number/);
  });
});

describe("genesis committee: org_create and org_info on a daemon", () => {
  after(cleanupDaemons);

  it("founds with a committee over JSON-RPC and org_info shows it; bad committees are refused", async () => {
    const daemon = spawnDaemon(daemonDir(), { args: ["--no-net", "--no-found"] });
    const client: LeitherClient = await waitReady(daemon, -1);
    const node = (await client.request("node_status")).account;
    const refused = async (params: object, message: RegExp) => {
      await assert.rejects(
        client.call("org_create", { name: "Keepers", ...params }),
        (e) => e instanceof RpcCallError && e.code === RpcErrorCode.INVALID_PARAMS && message.test(e.message),
      );
    };
    const [a, b] = [A, B].map((k) => hex(k.id)) as [string, string];
    await refused({ committee: ["xyz"] }, /committee\[0\] must match/);
    await refused({ committee: [a, a] }, /twice in the genesis committee/);
    await refused({ committee: [a, hex(ZERO)] }, /zero account id/);
    await refused({ committee: [a, b, node], committeeSize: 2 }, /3 members, more than the committee size 2/);
    await refused({ electionCycle: 3 }, /electionCycle must be at least 4/);
    assert.equal((await client.request("node_status")).org, null, "nothing was founded");

    // The founder's node is the second member: the first proposes round 0.
    const o = await client.request("org_create", {
      name: "Keepers",
      committee: [a, node, b],
      electionCycle: 16,
      minDeposit: "5",
      miningReward: "12",
    });
    assert.deepEqual(o.committee, [a, node, b]);
    assert.deepEqual(
      [o.committeeSize, o.electionCycle, o.minDeposit, o.miningReward, o.supervisor],
      [3, 16, "5", "12", node],
    );
    const info = await client.request("org_info");
    assert.deepEqual(info.committee, [a, node, b]);
    assert.equal(info.miningReward, "12");
    assert.equal(info.id, o.id);
    await stopDaemon(daemon);
  });
});
