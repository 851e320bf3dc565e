/**
 * The network end to end: five `leither start` processes on loopback. Node 0 founds the organization
 * and keeps its books (auto-approving members); nodes 1-4 know only node 0's address. They find the
 * organization through the DHT, join, transfer to each other (the payee's node countersigns over
 * the network), and both sides hold checked receipts within two pulses. Forged and stale DHT
 * records and a peer's garbage on every protocol change nothing; a restarted member catches up by
 * state sync and follows the pulses again.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPair, Signer } from "../src/crypto/ed25519.js";
import { DHT_PROTOCOL, Host, REQUEST_PROTOCOL } from "../src/dht/host.js";
import { memberRecordKey, orgRecordKey, signMemberRecord, signOrgRecord } from "../src/dht/records.js";
import { encodeList, Op, signGroupMessage, signRequest } from "../src/dht/wire.js";
import { TxKind } from "../src/ledger/tx.js";
import { signTx } from "../src/ledger/tx-codec.js";
import { groupTopic, pulseTopic, txTopic } from "../src/org/discovery.js";
import { encodeCertificate } from "../src/pulse/certificate.js";
import { valueIdOf } from "../src/pulse/proposal.js";
import { Step, signVote } from "../src/pulse/votes.js";
import { type LeitherClient, RpcCallError } from "../src/rpc/client.js";
import { RpcErrorCode } from "../src/rpc/errors.js";
import { proofFromJson, summaryFromJson } from "../src/smt/proof.js";
import { verifyProof } from "../src/smt/verify.js";
import {
  cleanupDaemons,
  type Daemon,
  daemonDir,
  spawnDaemon,
  stopDaemon,
  waitReady,
} from "./helpers/daemon.js";
import { tmpDir } from "./helpers/tmp.js";
import { until } from "./helpers/until.js";

const PULSE_MS = 1000;
const N = 5;

interface Node {
  daemon: Daemon;
  client: LeitherClient;
  account: string;
  addr: string;
}

/** Polls `fn` until it returns a value (not undefined) or `ms` pass. */

async function rpcError(p: Promise<unknown>): Promise<RpcCallError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcCallError) return err;
    throw err;
  }
  assert.fail("expected an RPC error");
}

describe("five nodes on loopback", { timeout: 180_000 }, () => {
  const nodes: Node[] = [];
  let org = "";
  let attacker: Host;

  async function start(dataDir: string, args: string[]): Promise<Node> {
    const daemon = spawnDaemon(dataDir, { pulseMs: PULSE_MS, args });
    const client = await waitReady(daemon, -1, 20_000);
    const info = await client.request("net_info");
    const account = (await client.request("node_info")).account;
    return { daemon, client, account, addr: info.addrs[0]! };
  }

  before(async () => {
    nodes.push(await start(daemonDir(), ["--auto-approve", "member"]));
    const s = await until(
      async () => {
        const st = await nodes[0]!.client.request("node_status");
        return st.org ?? undefined;
      },
      10_000,
      "node 0 founds its organization",
    );
    org = s;
    // Each of the others knows node 0's address only.
    const rest = await Promise.all(
      Array.from({ length: N - 1 }, () => start(daemonDir(), ["--no-found", "--bootstrap", nodes[0]!.addr])),
    );
    nodes.push(...rest);
    attacker = await Host.start({
      peerKeyPath: `${tmpDir()}/attacker-key.json`,
      bootstrap: [nodes[0]!.addr],
    });
  });

  after(async () => {
    await attacker?.stop();
    await cleanupDaemons();
  });

  it("a node that knows one bootstrap peer finds the organization through the DHT", async () => {
    const info = await nodes[4]!.client.request("org_info", { id: org });
    assert.equal(info.id, org);
    assert.equal(info.supervisor, nodes[0]!.account);
    assert.equal(info.pulsePeriodMs, PULSE_MS);
    assert.ok(info.head !== null && info.head >= 0);
  });

  it("nodes join through the DHT or through a member, and the supervisor's policy approves them", async () => {
    for (const n of nodes.slice(1, 4)) {
      const r = await n.client.request("org_join", { org });
      assert.equal(r.org, org);
      assert.equal(r.application.state, "pending");
    }
    // Node 4 applies through node 1, a member that forwards its application to the bookkeeper.
    const via = await nodes[4]!.client.request("org_join", { org, via: nodes[1]!.addr });
    assert.equal(via.application.state, "pending");
    for (const n of nodes.slice(1))
      await until(
        async () => {
          const a = await n.client.request("ledger_getAccount");
          return a.role === "member" ? a : undefined;
        },
        15_000,
        `node ${n.account} becomes a member`,
      );
    const s = await nodes[2]!.client.request("node_status");
    assert.equal(s.org, org);
    assert.ok(s.peers >= 1);
  });

  it("transfers between members: countersigned by the payee's node, receipts on both sides within two pulses", async () => {
    const [n0, n1, n2] = nodes as [Node, Node, Node];
    // Node 0 funds node 1: node 1's node countersigns over the network.
    const fund = await n0.client.request("tx_transfer", { to: n1.account, amount: "5000", wait: true });
    assert.equal(fund.state, "accepted", JSON.stringify(fund));
    await until(
      async () => ((await n1.client.request("ledger_getAccount")).amount === "5000" ? true : undefined),
      10_000,
      "node 1 sees its funds",
    );

    const before = (await n0.client.request("node_status")).pulse!;
    const t = await n1.client.request("tx_transfer", { to: n2.account, amount: "1200", wait: true });
    assert.equal(t.state, "accepted", JSON.stringify(t));
    assert.ok(t.pulse! <= before + 2, `applied at pulse ${t.pulse}, submitted after ${before}`);
    // Both parties hold the receipt; by then the organization is at most two pulses past the submission.
    const [r1, r2] = await Promise.all(
      [n1, n2].map((n) => until(() => n.client.request("tx_receipt", { txId: t.txId }), 10_000, "a receipt")),
    );
    const head = (await n0.client.request("node_status")).pulse!;
    assert.ok(head <= t.pulse! + 2, `receipts held at head ${head}, applied at ${t.pulse}`);
    for (const [r, who] of [
      [r1!, n1],
      [r2!, n2],
    ] as const) {
      assert.equal(r.pulse, t.pulse);
      assert.deepEqual(
        r.proofs.map((p) => p.account),
        [who.account],
        "a party's node holds its own proof only",
      );
      assert.equal(
        verifyProof(proofFromJson(r.proofs[0]!.proof), summaryFromJson(r.root)).result,
        "inclusion",
      );
    }
    assert.equal((await n1.client.request("ledger_getAccount")).amount, "3800");
    assert.equal((await n2.client.request("ledger_getAccount")).amount, "1200");
    // Transfers from one payer at the same time, each waiting for the payee's node: each its own nonce.
    const both = await Promise.all(
      [100, 200].map((amount) =>
        n1.client.request("tx_transfer", { to: n2.account, amount: String(amount), wait: true }),
      ),
    );
    assert.deepEqual(
      both.map((x) => x.state),
      ["accepted", "accepted"],
      JSON.stringify(both),
    );
    await until(
      async () => ((await n2.client.request("ledger_getAccount")).amount === "1500" ? true : undefined),
      10_000,
      "node 2 has both",
    );
    const n1Before = BigInt((await n1.client.request("ledger_getAccount")).amount);
    assert.equal(n1Before, 3500n);
    // The bookkeeper's books agree.
    assert.equal((await n0.client.request("ledger_getAccount", { account: n2.account })).amount, "1500");
  });

  it("privacy: a member reads only its own accounts and its own transactions' receipts", async () => {
    const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
    const other = await rpcError(n3.client.request("ledger_getAccount", { account: n1.account }));
    assert.equal(other.code, RpcErrorCode.FORBIDDEN);
    const t = await n1.client.request("tx_transfer", { to: n2.account, amount: "1", wait: true });
    assert.equal(t.state, "accepted");
    const notParty = await rpcError(n3.client.request("tx_receipt", { txId: t.txId }));
    assert.equal(notParty.code, RpcErrorCode.FORBIDDEN, notParty.message);
    // Public information goes to anyone: the organization and its latest root.
    const root = await n3.client.request("ledger_getRoot");
    const head = await n0.client.request("node_status");
    assert.ok(root.count >= 5);
    assert.ok(head.pulse !== null);
  });

  it("direct and group messages arrive signed by their sender", async () => {
    const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
    await n1.client.request("msg_send", { to: n2.account, text: "hello node 2" });
    await n0.client.request("msg_send", { text: "to everyone" });
    const got = await until(
      async () => {
        const m = (await n2.client.request("msg_list")).messages;
        return m.some((x) => x.group) && m.some((x) => !x.group) ? m : undefined;
      },
      10_000,
      "node 2 gets both messages",
    );
    assert.ok(got.some((m) => !m.group && m.from === n1.account && m.text === "hello node 2"));
    assert.ok(got.some((m) => m.group && m.from === n0.account && m.text === "to everyone"));
    await until(
      async () => ((await n3.client.request("msg_list")).messages.some((m) => m.group) ? true : undefined),
      10_000,
      "node 3 gets the group message",
    );
  });

  it("forged and stale DHT records are refused; the genuine ones stay", async () => {
    const [n0, n1, , , n4] = nodes as [Node, Node, Node, Node, Node];
    const orgId = Buffer.from(org, "hex");
    const dht = attacker.node.services.dht;
    const signal = () => AbortSignal.timeout(10_000);
    const genuine = await attacker.get(memberRecordKey(orgId, Buffer.from(n1.account, "hex")), signal());
    assert.equal(genuine?.kind, "member");
    // A forged member record for node 1, signed by another key, pointing at the attacker.
    const mallory = new Signer(generateKeyPair());
    const forged = signMemberRecord(
      { org: orgId, account: mallory.id, seq: genuine!.seq + 1000n, ...attacker.recordParts() },
      mallory,
    );
    const forgedOrg = signOrgRecord(
      { org: mallory.id, seq: 1n, name: "Not it", pulsePeriodMs: 10, supervisor: mallory.id },
      mallory,
    );
    // Put straight through kad-dht (the attacker's own checks skipped) under the genuine keys.
    for (const [key, value] of [
      [memberRecordKey(orgId, Buffer.from(n1.account, "hex")), forged],
      [orgRecordKey(orgId), forgedOrg],
    ] as const) {
      try {
        for await (const _ of dht.put(key, value, { signal: signal() })) void _;
      } catch {
        // Peers refuse it; the attacker's put may fail as a whole.
      }
    }
    const info = await n4.client.request("org_info", { id: org });
    assert.equal(info.name, "Local organization", "the organization record is the genuine one");
    const after = await attacker.get(memberRecordKey(orgId, Buffer.from(n1.account, "hex")), signal());
    assert.ok(after?.kind === "member" && after.account.equals(Buffer.from(n1.account, "hex")));
    assert.deepEqual(
      Buffer.from(after.peerId),
      Buffer.from(genuine!.kind === "member" ? genuine!.peerId : []),
    );
    const orgRec = await attacker.get(orgRecordKey(orgId), signal());
    assert.ok(orgRec?.kind === "org" && orgRec.name === "Local organization");
    // Node 0 still reaches node 1 by its genuine record: the countersigned transfer works.
    const t = await n0.client.request("tx_transfer", { to: n1.account, amount: "10", wait: true });
    assert.equal(t.state, "accepted", JSON.stringify(t));
  });

  it("a peer sending garbage on every protocol changes nothing and crashes nothing", async () => {
    const [n0, n1] = nodes as [Node, Node, Node];
    const before = await Promise.all(nodes.map((n) => n.client.request("ledger_getAccount")));
    const orgId = Buffer.from(org, "hex");
    const mallory = new Signer(generateKeyPair());
    const targets = [n0.addr, n1.addr];
    // Raw bytes on each stream protocol.
    for (const t of targets)
      for (const proto of [REQUEST_PROTOCOL, DHT_PROTOCOL])
        for (const size of [0, 1, 7, 300, 70_000]) {
          try {
            const stream = await attacker.node.dialProtocol(
              (await import("@multiformats/multiaddr")).multiaddr(t),
              proto,
              { signal: AbortSignal.timeout(5000) },
            );
            stream.send(randomBytes(size));
            await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => undefined);
          } catch {
            // A peer may reset the stream: that is its right.
          }
        }
    // Well-framed requests with garbage bodies for every op, signed by an outsider and by nobody.
    for (const t of targets)
      for (const op of Object.values(Op)) {
        for (const body of [
          randomBytes(0),
          randomBytes(33),
          encodeList([randomBytes(5), randomBytes(200)]),
        ]) {
          const req = signRequest({ org: orgId, op, body }, mallory);
          const flipped = Buffer.from(req);
          flipped[60]! ^= 1;
          for (const bytes of [req, flipped, randomBytes(req.length)])
            await attacker.request(t, bytes, AbortSignal.timeout(5000)).catch(() => undefined);
        }
      }
    // Garbage and forged messages on the organization's gossip topics.
    // A certificate of a far pulse signed by an outsider: well formed, every signature valid.
    const forged = {
      org: orgId,
      pulse: 1_000_000,
      round: 0,
      batchHash: randomBytes(32),
      next: randomBytes(32),
    };
    const root = { hash: randomBytes(32), sum: 1n, count: 1 };
    const value = valueIdOf(orgId, forged.pulse, root, forged.batchHash, forged.next);
    const forgedPulse = encodeCertificate({
      ...forged,
      root,
      precommits: [
        signVote({ org: orgId, pulse: forged.pulse, round: 0, step: Step.Precommit, value }, mallory),
      ],
    });
    const { bytes: outsiderTx } = signTx(
      {
        kind: TxKind.Transfer,
        org: orgId,
        actor: mallory.id,
        nonce: 1n,
        expiry: 1_000_000,
        to: mallory.id,
        amount: 1n,
      },
      [mallory],
    );
    for (const [topic, data] of [
      [pulseTopic(orgId), randomBytes(100)],
      [pulseTopic(orgId), forgedPulse],
      [txTopic(orgId), randomBytes(100)],
      [txTopic(orgId), outsiderTx],
      [groupTopic(orgId), randomBytes(100)],
      [groupTopic(orgId), signGroupMessage({ org: orgId, text: "not a member" }, mallory)],
    ] as const)
      await attacker.publish(topic, data).catch(() => undefined);
    await sleep(2 * PULSE_MS);

    // Everyone is alive, pulses go on, nothing changed, the forged pulse was not taken.
    for (const n of nodes) assert.equal(n.daemon.child.exitCode, null, "the daemon is running");
    const after = await Promise.all(nodes.map((n) => n.client.request("ledger_getAccount")));
    assert.deepEqual(
      after.map((a) => a.amount),
      before.map((a) => a.amount),
    );
    const s = await nodes[3]!.client.request("node_status");
    assert.ok(s.pulse! < 1_000_000, "the forged certificate was not accepted");
    const msgs = (await nodes[3]!.client.request("msg_list")).messages;
    assert.ok(!msgs.some((m) => m.text === "not a member"), "an outsider's group message is dropped");
    const t = await n0.client.request("tx_transfer", { to: n1.account, amount: "1", wait: true });
    assert.equal(t.state, "accepted");
  });

  it("a restarted member catches up by state sync and follows the pulses; its old DHT record replayed is stale", async () => {
    const [n0, n1, n2] = nodes as [Node, Node, Node];
    const key2 = memberRecordKey(Buffer.from(org, "hex"), Buffer.from(n2.account, "hex"));
    const old = await attacker.get(key2, AbortSignal.timeout(10_000));
    assert.equal(old?.kind, "member");
    await stopDaemon(n2.daemon);
    // While node 2 is down the organization moves on (node 0 pays node 1).
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await n0.client.request("tx_transfer", { to: n1.account, amount: "3", wait: true })).state,
        "accepted",
      );
    const headNow = (await n0.client.request("node_status")).pulse!;
    const restarted = await start(n2.daemon.dataDir, ["--no-found", "--bootstrap", n0.addr]);
    nodes[2] = restarted;
    const synced = await until(
      async () => {
        const s = await restarted.client.request("node_status");
        return s.org === org && s.pulse !== null && s.pulse >= headNow ? s : undefined;
      },
      20_000,
      "the restarted node syncs",
    );
    assert.equal(synced.org, org);
    const mine = await restarted.client.request("ledger_getAccount");
    assert.equal(mine.role, "member");
    assert.equal(mine.amount, (await n0.client.request("ledger_getAccount", { account: n2.account })).amount);
    // Its new record (new port, higher seq) is out; the old one, replayed, must not replace it.
    await until(
      async () => {
        const r = await attacker.get(key2, AbortSignal.timeout(10_000));
        return r !== undefined && r.seq > old!.seq ? r : undefined;
      },
      20_000,
      "the restarted node's newer record",
    );
    const oldBytes = old!.bytes;
    try {
      for await (const _ of attacker.node.services.dht.put(key2, oldBytes, {
        signal: AbortSignal.timeout(10_000),
      }))
        void _;
    } catch {
      // Refused by the peers that know the newer record.
    }
    // It follows: a transfer to it is countersigned by it (at its new address) and it holds the receipt.
    const t = await n1.client.request("tx_transfer", { to: restarted.account, amount: "5", wait: true });
    assert.equal(t.state, "accepted", JSON.stringify(t));
    await until(() => restarted.client.request("tx_receipt", { txId: t.txId }), 10_000, "its receipt");
  });

  it("after the bookkeeper restarts, members reconnect and follow its pulses again", async () => {
    const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node];
    const port = /\/tcp\/(\d+)\//.exec(n0.addr)![1]!;
    const before = (await n3.client.request("node_status")).pulse!;
    await stopDaemon(n0.daemon);
    // The same data dir and port: the bookkeeper's address is the one the members saved.
    nodes[0] = await start(n0.daemon.dataDir, [
      "--auto-approve",
      "member",
      "--listen",
      `/ip4/127.0.0.1/tcp/${port}`,
    ]);
    const t = await until(
      async () => {
        const r = await n1.client.request("tx_transfer", { to: n2.account, amount: "2", wait: true });
        return r.state === "accepted" ? r : undefined;
      },
      30_000,
      "a transfer after the restart",
    );
    await until(() => n2.client.request("tx_receipt", { txId: t.txId }), 15_000, "the payee's receipt");
    await until(
      async () => {
        const s = await n3.client.request("node_status");
        return s.pulse! > before && s.pulse! >= t.pulse! ? s : undefined;
      },
      15_000,
      "a member that sent nothing follows the new pulses",
    );
  });
});
