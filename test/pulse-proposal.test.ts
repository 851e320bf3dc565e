import assert from "node:assert/strict";
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Signer } from "../src/crypto/ed25519.js";
import {
  batchHashOf,
  decodeProposal,
  encodeProposal,
  PROPOSAL_MAX_BYTES,
  PROPOSAL_MAX_TX_BYTES,
  proposalIdOf,
  valueIdOf,
} from "../src/pulse/proposal.js";
import { Step, signVote } from "../src/pulse/votes.js";
import { DecodeError } from "../src/util/bytes.js";
import { decodes } from "./helpers/decodes.js";
import { namedKey } from "./helpers/named-keys.js";
import { mutateBytes, rng } from "./helpers/tamper.js";

interface RootJson {
  hash: string;
  sum: string;
  count: number;
}
/** The proposals of test/vectors/consensus.json (written by test/helpers/gen-consensus-vectors.ts). */
interface ConsensusVectors {
  org: string;
  keys: { name: string; seed: string; publicKey: string; id: string }[];
  proposals: {
    name: string;
    proposer: string;
    fields: {
      pulse: number;
      round: number;
      validRound: number;
      root: RootJson;
      next: string;
      txs: string[];
    };
    batchHash: string;
    valueId: string;
    proposalId: string;
    hex: string;
  }[];
}
const V = JSON.parse(
  readFileSync(new URL("../../test/vectors/consensus.json", import.meta.url), "utf8"),
) as ConsensusVectors;
const org = Buffer.from(V.org, "hex");
const signerOf = (name: string): Signer => {
  const k = V.keys.find((x) => x.name === name)!;
  return namedKey(name, Buffer.from(k.seed, "hex")[0]!).signer;
};
const fieldsOf = (p: ConsensusVectors["proposals"][number]) => ({
  org,
  pulse: p.fields.pulse,
  round: p.fields.round,
  validRound: p.fields.validRound,
  root: {
    hash: Buffer.from(p.fields.root.hash, "hex"),
    sum: BigInt(p.fields.root.sum),
    count: p.fields.root.count,
  },
  next: Buffer.from(p.fields.next, "hex"),
  txs: p.fields.txs.map((t) => Buffer.from(t, "hex")),
});
const sha256 = (...parts: Buffer[]) => hash("sha256", Buffer.concat(parts), "buffer");
const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const a = signerOf("bookkeeper a");
const fresh = fieldsOf(V.proposals[0]!);
const refused = (bytes: Uint8Array, why: RegExp, what = "") =>
  assert.throws(
    () => decodeProposal(bytes),
    (e: unknown) => e instanceof DecodeError && why.test(e.message),
    what,
  );

/** A proposal assembled by hand: any vote and any fields after it (`next` the first vector's unless given). */
function assemble(
  vote: Buffer,
  validRound: number,
  root: Buffer,
  sum: bigint,
  txs: Buffer[],
  next: Buffer = fresh.next,
  count: number = fresh.root.count,
): Buffer {
  return Buffer.concat([
    Buffer.of(1, 0x48),
    vote,
    u32(validRound === -1 ? 0xffffffff : validRound),
    root,
    u64(sum),
    u64(BigInt(count)),
    next,
    u32(txs.length),
    ...txs.flatMap((t) => [u32(t.length), t]),
  ]);
}

describe("proposals", () => {
  it("encode and decode as the vectors say; the hashes are the documented ones", () => {
    for (const v of V.proposals) {
      const f = fieldsOf(v);
      const bytes = encodeProposal(f, signerOf(v.proposer));
      assert.equal(bytes.toString("hex"), v.hex, v.name);
      const d = decodeProposal(bytes);
      assert.deepEqual(
        [d.org, d.pulse, d.round, d.validRound, d.root, d.next, d.txs],
        [org, f.pulse, f.round, f.validRound, f.root, f.next, f.txs],
      );
      assert.equal(d.signer.toString("hex"), V.keys.find((k) => k.name === v.proposer)!.id);
      assert.deepEqual(d.vote, bytes.subarray(2, 165));
      assert.deepEqual(d.bytes, bytes);
      // From the text of docs/PROTOCOL.md §13.1, not from the code.
      const batch = sha256(Buffer.from("LEITHER\0batch"), ...f.txs.flatMap((t) => [u32(t.length), t]));
      const value = sha256(
        Buffer.from("LEITHER\0value"),
        org,
        u64(BigInt(f.pulse)),
        f.root.hash,
        u64(f.root.sum),
        u64(BigInt(f.root.count)),
        batch,
        f.next,
      );
      const vr = f.validRound === -1 ? 0xffffffff : f.validRound;
      const id = sha256(Buffer.from("LEITHER\0proposal"), value, u32(vr));
      assert.deepEqual([d.batchHash, d.valueId], [batch, value]);
      assert.deepEqual(
        [v.batchHash, v.valueId, v.proposalId],
        [batch, value, id].map((b) => b.toString("hex")),
      );
      assert.deepEqual([batchHashOf(f.txs), valueIdOf(org, f.pulse, f.root, batch, f.next)], [batch, value]);
      assert.deepEqual(proposalIdOf(value, f.validRound), id);
      // The vote signs the proposal's id, as a propose vote.
      assert.equal(bytes[2 + 34], Step.Propose);
      assert.deepEqual(bytes.subarray(2 + 35, 2 + 67), id);
    }
  });

  it("a value re-proposed in a later round keeps its value id, not its proposal id", () => {
    const [p0, p2] = [V.proposals[0]!, V.proposals[1]!];
    assert.equal(p0.valueId, p2.valueId);
    assert.notEqual(p0.proposalId, p2.proposalId);
    assert.equal(decodeProposal(Buffer.from(p2.hex, "hex")).validRound, 1);
  });

  it("a changed byte anywhere is refused", () => {
    for (const v of V.proposals) {
      const b = Buffer.from(v.hex, "hex");
      for (let i = 0; i < b.length; i++)
        for (const mask of [0x01, 0x80]) {
          const t = Buffer.from(b);
          t[i]! ^= mask;
          assert.throws(() => decodeProposal(t), DecodeError, `${v.name}: byte ${i} ^ ${mask}`);
        }
      assert.throws(() => decodeProposal(b.subarray(0, b.length - 1)), DecodeError);
      assert.throws(() => decodeProposal(Buffer.concat([b, Buffer.of(0)])), /trailing/);
    }
  });

  it("changed transactions, root or validRound under a kept signature are refused", () => {
    const b = Buffer.from(V.proposals[0]!.hex, "hex");
    const vote = b.subarray(2, 165);
    const { root, txs } = fresh;
    const notOurs = /not for this batch, root, next committee and validRound/;
    const tx0 = Buffer.from(txs[0]!);
    tx0[0]! ^= 1;
    refused(assemble(vote, -1, root.hash, root.sum, [tx0, txs[1]!, txs[2]!]), notOurs, "a tx changed");
    refused(assemble(vote, -1, root.hash, root.sum, txs.slice(0, 2)), notOurs, "a tx dropped");
    refused(assemble(vote, -1, root.hash, root.sum, [...txs, txs[0]!]), notOurs, "a tx added");
    refused(assemble(vote, -1, root.hash, root.sum, [txs[2]!, txs[1]!, txs[0]!]), notOurs, "reordered");
    refused(assemble(vote, -1, root.hash, root.sum, [Buffer.concat(txs)]), notOurs, "txs joined");
    refused(assemble(vote, -1, root.hash, root.sum + 1n, txs), notOurs, "root sum");
    refused(assemble(vote, -1, Buffer.alloc(32), root.sum, txs), notOurs, "root hash");
    refused(assemble(vote, -1, root.hash, root.sum, txs, fresh.next, root.count + 1), notOurs, "root count");
    const otherNext = Buffer.from(V.proposals[2]!.fields.next, "hex");
    assert.notDeepEqual(otherNext, fresh.next);
    refused(assemble(vote, -1, root.hash, root.sum, txs, otherNext), notOurs, "next committee");
    // The round-2 proposal's vote on the round-0 proposal's fields with another validRound.
    const later = Buffer.from(V.proposals[1]!.hex, "hex").subarray(2, 165);
    refused(assemble(later, 0, root.hash, root.sum, txs), notOurs, "validRound 1 -> 0");
    refused(assemble(later, -1, root.hash, root.sum, txs), notOurs, "validRound 1 -> -1");
    assert.ok(decodeProposal(assemble(later, 1, root.hash, root.sum, txs)));
  });

  it("validRound is -1 or a round before the proposal's", () => {
    for (const [round, validRound] of [
      [0, 0],
      [3, 3],
      [3, 4],
      [3, -2],
      [3, 1.5],
      [0, 0xffffffff],
    ] as const)
      assert.throws(
        () => encodeProposal({ ...fresh, round, validRound }, a),
        RangeError,
        `${round}/${validRound}`,
      );
    for (const [round, validRound] of [
      [5, -1],
      [5, 0],
      [5, 4],
    ] as const)
      assert.equal(decodeProposal(encodeProposal({ ...fresh, round, validRound }, a)).validRound, validRound);
    // Signed by the proposer, yet the rule is broken: refused on decode too.
    const value = valueIdOf(org, 42, fresh.root, batchHashOf(fresh.txs), fresh.next);
    for (const [round, vr] of [
      [0, 0],
      [2, 2],
      [2, 7],
    ] as const) {
      const vote = signVote({ org, pulse: 42, round, step: Step.Propose, value: proposalIdOf(value, vr) }, a);
      refused(
        assemble(vote, vr, fresh.root.hash, fresh.root.sum, fresh.txs),
        /validRound \d+ is not before round/,
      );
    }
  });

  it("the vote must be a propose vote", () => {
    const id = proposalIdOf(valueIdOf(org, 42, fresh.root, batchHashOf(fresh.txs), fresh.next), -1);
    for (const step of [Step.Prevote, Step.Precommit]) {
      const vote = signVote({ org, pulse: 42, round: 0, step, value: id }, a);
      refused(assemble(vote, -1, fresh.root.hash, fresh.root.sum, fresh.txs), /not propose/);
    }
    refused(Buffer.from(V.proposals[0]!.hex, "hex").fill(0x46, 1, 2), /is not a proposal/);
  });

  it("bounds: sizes are checked before anything is allocated for them", () => {
    const vote = Buffer.from(V.proposals[2]!.hex, "hex").subarray(2, 165);
    const last = fieldsOf(V.proposals[2]!);
    const head = assemble(vote, -1, last.root.hash, last.root.sum, [], last.next, last.root.count).subarray(
      0,
      -4,
    );
    refused(Buffer.concat([head, u32(0xffffffff)]), /count 4294967295 exceeds/);
    refused(Buffer.concat([head, u32(1), u32(0xffffffff)]), /over 65536/);
    refused(
      Buffer.concat([head, u32(1), u32(PROPOSAL_MAX_TX_BYTES + 1), Buffer.alloc(PROPOSAL_MAX_TX_BYTES + 1)]),
      /over 65536/,
    );
    refused(Buffer.concat([head, u32(2), u32(0), u32(5)]), /truncated/);
    assert.throws(() => decodeProposal(Buffer.alloc(PROPOSAL_MAX_BYTES + 1)), /over the limit/);
    const ok = Buffer.from(V.proposals[0]!.hex, "hex");
    assert.throws(() => decodeProposal(ok, { maxBytes: ok.length - 1 }), /over the limit/);
    assert.ok(decodeProposal(ok, { maxBytes: ok.length }));
    // The largest transaction passes; one byte more is refused on encode too.
    const big = { ...fresh, txs: [Buffer.alloc(PROPOSAL_MAX_TX_BYTES, 7)] };
    assert.equal(decodeProposal(encodeProposal(big, a)).txs[0]!.length, PROPOSAL_MAX_TX_BYTES);
    assert.throws(
      () => encodeProposal({ ...fresh, txs: [Buffer.alloc(PROPOSAL_MAX_TX_BYTES + 1)] }, a),
      RangeError,
    );
    const many = Array.from({ length: 129 }, () => Buffer.alloc(PROPOSAL_MAX_TX_BYTES));
    assert.throws(() => encodeProposal({ ...fresh, txs: many }, a), /over the limit/);
  });

  it("encode refuses fields out of range", () => {
    assert.throws(() => encodeProposal({ ...fresh, org: Buffer.alloc(19) }, a), RangeError);
    assert.throws(
      () => encodeProposal({ ...fresh, root: { hash: Buffer.alloc(31), sum: 0n, count: 0 } }, a),
      RangeError,
    );
    assert.throws(
      () => encodeProposal({ ...fresh, root: { hash: Buffer.alloc(32), sum: -1n, count: 0 } }, a),
      RangeError,
    );
    assert.throws(
      () => encodeProposal({ ...fresh, root: { hash: Buffer.alloc(32), sum: 1n << 64n, count: 0 } }, a),
      RangeError,
    );
    assert.throws(() => encodeProposal({ ...fresh, next: Buffer.alloc(31) }, a), /next committee hash/);
    assert.throws(() => encodeProposal({ ...fresh, pulse: -1 }, a), RangeError);
    assert.throws(() => encodeProposal({ ...fresh, round: 2 ** 32, validRound: -1 }, a), RangeError);
  });

  it("any bytes, and any mutation of a proposal, decode or fail with DecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        decodes(() => decodeProposal(b), "random bytes");
      }),
    );
    const b = Buffer.from(V.proposals[0]!.hex, "hex");
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const m = mutateBytes(b, rng(seed));
        const d = decodes(() => decodeProposal(m), "mutated");
        if (d !== undefined) assert.deepEqual(m, b);
      }),
    );
  });
});
