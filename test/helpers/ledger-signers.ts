/**
 * Signers and signed transactions of the ledger tests: a fixed pool of signers (key generation is
 * the slow part, so each file makes its pool once, from fixed seeds), genesis parameters, and
 * signed transactions of every kind.
 */
import { createHash } from "node:crypto";
import { generateKeyPair, Signer } from "../../src/crypto/ed25519.js";
import { commitment } from "../../src/election/draw.js";
import type { Policy, Role } from "../../src/ledger/account.js";
import { type OrgParams, RewardCategory, type TxBody, TxKind } from "../../src/ledger/tx.js";
import { decodeTx, encodeTx, signTx } from "../../src/ledger/tx-codec.js";

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
    committee?: readonly (Signer | Buffer)[];
    miningReward?: bigint;
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
    committee: (o.committee ?? []).map(idOf),
    miningReward: o.miningReward ?? 0n,
  };
}

/** A genesis signed by the organization's key. */
export function genesisTx(orgKey: Signer, params: OrgParams): Buffer {
  return signTx({ kind: TxKind.Genesis, org: orgKey.id, params }, [orgKey]).bytes;
}

/**
 * The election secret of an account for a cycle: SHA-256("secret/" ‖ id hex ‖ "/" ‖ cycle). A test
 * candidate commits to secretOf(who, 0) when it declares and, revealing in cycle c, to secretOf(who, c + 1).
 */
export function secretOf(who: Signer | Buffer, cycle: number): Buffer {
  return createHash("sha256")
    .update(`secret/${hex(idOf(who))}/${cycle}`)
    .digest();
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

  /** A candidacy; declaring commits to `o.commitment`, by default to secretOf(who, 0). */
  candidacy(who: Signer, declare: boolean, nonce: Amount, o: ActOpts & { commitment?: Buffer } = {}): Buffer {
    const c = declare ? (o.commitment ?? commitment(secretOf(who, 0))) : null;
    return this.act(who, nonce, { kind: TxKind.Candidacy, declare, commitment: c }, o);
  }

  /** A reveal for `cycle`: by default of secretOf(who, cycle), committing to secretOf(who, cycle + 1). */
  reveal(
    who: Signer,
    cycle: number,
    nonce: Amount,
    o: ActOpts & { secret?: Buffer; next?: Buffer } = {},
  ): Buffer {
    const secret = o.secret ?? secretOf(who, cycle);
    const next = o.next ?? commitment(secretOf(who, cycle + 1));
    return this.act(who, nonce, { kind: TxKind.Reveal, cycle, secret, next }, o);
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
