/**
 * Fixtures of the ledger tests: a fixed pool of signers (key generation is the slow part, so each
 * file makes its pool once, from fixed seeds), signed transactions of every kind, an organization on
 * a MemoryKV ledger, random operations turned into signed batches, a reference model of transfers,
 * receipt checks, and the JSON form of a pulse's outcome that two processes compare byte for byte.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { accountId } from "../../src/crypto/account-id.js";
import { signingPayload } from "../../src/crypto/domain.js";
import { generateKeyPair, Signer, Verifier } from "../../src/crypto/ed25519.js";
import { InlineVerifier } from "../../src/crypto/verify-batch.js";
import { type Account, accountDataHash, encodeAccountData, Policy, Role } from "../../src/ledger/account.js";
import { Ledger, type LedgerOptions, type PulseOutcome } from "../../src/ledger/ledger.js";
import { MemoryKV } from "../../src/ledger/memory-kv.js";
import {
  type BatchItem,
  type LedgerView,
  type OrgInfo,
  type TxResult,
  transition,
} from "../../src/ledger/state-machine.js";
import { type OrgParams, RewardCategory, type Tx, type TxBody, TxKind } from "../../src/ledger/tx.js";
import { countersign, decodeTx, encodeTx, signTx } from "../../src/ledger/tx-codec.js";
import type { Summary } from "../../src/smt/hash.js";
import { type ProofJson, proofToJson } from "../../src/smt/proof.js";
import { verifyProof } from "../../src/smt/verify.js";
import { DecodeError } from "../../src/util/bytes.js";

/** An expiry no test reaches. */
export const FAR = 1_000_000;

/** 20 zero bytes: the candidate of a vote withdrawal. */
export const ZERO_ID = Buffer.alloc(20);

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** An account id, from a signer or as is. */
export const idOf = (who: Signer | Buffer): Buffer => (who instanceof Signer ? who.id : who);

/** `n` signers from fixed seeds (SHA-256 of `tag/i`): the same keys in every run and every process. */
export function makeSigners(n: number, tag = "leither-ledger-test"): Signer[] {
  return Array.from(
    { length: n },
    (_, i) => new Signer(generateKeyPair(createHash("sha256").update(`${tag}/${i}`).digest())),
  );
}

/** Who plays in the tests. */
export interface Cast {
  /** Organization A's key: its id is the org id and the organization's own account. */
  readonly orgKey: Signer;
  /** Organization B's key (cross-organization tests). */
  readonly otherOrgKey: Signer;
  /** The founder: supervisor from genesis. */
  readonly supervisor: Signer;
  readonly users: readonly Signer[];
  /** Actors of random operations: [orgKey, supervisor, ...users] (index 0 acts as ORG_ACCOUNT). */
  readonly all: readonly Signer[];
}

/** A cast of 3 + `users` signers. */
export function makeCast(users = 9): Cast {
  const s = makeSigners(3 + users);
  const [orgKey, otherOrgKey, supervisor] = [s[0]!, s[1]!, s[2]!];
  const u = s.slice(3);
  return { orgKey, otherOrgKey, supervisor, users: u, all: [orgKey, supervisor, ...u] };
}

type Amount = bigint | number;
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** The fields of a non-genesis body that are the kind's own. */
export type ActFields = DistOmit<
  Exclude<TxBody, { kind: typeof TxKind.Genesis }>,
  "org" | "actor" | "nonce" | "expiry"
>;

/** Options of a signed transaction. */
export interface ActOpts {
  /** @default FAR */
  expiry?: number;
  /** The payee's countersignature (transfers). */
  cosign?: Signer;
  /** Sign with these instead of [actor, cosign?] (key-mismatch tests). */
  signers?: readonly Signer[];
}

/** Genesis parameters with test defaults. */
export function orgParams(
  supervisor: Signer | Buffer,
  o: {
    name?: string;
    supply?: bigint;
    minDeposit?: bigint;
    distribution?: readonly (readonly [Signer | Buffer, bigint])[];
  } = {},
): OrgParams {
  return {
    name: o.name ?? "test org",
    supervisor: idOf(supervisor),
    pulsePeriodMs: 1000,
    electionCycle: 10,
    publicityPeriod: 5,
    committeeSize: 3,
    minDeposit: o.minDeposit ?? 10n,
    supply: o.supply ?? 1_000_000n,
    distribution: (o.distribution ?? []).map(([to, amount]) => ({ to: idOf(to), amount, reason: "test" })),
  };
}

/** A genesis signed by the organization's key. */
export function genesisTx(orgKey: Signer, params: OrgParams): Buffer {
  return signTx({ kind: TxKind.Genesis, org: orgKey.id, params }, [orgKey]).bytes;
}

/** Signed transactions of one organization. */
export class Txs {
  constructor(readonly org: Buffer) {}

  /** Any non-genesis transaction: the kind's fields, signed by the actor (and cosigner). */
  act(actor: Signer, nonce: Amount, fields: ActFields, o: ActOpts = {}): Buffer {
    const body = {
      ...fields,
      org: this.org,
      actor: actor.id,
      nonce: BigInt(nonce),
      expiry: o.expiry ?? FAR,
    } as TxBody;
    const signers = o.signers ?? (o.cosign === undefined ? [actor] : [actor, o.cosign]);
    return signTx(body, signers).bytes;
  }

  transfer(payer: Signer, to: Signer | Buffer, amount: Amount, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(payer, nonce, { kind: TxKind.Transfer, to: idOf(to), amount: BigInt(amount) }, o);
  }

  distribute(sup: Signer, to: Signer | Buffer, amount: Amount, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(
      sup,
      nonce,
      {
        kind: TxKind.Distribute,
        to: idOf(to),
        amount: BigInt(amount),
        category: RewardCategory.Construction,
        reason: "work",
      },
      o,
    );
  }

  apply(who: Signer, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.Apply, note: "let me in" }, o);
  }

  approve(
    sup: Signer,
    applicant: Signer | Buffer,
    role: typeof Role.Guest | typeof Role.Member,
    nonce: Amount,
    o: ActOpts = {},
  ): Buffer {
    return this.act(sup, nonce, { kind: TxKind.Approve, applicant: idOf(applicant), role }, o);
  }

  setRole(sup: Signer, target: Signer | Buffer, role: Role, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(sup, nonce, { kind: TxKind.SetRole, target: idOf(target), role }, o);
  }

  leave(who: Signer, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.Leave }, o);
  }

  pledge(who: Signer, amount: Amount, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.Pledge, amount: BigInt(amount) }, o);
  }

  release(who: Signer, amount: Amount, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.Release, amount: BigInt(amount) }, o);
  }

  candidacy(who: Signer, declare: boolean, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.Candidacy, declare }, o);
  }

  /** A vote; `candidate` null (and weight 0) withdraws it. */
  vote(
    who: Signer,
    candidate: Signer | Buffer | null,
    weight: Amount,
    nonce: Amount,
    o: ActOpts = {},
  ): Buffer {
    const c = candidate === null ? ZERO_ID : idOf(candidate);
    return this.act(who, nonce, { kind: TxKind.Vote, candidate: c, weight: BigInt(weight) }, o);
  }

  setPolicy(who: Signer, policy: Policy, nonce: Amount, o: ActOpts = {}): Buffer {
    return this.act(who, nonce, { kind: TxKind.SetPolicy, policy }, o);
  }
}

/** The same transaction with its first signature's last byte flipped. */
export function badSignature(bytes: Uint8Array): Buffer {
  const tx = decodeTx(bytes);
  const sigs = tx.signatures.map((s, i) => {
    if (i > 0) return s;
    const signature = Buffer.from(s.signature);
    signature[63]! ^= 0x01;
    return { ...s, signature };
  });
  return encodeTx({ body: tx.body, signatures: sigs });
}

/** One verifier for every test ledger: its cache of public keys outlives each ledger (they are few). */
const SHARED_VERIFIER = new InlineVerifier();

/** A ledger of one organization on a MemoryKV, with its next pulse number and transaction builder. */
export class Chain {
  readonly txs: Txs;
  /** Every pulse applied through `pulse`, as submitted (the determinism test replays them). */
  readonly log: { pulse: number; txs: readonly Uint8Array[] }[] = [];

  constructor(
    readonly ledger: Ledger,
    org: Buffer,
    /** The next pulse to apply. */
    public next = 0,
  ) {
    this.txs = new Txs(org);
  }

  static async open(org: Buffer, opts: LedgerOptions = {}): Promise<Chain> {
    return new Chain(await Ledger.open(new MemoryKV(), { verifier: SHARED_VERIFIER, ...opts }), org);
  }

  /** Applies the next pulse. */
  pulse(txs: readonly Uint8Array[]): Promise<PulseOutcome> {
    this.log.push({ pulse: this.next, txs });
    return this.ledger.applyPulse(this.next++, txs);
  }

  account(who: Signer | Buffer): Account | undefined {
    return this.ledger.account(idOf(who));
  }

  amount(who: Signer | Buffer): bigint {
    return this.account(who)?.amount ?? 0n;
  }

  /** The nonce the account's next transaction carries. */
  nonce(who: Signer | Buffer): bigint {
    return (this.account(who)?.nonce ?? 0n) + 1n;
  }

  root(): Summary {
    return this.ledger.rootAt();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}

/** "OK" or the reject reason of each result, in submission order. */
export function verdicts(out: PulseOutcome): string[] {
  return out.results.map(verdict);
}

export function verdict(r: TxResult): string {
  return r.ok ? "OK" : r.reason;
}

/** Asserts every transaction of a pulse was accepted (setup pulses). */
export function allOk(out: PulseOutcome): void {
  assert.deepEqual(
    verdicts(out).filter((v) => v !== "OK"),
    [],
    `pulse ${out.pulse}: ${JSON.stringify(out.results.filter((r) => !r.ok))}`,
  );
}

/** Organization A with its genesis applied at pulse 0 (supply 1,000,000 unless said otherwise). */
export async function openOrg(
  cast: Cast,
  params: OrgParams = orgParams(cast.supervisor),
  opts: LedgerOptions = {},
): Promise<Chain> {
  const chain = await Chain.open(cast.orgKey.id, opts);
  allOk(await chain.pulse([genesisTx(cast.orgKey, params)]));
  return chain;
}

/** Minimum deposit of the society. */
export const MIN_DEPOSIT = 10n;

/**
 * An organization with members: users 0-4 members, 5-6 guests, 7+ not in it; users 0 and 1 are
 * candidates with MIN_DEPOSIT pledged. `amounts[i]` is user i's genesis holding (0: none); users 0
 * and 1 get at least MIN_DEPOSIT. Pulses 0-4 are the setup.
 */
export async function society(cast: Cast, amounts: readonly bigint[] = []): Promise<Chain> {
  const users = cast.users;
  const dist: [Signer, bigint][] = [[cast.supervisor, 100n]];
  users.forEach((u, i) => {
    const a = (amounts[i] ?? 100n) + (i < 2 ? MIN_DEPOSIT : 0n);
    if (a > 0n) dist.push([u, a]);
  });
  const chain = await openOrg(
    cast,
    orgParams(cast.supervisor, { distribution: dist, minDeposit: MIN_DEPOSIT }),
  );
  const t = chain.txs;
  const joining = users.slice(0, 7);
  allOk(await chain.pulse(joining.map((u) => t.apply(u, 1))));
  allOk(
    await chain.pulse(
      joining.map((u, i) => t.approve(cast.supervisor, u, i < 5 ? Role.Member : Role.Guest, i + 1)),
    ),
  );
  allOk(await chain.pulse(users.slice(0, 2).map((u) => t.pledge(u, MIN_DEPOSIT, 2))));
  allOk(await chain.pulse(users.slice(0, 2).map((u) => t.candidacy(u, true, 3))));
  return chain;
}

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
      if (r.ok && b.kind !== TxKind.Genesis && b.actor.equals(actor)) k++;
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
 * Reference model of transfers and policy changes, written from docs/PROTOCOL.md §8.4 (not from
 * rules.ts): canonical order (actor, nonce, id, then signatures), one accepted copy per id, expiry,
 * no actor as the organization, nonce + 1, amount > 0, no self-transfer, the payee's
 * countersignature unless it accepts all, and a spend of at most what the payer held at the start
 * of the pulse less what it already spent in it. Assumes every transaction is for this
 * organization.
 */
export class TransferModel {
  private readonly verifier = new Verifier();
  private readonly amounts = new Map<string, bigint>();
  private readonly nonces = new Map<string, bigint>();
  private readonly policies = new Map<string, Policy>();

  constructor(
    private readonly org: Buffer,
    ids: readonly Buffer[],
    read: (id: Buffer) => Account | undefined,
  ) {
    for (const id of ids) {
      const a = read(id);
      if (a === undefined) continue;
      assert.equal(a.deposit + a.frozen, 0n, "the model knows no locked funds");
      this.amounts.set(hex(id), a.amount);
      this.nonces.set(hex(id), a.nonce);
      this.policies.set(hex(id), a.policy);
    }
  }

  amount(id: Buffer): bigint {
    return this.amounts.get(hex(id)) ?? 0n;
  }

  nonce(id: Buffer): bigint {
    return this.nonces.get(hex(id)) ?? 0n;
  }

  /**
   * Applies one pulse's encoded transactions; returns whether each (in submission order) is
   * accepted. Undecodable bytes, a signer key that is not the account's and a signature that does
   * not verify are refused before the rules.
   */
  pulse(pulse: number, batch: readonly Uint8Array[]): boolean[] {
    const decoded = batch.map((bytes) => {
      try {
        return decodeTx(bytes);
      } catch (err) {
        if (err instanceof DecodeError) return undefined;
        throw err;
      }
    });
    const ok = batch.map(() => false);
    const idx = decoded.flatMap((tx, i) => (tx !== undefined && this.signedRight(tx) ? [i] : []));
    const txs = idx.map((i) => decoded[i]!);
    const accepted = this.apply(pulse, txs);
    idx.forEach((i, k) => {
      ok[i] = accepted[k]!;
    });
    return ok;
  }

  /** The payer's (then the payee's) key and a valid signature in each place. */
  private signedRight(tx: Tx): boolean {
    const b = tx.body as { actor: Buffer; to?: Buffer };
    const ids = [b.actor, b.to];
    const payload = signingPayload(tx.bodyBytes);
    return tx.signatures.every(
      (s, i) =>
        accountId(s.publicKey).equals(ids[i]!) && this.verifier.verify(s.signature, payload, s.publicKey),
    );
  }

  private apply(pulse: number, txs: readonly Tx[]): boolean[] {
    const start = new Map(this.amounts);
    const spent = new Map<string, bigint>();
    const seen = new Set<string>();
    const order = txs.map((_, i) => i);
    order.sort((i, j) => {
      const a = txs[i]!.body as { actor: Buffer; nonce: bigint };
      const b = txs[j]!.body as { actor: Buffer; nonce: bigint };
      return (
        Buffer.compare(a.actor, b.actor) ||
        (a.nonce === b.nonce ? 0 : a.nonce < b.nonce ? -1 : 1) ||
        Buffer.compare(txs[i]!.id, txs[j]!.id) ||
        compareSignatures(txs[i]!, txs[j]!)
      );
    });
    const ok = txs.map(() => false);
    for (const i of order) {
      const tx = txs[i]!;
      const b = tx.body;
      if (b.kind !== TxKind.Transfer && b.kind !== TxKind.SetPolicy) throw new Error("model: unknown kind");
      const actor = hex(b.actor);
      if (seen.has(hex(tx.id)) || pulse > b.expiry || b.actor.equals(this.org)) continue;
      if (b.nonce !== this.nonce(b.actor) + 1n) continue;
      if (b.kind === TxKind.SetPolicy) {
        this.policies.set(actor, b.policy);
      } else {
        const to = hex(b.to);
        const payeeAccepts = tx.signatures.length === 2 || this.policies.get(to) === Policy.AcceptAll;
        const avail = (start.get(actor) ?? 0n) - (spent.get(actor) ?? 0n);
        if (b.amount === 0n || to === actor || !payeeAccepts || b.amount > avail) continue;
        spent.set(actor, (spent.get(actor) ?? 0n) + b.amount);
        this.amounts.set(actor, this.amount(b.actor) - b.amount);
        this.amounts.set(to, this.amount(b.to) + b.amount);
      }
      this.nonces.set(actor, this.nonce(b.actor) + 1n);
      seen.add(hex(tx.id));
      ok[i] = true;
    }
    return ok;
  }
}

/** Copies of one body: fewer signatures first, then each public key and signature bytewise. */
function compareSignatures(a: Tx, b: Tx): number {
  const d = a.signatures.length - b.signatures.length;
  if (d !== 0) return d;
  for (const [k, x] of a.signatures.entries()) {
    const y = b.signatures[k]!;
    const c = Buffer.compare(x.publicKey, y.publicKey) || Buffer.compare(x.signature, y.signature);
    if (c !== 0) return c;
  }
  return 0;
}

/** The accounts a transaction's receipt must show, written per kind from the protocol's prose. */
export function expectedParties(b: TxBody, org: Buffer): Buffer[] {
  const ids =
    b.kind === TxKind.Genesis
      ? [b.org, b.params.supervisor, ...b.params.distribution.map((l) => l.to)]
      : b.kind === TxKind.Transfer
        ? [b.actor, b.to]
        : b.kind === TxKind.Distribute
          ? [b.actor, org, b.to]
          : b.kind === TxKind.Approve
            ? [b.actor, b.applicant]
            : b.kind === TxKind.SetRole
              ? [b.actor, b.target]
              : [b.actor];
  return [...new Map(ids.map((id) => [hex(id), id])).values()];
}

/**
 * Checks a pulse's receipts: one per accepted transaction in order of application, each on the
 * pulse's root, with a proof per party that verifies against that root and shows the party's leaf
 * as the ledger holds it (amount and the hash of its data).
 */
export function checkReceipts(ledger: Ledger, out: PulseOutcome, batch: readonly Uint8Array[]): void {
  const byId = new Map<string, Tx>();
  for (const bytes of batch) {
    try {
      const tx = decodeTx(bytes);
      byId.set(hex(tx.id), tx);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  const accepted = out.results
    .filter((r): r is Extract<TxResult, { ok: true }> => r.ok)
    .sort((a, b) => a.position - b.position)
    .map((r) => hex(r.txId));
  assert.deepEqual(
    out.receipts.map((r) => hex(r.txId)),
    accepted,
    "a receipt per accepted transaction",
  );
  for (const r of out.receipts) {
    const org = ledger.org!.id; // there is a receipt, so there is an organization
    assert.equal(r.pulse, out.pulse);
    assert.deepEqual(summaryJson(r.root), summaryJson(out.root));
    const tx = byId.get(hex(r.txId));
    assert.ok(tx !== undefined, "a receipt for a transaction of the batch");
    assert.deepEqual(
      r.proofs.map((p) => hex(p.id)).sort(),
      expectedParties(tx.body, org).map(hex).sort(),
      "the receipt shows exactly the parties",
    );
    for (const { id, proof } of r.proofs) {
      assert.deepEqual(verifyProof(proof, r.root), { result: "inclusion" }, `proof of ${hex(id)}`);
      const a = ledger.account(id);
      assert.ok(a !== undefined);
      const t = proof.terminal;
      assert.ok(t !== null && t.kind === "leaf" && Buffer.from(t.id).equals(id));
      assert.equal(t.amount, a.amount);
      assert.equal(hex(t.dataHash), hex(accountDataHash(encodeAccountData(a))));
    }
  }
}

/** A root synopsis as JSON (hex hash, decimal sum). */
export function summaryJson(s: Summary): { hash: string; sum: string; count: number } {
  return { hash: hex(s.hash), sum: s.sum.toString(), count: s.count };
}

/** A pulse's outcome as plain JSON: everything but the timings, bigints as decimal strings. */
export interface OutcomeJson {
  pulse: number;
  root: { hash: string; sum: string; count: number };
  issued: string;
  accountsChanged: number;
  results: (
    | { txId: string; ok: true; position: number }
    | { txId: string | null; ok: false; reason: string; message: string }
  )[];
  receipts: {
    txId: string;
    pulse: number;
    root: { hash: string; sum: string; count: number };
    proofs: { id: string; proof: ProofJson }[];
  }[];
}

export function outcomeJson(out: PulseOutcome): OutcomeJson {
  return {
    pulse: out.pulse,
    root: summaryJson(out.root),
    issued: out.issued.toString(),
    accountsChanged: out.accountsChanged,
    results: out.results.map((r) =>
      r.ok
        ? { txId: hex(r.txId), ok: true as const, position: r.position }
        : {
            txId: r.txId === undefined ? null : hex(r.txId),
            ok: false as const,
            reason: r.reason,
            message: r.message,
          },
    ),
    receipts: out.receipts.map((r) => ({
      txId: hex(r.txId),
      pulse: r.pulse,
      root: summaryJson(r.root),
      proofs: r.proofs.map((p) => ({ id: hex(p.id), proof: proofToJson(p.proof) })),
    })),
  };
}

/** The input of test/helpers/ledger-replay.ts: pulses with their transactions in hex. */
export interface ReplayInput {
  pulses: { pulse: number; txs: string[] }[];
}

/** A LedgerView over a Map, to call `transition` on states no ledger would hold. */
export class MapView implements LedgerView {
  readonly accounts = new Map<string, Account>();

  constructor(readonly org: OrgInfo | undefined) {}

  set(id: Buffer, a: Account): this {
    this.accounts.set(hex(id), a);
    return this;
  }

  account(id: Buffer): Account | undefined {
    return this.accounts.get(hex(id));
  }
}

/** Decoded batch items whose signatures count as checked. */
export function okItems(batch: readonly Uint8Array[]): BatchItem[] {
  return batch.map((b) => ({ tx: decodeTx(b), check: "OK" as const }));
}
