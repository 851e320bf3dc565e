/**
 * Random operations for the ledger properties (fast-check), and the builder that signs them as a
 * batch for a chain's next pulse, some spoiled on purpose (bad signature, wrong key, duplicate,
 * another copy of the body, trailing garbage).
 */
import fc from "fast-check";
import type { Signer } from "../../src/crypto/ed25519.js";
import { Policy, Role } from "../../src/ledger/account.js";
import { type BatchItem, transition } from "../../src/ledger/state-machine.js";
import { isActing, type RewardCategory, TxKind } from "../../src/ledger/tx.js";
import { countersign, decodeTx, encodeTx } from "../../src/ledger/tx-codec.js";
import { type Chain, society } from "./ledger-chain.js";
import { type ActOpts, badSignature, type Cast, hex, makeCast, type Txs } from "./ledger-signers.js";

/** The kinds of random operations. */
export const OP_KINDS = [
  "transfer",
  "distribute",
  "apply",
  "approve",
  "setRole",
  "leave",
  "pledge",
  "release",
  "candidacy",
  "vote",
  "policy",
] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** How a random operation's bytes are spoiled. */
export type Mutation = "none" | "badSig" | "wrongKey" | "dup" | "copy" | "garbage";

/** A random operation; indices are into `cast.all`. */
export interface Op {
  readonly kind: OpKind;
  readonly actor: number;
  /** Payee, applicant, target or candidate. */
  readonly other: number;
  /** Amount or vote weight. */
  readonly amount: bigint;
  /** Role, policy, declare or countersign, by kind. */
  readonly flag: number;
  /** Added to the nonce that would be right (as far as a dry run of the batch so far tells). */
  readonly nonceDelta: number;
  /** Expiry relative to the pulse: below 0 is expired. */
  readonly expiryDelta: number;
  readonly mutation: Mutation;
}

const SUPERVISOR_KINDS: readonly OpKind[] = ["distribute", "approve", "setRole"];

/** Random operations over a cast of `actors` (`cast.all.length`). */
export function opArb(o: {
  actors: number;
  kinds?: readonly OpKind[];
  /** Spoil some: all the ways (true), or only these. */
  mutations?: boolean | readonly Mutation[];
  maxAmount?: bigint;
}): fc.Arbitrary<Op> {
  const idx = fc.integer({ min: 0, max: o.actors - 1 });
  const amount = fc.oneof(
    { weight: 1, arbitrary: fc.constant(0n) },
    { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 60n }) },
    { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: o.maxAmount ?? 3000n }) },
  );
  const ways: readonly Mutation[] =
    o.mutations === true ? ["badSig", "wrongKey", "dup", "copy", "garbage"] : o.mutations || [];
  // About one operation in 30 is spoiled in each way.
  const mutation = fc.constantFrom<Mutation>(...Array<Mutation>(30).fill("none"), ...ways);
  return fc.constantFrom(...(o.kinds ?? OP_KINDS)).chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      // Supervisor-only kinds mostly come from the supervisor (index 1), else they all fail alike.
      actor: SUPERVISOR_KINDS.includes(kind)
        ? fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: idx })
        : idx,
      other: idx,
      amount,
      flag: fc.nat(11),
      nonceDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1),
      expiryDelta: fc.constantFrom(0, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, -1, -3),
      mutation,
    }),
  );
}

/** Roles a SetRole may name (the encoding refuses Applicant). */
const SET_ROLES = [Role.None, Role.Guest, Role.Member, Role.Supervisor] as const;

/**
 * Signs random operations as a batch for the chain's next pulse. An operation's nonce is its actor's
 * account nonce + 1 + the number of the actor's earlier operations in the batch that would pass (a
 * dry run of the pure transition on the batch so far), + nonceDelta: so most follow on, and a
 * failure does not doom the rest of its actor's batch.
 */
export function buildBatch(chain: Chain, cast: Cast, ops: readonly Op[]): Buffer[] {
  const pulse = chain.next;
  const n = cast.all.length;
  const out: Buffer[] = [];
  const items: BatchItem[] = [];
  const actors = new Set<string>();
  const passing = (actor: Buffer): bigint => {
    if (!actors.has(hex(actor))) return 0n; // no earlier operation: spare the dry run
    let k = 0n;
    transition(chain.ledger, pulse, items).results.forEach((r, i) => {
      const b = items[i]!.tx.body;
      if (r.ok && isActing(b) && b.actor.equals(actor)) k++;
    });
    return k;
  };
  for (const op of ops) {
    const actor = cast.all[op.actor % n]!;
    const other = cast.all[op.other % n]!;
    const right = chain.nonce(actor) + passing(actor.id);
    actors.add(hex(actor.id));
    const nonce = right + BigInt(op.nonceDelta) < 0n ? 0n : right + BigInt(op.nonceDelta);
    const opts: ActOpts = { expiry: Math.max(0, pulse + op.expiryDelta) };
    if (op.mutation === "wrongKey") opts.signers = [cast.all[(op.actor + 1) % n]!];
    let bytes = signOp(chain.txs, op, actor, other, nonce, opts);
    if (op.mutation === "badSig") bytes = badSignature(bytes);
    if (op.mutation === "garbage") bytes = Buffer.concat([bytes, Buffer.from([0])]);
    out.push(bytes);
    if (op.mutation === "dup") out.push(bytes);
    const copy = op.mutation === "copy" ? otherCopy(bytes, other) : undefined;
    if (copy !== undefined) out.push(copy.bytes);
    if (op.mutation === "garbage") continue;
    const check =
      op.mutation === "badSig" ? "BAD_SIGNATURE" : op.mutation === "wrongKey" ? "KEY_MISMATCH" : "OK";
    items.push({ tx: decodeTx(bytes), check });
    if (op.mutation === "dup") items.push({ tx: decodeTx(bytes), check });
    if (copy !== undefined) items.push({ tx: decodeTx(copy.bytes), check: copy.check });
  }
  return out;
}

/**
 * Another copy of a transaction's body (same id): a transfer with the payee's signature added or
 * taken off, anything else with a bad signature.
 */
function otherCopy(bytes: Buffer, payee: Signer): { bytes: Buffer; check: "OK" | "BAD_SIGNATURE" } {
  const tx = decodeTx(bytes);
  if (tx.body.kind !== TxKind.Transfer || !tx.body.to.equals(payee.id))
    return { bytes: badSignature(bytes), check: "BAD_SIGNATURE" };
  if (tx.signatures.length === 2)
    return { bytes: encodeTx({ body: tx.body, signatures: [tx.signatures[0]!] }), check: "OK" };
  return { bytes: countersign(bytes, payee), check: "OK" };
}

function signOp(t: Txs, op: Op, actor: Signer, other: Signer, nonce: bigint, o: ActOpts): Buffer {
  switch (op.kind) {
    case "transfer":
      if (op.flag % 4 !== 0 && o.signers === undefined) o.cosign = other;
      return t.transfer(actor, other, op.amount, nonce, o);
    case "distribute":
      return t.act(
        actor,
        nonce,
        {
          kind: TxKind.Distribute,
          to: other.id,
          amount: op.amount,
          category: (1 + (op.flag % 4)) as RewardCategory,
          reason: "random",
        },
        o,
      );
    case "apply":
      return t.apply(actor, nonce, o);
    case "approve":
      return t.approve(actor, other, op.flag % 2 === 0 ? Role.Member : Role.Guest, nonce, o);
    case "setRole":
      return t.setRole(actor, other, SET_ROLES[op.flag % 4]!, nonce, o);
    case "leave":
      return t.leave(actor, nonce, o);
    case "pledge":
      return t.pledge(actor, op.amount, nonce, o);
    case "release":
      return t.release(actor, op.amount, nonce, o);
    case "candidacy":
      return t.candidacy(actor, op.flag % 3 !== 0, nonce, o);
    case "vote":
      return t.vote(actor, op.amount === 0n ? null : other, op.amount, nonce, o);
    case "policy":
      return t.setPolicy(actor, op.flag % 2 === 0 ? Policy.AcceptAll : Policy.Countersign, nonce, o);
  }
}

/**
 * A society (9 users, fixed amounts) that then applies `runs` random mixed batches of `minOps` to
 * `maxOps` operations drawn from `seed`: the same pulses every time. The chain's log replays them.
 */
export async function randomSociety(o: {
  seed: number;
  runs: number;
  minOps: number;
  maxOps: number;
}): Promise<{ cast: Cast; chain: Chain }> {
  const cast = makeCast(9);
  const chain = await society(cast, [500n, 40n, 0n, 1200n, 7n, 300n, 0n, 90n, 2000n]);
  const batches = fc.sample(
    fc.array(opArb({ actors: cast.all.length, mutations: true }), {
      minLength: o.minOps,
      maxLength: o.maxOps,
    }),
    { seed: o.seed, numRuns: o.runs },
  );
  for (const ops of batches) await chain.pulse(buildBatch(chain, cast, ops));
  return { cast, chain };
}
