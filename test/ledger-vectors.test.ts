/**
 * The ledger message vectors of docs/PROTOCOL.md section 8 (test/vectors/ledger-messages.json),
 * checked byte for byte: account data and its dataHash, one transaction of every kind with its id,
 * signing payload and signatures, a scenario replayed on a fresh Ledger, and encodings every decoder
 * must reject. The file is written by test/helpers/gen-ledger-vectors.ts.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { accountId } from "../src/crypto/account-id.js";
import { MessageKind, SIGNING_TAG, signingPayload } from "../src/crypto/domain.js";
import { generateKeyPair, Verifier } from "../src/crypto/ed25519.js";
import {
  type AccountData,
  accountDataHash,
  decodeAccountData,
  encodeAccountData,
} from "../src/ledger/account.js";
import { Bucket, bucketRange, dataKey, metaKey } from "../src/ledger/keys.js";
import { Ledger } from "../src/ledger/ledger.js";
import { MemoryKV } from "../src/ledger/memory-kv.js";
import type { TxBody } from "../src/ledger/tx.js";
import { decodeTx, encodeBody, encodeTx, signerIds } from "../src/ledger/tx-codec.js";
import { DecodeError } from "../src/util/bytes.js";

interface VKey {
  name: string;
  seed: string;
  publicKey: string;
  id: string;
}
interface VAccountData {
  name: string;
  data: Record<string, unknown>;
  hex: string;
  dataHash: string;
}
interface VTx {
  name: string;
  kind: number;
  body: Record<string, unknown>;
  bodyHex: string;
  id: string;
  signingPayload: string;
  signers: string[];
  hex: string;
}
type VResult =
  | { txId: string | null; ok: true; position: number }
  | { txId: string | null; ok: false; reason: string };
interface VPulse {
  pulse: number;
  /** The candidates a forfeit due in the pulse must name; null: no forfeit due. */
  withheld: string[] | null;
  txs: { note: string; hex: string }[];
  results: VResult[];
  issued: string;
  root: { hash: string; sum: string; count: number };
  accounts: {
    name: string;
    id: string;
    account: { amount: string; data: string; dataHash: string } | null;
  }[];
}
interface Vectors {
  keys: VKey[];
  accountData: VAccountData[];
  transactions: VTx[];
  scenario: { committee: string[]; pulses: VPulse[] };
  invalid: { decoder: "tx" | "accountData"; reason: string; hex: string }[];
}

const vectors: Vectors = JSON.parse(
  readFileSync(new URL("../../test/vectors/ledger-messages.json", import.meta.url), "utf8"),
);

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s, "hex");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();

// The JSON form names its u64 and id fields; everything else (numbers, booleans, text) is as is.
const U64_FIELDS = new Set([
  "nonce",
  "amount",
  "weight",
  "minDeposit",
  "supply",
  "frozen",
  "deposit",
  "miningReward",
]);
const ID_FIELDS = new Set(["org", "actor", "to", "applicant", "target", "supervisor", "candidate"]);
// Lists of account ids: a genesis committee, a reward's recipients, a forfeit's candidates.
const ID_LIST_FIELDS = new Set(["committee", "recipients", "candidates"]);
// 32-byte election fields: a commitment, a revealed secret, a reveal's next commitment.
const BYTES_FIELDS = new Set(["commitment", "secret", "next"]);

/** A body or account data from its JSON form (the inverse of the generator's, written separately). */
function fromJson(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => (ID_LIST_FIELDS.has(key) ? unhex(x as string) : fromJson(x)));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x, k)]));
  // An account's `candidate` is a boolean, a vote's a 20-byte id: only strings are converted.
  if (typeof v === "string" && (ID_FIELDS.has(key) || BYTES_FIELDS.has(key))) return unhex(v);
  if (typeof v === "string" && U64_FIELDS.has(key)) return BigInt(v);
  return v;
}

describe("ledger vectors: keys", () => {
  it("each key is the ed25519 key pair of its seed; its id is SHA-256(public key)[0:20]", () => {
    for (const k of vectors.keys) {
      const kp = generateKeyPair(unhex(k.seed));
      assert.equal(hex(kp.publicKey), k.publicKey, k.name);
      assert.equal(hex(kp.id), k.id, k.name);
      assert.equal(hex(sha256(kp.publicKey).subarray(0, 20)), k.id, k.name);
    }
  });
});

describe("ledger vectors: account data v1", () => {
  for (const v of vectors.accountData) {
    it(v.name, () => {
      const data = fromJson(v.data) as AccountData;
      assert.equal(hex(encodeAccountData(data)), v.hex, "encoding of the JSON value");
      const decoded = decodeAccountData(unhex(v.hex));
      assert.deepEqual(decoded, data, "decoded value");
      assert.equal(hex(encodeAccountData(decoded)), v.hex, "decode then encode gives the same bytes");
      assert.equal(hex(accountDataHash(unhex(v.hex))), v.dataHash);
      assert.equal(hex(sha256(unhex(v.hex))), v.dataHash, "dataHash = SHA-256 of the encoding");
      const optional =
        (data.vote === null ? 0 : 28) + (data.commitment === null ? 0 : 32) + (data.reveal === null ? 0 : 36);
      assert.equal(unhex(v.hex).length, 38 + optional);
    });
  }
});

describe("ledger vectors: transactions", () => {
  const verifier = new Verifier();

  it("there is a vector of every kind", () => {
    assert.deepEqual(
      [...new Set(vectors.transactions.map((v) => v.kind))].sort((a, b) => a - b),
      Object.values(MessageKind).sort((a, b) => a - b),
    );
  });

  for (const v of vectors.transactions) {
    it(v.name, () => {
      const body = fromJson(v.body) as TxBody;
      assert.equal(body.kind, v.kind);
      assert.equal(hex(encodeBody(body)), v.bodyHex, "body encoding of the JSON value");
      const tx = decodeTx(unhex(v.hex));
      assert.deepEqual(tx.body, body, "decoded body");
      assert.equal(hex(tx.bodyBytes), v.bodyHex);
      assert.equal(v.hex.startsWith(v.bodyHex), true, "the body comes first");
      assert.equal(hex(encodeTx(tx)), v.hex, "decode then encode gives the same bytes");
      // Header: format 1, the kind, the organization.
      assert.deepEqual([...tx.bodyBytes.subarray(0, 2)], [1, v.kind]);
      assert.equal(hex(tx.bodyBytes.subarray(2, 22)), hex(body.org));
      // The id covers the body only.
      assert.equal(hex(tx.id), v.id);
      assert.equal(hex(sha256(unhex(v.bodyHex))), v.id);
      // What is signed: "LEITHER\0" then the body.
      assert.equal(hex(SIGNING_TAG), "4c45495448455200");
      assert.equal(v.signingPayload, `4c45495448455200${v.bodyHex}`);
      assert.equal(hex(signingPayload(tx.bodyBytes)), v.signingPayload);
      assert.deepEqual(
        tx.signatures.map((s) => hex(s.publicKey)),
        v.signers,
      );
      const must = signerIds(tx.body);
      tx.signatures.forEach((s, i) => {
        assert.equal(hex(accountId(s.publicKey)), hex(must[i]!), `signer ${i} is the account it must be`);
        assert.ok(verifier.verify(s.signature, unhex(v.signingPayload), s.publicKey), `signature ${i}`);
        assert.ok(
          !verifier.verify(s.signature, tx.bodyBytes, s.publicKey),
          "not a signature of the bare body",
        );
      });
    });
  }

  it("the genesis body ends with the committee (u16 count, the ids in their order), then the u64 mining reward", () => {
    const v = vectors.transactions.find((t) => t.kind === MessageKind.Genesis)!;
    const params = v.body.params as { committee: string[]; miningReward: string };
    const ids = params.committee;
    assert.ok(ids.length >= 2, "the vector names a committee of several");
    assert.notEqual(params.miningReward, "0", "the vector pays a mining reward");
    const count = ids.length.toString(16).padStart(4, "0");
    const reward = BigInt(params.miningReward).toString(16).padStart(16, "0");
    assert.ok(v.bodyHex.endsWith(`${count}${ids.join("")}${reward}`));
  });

  it("a reward is org, pulse, u16 count and the recipients, with no signature", () => {
    const v = vectors.transactions.find((t) => t.kind === MessageKind.Reward)!;
    const b = v.body as { org: string; pulse: number; recipients: string[] };
    const count = b.recipients.length.toString(16).padStart(4, "0");
    const pulse = b.pulse.toString(16).padStart(16, "0");
    assert.equal(v.bodyHex, `010e${b.org}${pulse}${count}${b.recipients.join("")}`);
    assert.equal(v.hex, `${v.bodyHex}00`, "a signature count of 0");
    assert.deepEqual(v.signers, []);
  });

  it("a forfeit is org, u32 cycle, u16 count and the candidates ascending, with no signature", () => {
    const v = vectors.transactions.find((t) => t.kind === MessageKind.Forfeit)!;
    const b = v.body as { org: string; cycle: number; candidates: string[] };
    assert.ok(b.candidates.length >= 2, "the vector names several");
    assert.deepEqual([...b.candidates].sort(), b.candidates, "ascending");
    const count = b.candidates.length.toString(16).padStart(4, "0");
    const cycle = b.cycle.toString(16).padStart(8, "0");
    assert.equal(v.bodyHex, `010f${b.org}${cycle}${count}${b.candidates.join("")}`);
    assert.equal(v.hex, `${v.bodyHex}00`, "a signature count of 0");
    assert.deepEqual(v.signers, []);
  });
});

describe("ledger vectors: strict ed25519", () => {
  it("a signature whose S is raised by the group order L does not verify", () => {
    const v = vectors.transactions[0]!;
    const tx = decodeTx(unhex(v.hex));
    const sig = tx.signatures[0]!;
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    // S is the signature's second half, little-endian; S + L < 2^253 still fits its 32 bytes.
    const s = BigInt(`0x${hex(Buffer.from(sig.signature.subarray(32)).reverse())}`);
    const raised = Buffer.from((s + L).toString(16).padStart(64, "0"), "hex").reverse();
    const forged = Buffer.concat([sig.signature.subarray(0, 32), raised]);
    const verifier = new Verifier();
    assert.ok(verifier.verify(sig.signature, unhex(v.signingPayload), sig.publicKey));
    assert.ok(!verifier.verify(forged, unhex(v.signingPayload), sig.publicKey));
  });
});

describe("ledger vectors: invalid encodings", () => {
  for (const v of vectors.invalid) {
    it(`${v.decoder}: rejects ${v.reason}`, () => {
      const b = unhex(v.hex);
      assert.throws(() => (v.decoder === "tx" ? decodeTx(b) : decodeAccountData(b)), DecodeError);
    });
  }
});

/** Replays the scenario on `kv`, checking each pulse against the vectors. */
async function replay(kv: MemoryKV, ledger: Ledger): Promise<void> {
  for (const p of vectors.scenario.pulses) {
    const out = await ledger.applyPulse(
      p.pulse,
      p.txs.map((t) => unhex(t.hex)),
      {
        proofs: false,
        committee: vectors.scenario.committee.map(unhex),
        ...(p.withheld === null ? {} : { withheld: p.withheld.map(unhex) }),
      },
    );
    const results = out.results.map((r) => {
      const txId = r.txId === undefined ? null : hex(r.txId);
      return r.ok ? { txId, ok: true, position: r.position } : { txId, ok: false, reason: r.reason };
    });
    assert.deepEqual(results, p.results, `verdicts of pulse ${p.pulse}`);
    assert.deepEqual(
      { hash: hex(out.root.hash), sum: out.root.sum.toString(), count: out.root.count },
      p.root,
      `root of pulse ${p.pulse}`,
    );
    assert.equal(out.issued.toString(), p.issued);
    for (const a of p.accounts) {
      const acc = ledger.account(unhex(a.id));
      if (a.account === null) {
        assert.equal(acc, undefined, `${a.name} has no leaf after pulse ${p.pulse}`);
        continue;
      }
      assert.ok(acc !== undefined, `${a.name} has a leaf after pulse ${p.pulse}`);
      const data = encodeAccountData(acc);
      assert.deepEqual(
        { amount: acc.amount.toString(), data: hex(data), dataHash: hex(sha256(data)) },
        a.account,
        `${a.name} after pulse ${p.pulse}`,
      );
      // The store keeps the data under DATA | id | dataHash.
      assert.equal(hex(kv.getSync(dataKey(unhex(a.id), unhex(a.account.dataHash)))!), a.account.data);
    }
  }
}

describe("ledger vectors: scenario", () => {
  it("a fresh ledger gives the recorded verdicts, roots and accounts", async () => {
    const kv = new MemoryKV();
    const ledger = await Ledger.open(kv, { sync: false });
    await replay(kv, ledger);
    // META "genesis" holds the accepted genesis transaction as submitted.
    const genesis = vectors.scenario.pulses[0]!.txs.find((t) => decodeKind(t.hex) === MessageKind.Genesis)!;
    assert.equal(hex(kv.getSync(metaKey("genesis"))!), genesis.hex);
    // Every DATA entry is keyed by its id and its own SHA-256, and decodes.
    for await (const [k, val] of kv.entries(bucketRange(Bucket.Data))) {
      assert.equal(k.length, 53);
      assert.equal(hex(k.subarray(21)), hex(sha256(val)));
      decodeAccountData(val);
    }
    // Reopened (on a copy: a closed MemoryKV stays closed), the ledger knows its organization again.
    const copy = new MemoryKV();
    for await (const [k, val] of kv.entries({ gte: Buffer.alloc(0), lt: Buffer.from([0xff]) }))
      await copy.write([{ type: "put", key: k, value: val }]);
    await ledger.close();
    const again = await Ledger.open(copy, { sync: false });
    assert.equal(hex(again.rootAt().hash), vectors.scenario.pulses.at(-1)!.root.hash);
    assert.equal(hex(again.org!.id), vectors.keys.find((k) => k.name === "org")!.id);
    await again.close();
  });

  it("pruning with keepLast 1 leaves exactly the current data of each account", async () => {
    const kv = new MemoryKV();
    // The bare policy: no election snapshot held (the scenario's draw is still to come).
    const ledger = await Ledger.open(kv, {
      sync: false,
      retention: { keepLast: 1 },
      holdDrawSnapshot: false,
    });
    await replay(kv, ledger);
    await ledger.pruneAll();
    const last = vectors.scenario.pulses.at(-1)!;
    const want = last.accounts
      .filter((a) => a.account !== null)
      .map((a) => hex(dataKey(unhex(a.id), unhex(a.account!.dataHash))))
      .sort();
    const have: string[] = [];
    for await (const [k] of kv.entries(bucketRange(Bucket.Data))) have.push(hex(k));
    assert.deepEqual(have, want);
    const stale: string[] = [];
    for await (const [k] of kv.entries(bucketRange(Bucket.Stale))) stale.push(hex(k));
    assert.deepEqual(stale, [], "no STALE entry is left");
    await ledger.close();
  });
});

function decodeKind(h: string): number | undefined {
  try {
    return decodeTx(unhex(h)).body.kind;
  } catch {
    return undefined;
  }
}
