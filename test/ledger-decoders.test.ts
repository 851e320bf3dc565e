/**
 * Property tests of the ledger decoders (docs/PROTOCOL.md section 8): decodeTx and decodeAccountData
 * on random and mutated bytes only ever throw DecodeError or return a value that re-encodes to exactly
 * the input (one encoding per value), and every valid value of every kind survives encode then decode.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MessageKind } from "../src/crypto/domain.js";
import {
  type AccountData,
  decodeAccountData,
  encodeAccountData,
  Policy,
  Role,
  type Vote,
} from "../src/ledger/account.js";
import {
  type DistributionLine,
  type OrgParams,
  RewardCategory,
  type SignedTx,
  TX_LIMITS,
  type TxBody,
} from "../src/ledger/tx.js";
import { decodeTx, encodeBody, encodeTx, signatureCount } from "../src/ledger/tx-codec.js";
import { MAX_U64 } from "../src/smt/hash.js";
import { textProblem } from "../src/util/text.js";
import { decodes } from "./helpers/decodes.js";
import { bytes, hex, seed } from "./helpers/smt-arbitraries.js";
import { mutateBytes, rng } from "./helpers/tamper.js";

// Show the failing assertion's message in fast-check's report (node's reporter omits error causes).
fc.configureGlobal({ includeErrorInReport: true });

// ---- arbitraries ---------------------------------------------------------------------------------

/** fc.record making ordinary objects: deepEqual compares prototypes, and decoders make plain objects. */
function record<T>(model: { [P in keyof T]: fc.Arbitrary<T[P]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const ZERO_ID = Buffer.alloc(20);
const id = fc.oneof(
  { arbitrary: bytes(20), weight: 4 },
  fc.constant(ZERO_ID),
  fc.constant(Buffer.alloc(20, 0xff)),
);
/** u64 values, biased to the edges (0, 2^53 where Number stops being exact, 2^64 - 1). */
const u64 = fc.oneof(
  fc.bigInt(0n, MAX_U64),
  fc.bigInt(0n, 1000n),
  fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, MAX_U64),
);
const positiveU64 = u64.filter((v) => v > 0n);
const pulse = fc.oneof(fc.maxSafeNat(), fc.nat(1000), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
const u32 = fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 1, 0xffffffff));
const u16 = fc.oneof(fc.nat({ max: 0xffff }), fc.constantFrom(0, 1, 0xffff));

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters text must not hold
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text a field accepts: any code points but controls, cut (by code point) to `maxBytes` of UTF-8. */
function text(maxBytes: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ unit: "binary", maxLength: maxBytes }),
      fc.string({ unit: "grapheme", maxLength: maxBytes }),
      fc.string({ unit: "grapheme-ascii", minLength: maxBytes - 2, maxLength: maxBytes + 2 }),
      fc.constant(""),
    )
    .map((s) => {
      let out = s.replace(CONTROL, "");
      while (Buffer.byteLength(out, "utf8") > maxBytes) out = [...out].slice(0, -1).join("");
      return out;
    })
    .filter((s) => textProblem(s, maxBytes) === undefined);
}

const acting = record({ org: id, actor: id, nonce: u64, expiry: pulse });

const line: fc.Arbitrary<DistributionLine> = record({
  to: id,
  amount: u64,
  reason: text(TX_LIMITS.reason),
});
const params: fc.Arbitrary<OrgParams> = record({
  name: text(TX_LIMITS.name),
  supervisor: id,
  pulsePeriodMs: u32,
  electionCycle: u32,
  publicityPeriod: u32,
  committeeSize: u16,
  minDeposit: u64,
  supply: u64,
  distribution: fc.array(line, { maxLength: 6 }),
  committee: fc.array(id, { maxLength: 4 }),
  miningReward: u64,
});

const K = MessageKind;
const role = fc.constantFrom(Role.None, Role.Applicant, Role.Guest, Role.Member, Role.Supervisor);
const policy = fc.constantFrom(Policy.Countersign, Policy.AcceptAll);
const category = fc.constantFrom(
  RewardCategory.Construction,
  RewardCategory.ContentService,
  RewardCategory.Mining,
  RewardCategory.Operation,
);

/** A valid body of each kind, every field from its whole range. */
const bodies: Record<string, fc.Arbitrary<TxBody>> = {
  genesis: record({ kind: fc.constant(K.Genesis), org: id, params }),
  transfer: fc.tuple(acting, id, u64).map(([a, to, amount]) => ({ kind: K.Transfer, ...a, to, amount })),
  distribute: fc
    .tuple(acting, id, u64, category, text(TX_LIMITS.reason))
    .map(([a, to, amount, category, reason]) => ({ kind: K.Distribute, ...a, to, amount, category, reason })),
  apply: fc.tuple(acting, text(TX_LIMITS.note)).map(([a, note]) => ({ kind: K.Apply, ...a, note })),
  approve: fc
    .tuple(acting, id, fc.constantFrom(Role.Guest, Role.Member))
    .map(([a, applicant, role]) => ({ kind: K.Approve, ...a, applicant, role })),
  setRole: fc
    .tuple(acting, id, fc.constantFrom(Role.None, Role.Guest, Role.Member, Role.Supervisor))
    .map(([a, target, role]) => ({ kind: K.SetRole, ...a, target, role })),
  leave: acting.map((a) => ({ kind: K.Leave, ...a })),
  pledge: fc.tuple(acting, u64).map(([a, amount]) => ({ kind: K.Pledge, ...a, amount })),
  release: fc.tuple(acting, u64).map(([a, amount]) => ({ kind: K.Release, ...a, amount })),
  candidacy: fc
    .tuple(acting, fc.option(bytes(32), { nil: null }))
    .map(([a, commitment]) => ({ kind: K.Candidacy, ...a, declare: commitment !== null, commitment })),
  reveal: fc
    .tuple(acting, u32, bytes(32), bytes(32))
    .map(([a, cycle, secret, next]) => ({ kind: K.Reveal, ...a, cycle, secret, next })),
  vote: fc
    .tuple(
      acting,
      fc.oneof(
        record({ candidate: id, weight: positiveU64 }),
        fc.constant({ candidate: ZERO_ID, weight: 0n }), // a withdrawal
      ),
    )
    .map(([a, v]) => ({ kind: K.Vote, ...a, ...v })),
  setPolicy: fc.tuple(acting, policy).map(([a, policy]) => ({ kind: K.SetPolicy, ...a, policy })),
  reward: fc
    .tuple(id, pulse, fc.array(id, { minLength: 1, maxLength: 4 }))
    .map(([org, pulse, recipients]) => ({ kind: K.Reward, org, pulse, recipients })),
};
const anyBody = fc.oneof(...Object.values(bodies));

const signature = record({ publicKey: bytes(32), signature: bytes(64) });
/** A body with the number of signatures its kind carries (the decoder does not verify them). */
const signedTx: fc.Arbitrary<SignedTx> = anyBody.chain((body) =>
  fc
    .array(signature, {
      minLength: signatureCount(body.kind)[0],
      maxLength: signatureCount(body.kind)[1],
    })
    .map((signatures) => ({ body, signatures })),
);

const vote: fc.Arbitrary<Vote | null> = fc.oneof(
  fc.constant(null),
  record({ candidate: id, weight: positiveU64 }),
);
const accountData: fc.Arbitrary<AccountData> = fc
  .tuple(
    record({ nonce: u64, frozen: u64, deposit: u64, role, policy, vote, updated: pulse }),
    fc.option(bytes(32), { nil: null }),
    fc.option(record({ cycle: u32, secret: bytes(32) }), { nil: null }),
  )
  // A candidate, and only a candidate, holds a commitment.
  .map(([d, commitment, reveal]) => ({ ...d, candidate: commitment !== null, commitment, reveal }));

// ---- checks --------------------------------------------------------------------------------------

/** decodeTx on any bytes: DecodeError, or a value whose encoding is exactly those bytes. */
function checkTxBytes(b: Uint8Array): void {
  const tx = decodes(() => decodeTx(b), "decodeTx");
  if (tx === undefined) return;
  assert.equal(hex(encodeTx(tx)), hex(b), "decoded bytes are canonical");
  assert.equal(hex(encodeBody(tx.body)), hex(tx.bodyBytes), "bodyBytes is the body's encoding");
  assert.equal(hex(tx.id), hex(createHash("sha256").update(tx.bodyBytes).digest()));
}

/** decodeAccountData on any bytes: DecodeError, or a value whose encoding is exactly those bytes. */
function checkDataBytes(b: Uint8Array): void {
  const d = decodes(() => decodeAccountData(b), "decodeAccountData");
  if (d !== undefined) assert.equal(hex(encodeAccountData(d)), hex(b), "decoded bytes are canonical");
}

/**
 * Bytes that get past the header: format 1 (or, rarely, another), a kind around the assigned range,
 * an org, then random bytes, so the fields of every kind are reached.
 */
const headed = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant(1), weight: 9 }, fc.nat(255)),
    fc.integer({ min: 0, max: 0x0f }),
    bytes(20),
    fc.uint8Array({ maxLength: 400, size: "max" }),
  )
  .map(([format, kind, org, rest]) => Buffer.concat([Buffer.from([format, kind]), org, rest]));

describe("ledger decoders: round trips", () => {
  for (const [name, arb] of Object.entries(bodies)) {
    it(`${name}: decode(encode(x)) is x, and the encoding is canonical`, () => {
      fc.assert(
        fc.property(arb, fc.array(signature, { minLength: 2, maxLength: 2 }), (body, sigs) => {
          const signatures = sigs.slice(0, signatureCount(body.kind)[1]);
          const bytes = encodeTx({ body, signatures });
          const tx = decodeTx(bytes);
          assert.deepEqual(tx.body, body);
          assert.deepEqual(tx.signatures, signatures);
          assert.equal(hex(tx.bodyBytes), hex(encodeBody(body)));
          assert.equal(hex(encodeTx(tx)), hex(bytes));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("account data: decode(encode(x)) is x, and the encoding is canonical", () => {
    fc.assert(
      fc.property(accountData, (d) => {
        const b = encodeAccountData(d);
        const optional = (d.vote === null ? 0 : 28) + (d.candidate ? 32 : 0) + (d.reveal === null ? 0 : 36);
        assert.equal(b.length, 38 + optional);
        const back = decodeAccountData(b);
        assert.deepEqual(back, d);
        assert.equal(hex(encodeAccountData(back)), hex(b));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("ledger decoders: garbage in, DecodeError out", () => {
  it("decodeTx: random bytes", () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300, size: "max" }), headed), checkTxBytes), {
      numRuns: 2000,
    });
  });

  it("decodeTx: valid transactions with random mutations", () => {
    fc.assert(
      fc.property(signedTx, seed, (tx, s) => checkTxBytes(mutateBytes(encodeTx(tx), rng(s)))),
      { numRuns: 2000 },
    );
  });

  it("decodeTx: valid transactions with one byte replaced", () => {
    fc.assert(
      fc.property(signedTx, fc.nat(), fc.nat(255), (tx, at, v) => {
        const b = encodeTx(tx);
        b[at % b.length] = v;
        checkTxBytes(b);
      }),
      { numRuns: 1000 },
    );
  });

  it("decodeAccountData: random bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100, size: "max" }),
          fc.uint8Array({ minLength: 36, maxLength: 66 }).map((b) => Buffer.concat([Buffer.from([1]), b])),
        ),
        checkDataBytes,
      ),
      { numRuns: 2000 },
    );
  });

  it("decodeAccountData: valid encodings with random mutations or one byte replaced", () => {
    fc.assert(
      fc.property(accountData, seed, fc.nat(), fc.nat(255), (d, s, at, v) => {
        const b = encodeAccountData(d);
        checkDataBytes(mutateBytes(b, rng(s)));
        b[at % b.length] = v;
        checkDataBytes(b);
      }),
      { numRuns: 2000 },
    );
  });
});
