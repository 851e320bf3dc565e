/**
 * Ledger transactions: what each kind says. Encoding in tx-codec.ts, the rules in state-machine.ts,
 * the whole format in docs/PROTOCOL.md ("Transactions").
 */
import { MessageKind } from "../crypto/domain.js";
import type { Policy, Role } from "./account.js";

export { MessageKind as TxKind };

/** The parameters an organization's key signs at genesis. */
export interface OrgParams {
  /** 1-64 bytes of UTF-8. */
  readonly name: string;
  /** The founder's account: the first supervisor. */
  readonly supervisor: Buffer;
  /** Milliseconds between pulses (u32, > 0). */
  readonly pulsePeriodMs: number;
  /** Pulses per election cycle (u32, > 0). */
  readonly electionCycle: number;
  /** Pulses a batch stays open to audit and dispute (u32). */
  readonly publicityPeriod: number;
  /** Bookkeepers per committee (u16, >= 1). */
  readonly committeeSize: number;
  /** Smallest deposit of a bookkeeper candidate. */
  readonly minDeposit: bigint;
  /** Tokens issued at genesis; what the distribution leaves goes to the organization's account. */
  readonly supply: bigint;
  /** Initial holdings, each with a public reason. */
  readonly distribution: readonly DistributionLine[];
  /**
   * The first committee (cycle 0's), as account ids in drawn order: the first is round 0's proposer.
   * At most `committeeSize`, no duplicates, no zero id; empty: the supervisor alone.
   */
  readonly committee: readonly Buffer[];
  /**
   * Tokens (u64) the committee is paid for each final pulse, from the organization's account, split
   * equally among its members (docs/PROTOCOL.md §8.4, reward); 0 pays nothing. Every decoded genesis
   * has it; absent in a literal means 0.
   */
  readonly miningReward?: bigint;
}

/** One line of the genesis distribution. */
export interface DistributionLine {
  readonly to: Buffer;
  readonly amount: bigint;
  readonly reason: string;
}

/** What a distribution from the organization's account pays for (Proof of Performance). */
export const RewardCategory = { Construction: 1, ContentService: 2, Mining: 3, Operation: 4 } as const;
export type RewardCategory = (typeof RewardCategory)[keyof typeof RewardCategory];

/** Fields of every transaction but genesis: who acts, its nonce and the last pulse it is valid in. */
export interface Acting {
  /** The account that signs first and whose nonce the transaction uses. */
  readonly actor: Buffer;
  /** Must be the actor's account nonce + 1. */
  readonly nonce: bigint;
  /** The last pulse the transaction may be applied in. */
  readonly expiry: number;
}

/** The body of a transaction: what its signatures cover. */
export type TxBody =
  | { readonly kind: typeof MessageKind.Genesis; readonly org: Buffer; readonly params: OrgParams }
  | (Acting & {
      readonly kind: typeof MessageKind.Transfer;
      readonly org: Buffer;
      readonly to: Buffer;
      readonly amount: bigint;
    })
  | (Acting & {
      readonly kind: typeof MessageKind.Distribute;
      readonly org: Buffer;
      readonly to: Buffer;
      readonly amount: bigint;
      readonly category: RewardCategory;
      readonly reason: string;
    })
  | (Acting & { readonly kind: typeof MessageKind.Apply; readonly org: Buffer; readonly note: string })
  | (Acting & {
      readonly kind: typeof MessageKind.Approve;
      readonly org: Buffer;
      readonly applicant: Buffer;
      readonly role: typeof Role.Guest | typeof Role.Member;
    })
  | (Acting & {
      readonly kind: typeof MessageKind.SetRole;
      readonly org: Buffer;
      readonly target: Buffer;
      readonly role: Role;
    })
  | (Acting & { readonly kind: typeof MessageKind.Leave; readonly org: Buffer })
  | (Acting & { readonly kind: typeof MessageKind.Pledge; readonly org: Buffer; readonly amount: bigint })
  | (Acting & { readonly kind: typeof MessageKind.Release; readonly org: Buffer; readonly amount: bigint })
  | (Acting & {
      readonly kind: typeof MessageKind.Candidacy;
      readonly org: Buffer;
      readonly declare: boolean;
      /** H(secret) of the first reveal (election/draw.ts `commitment`): 32 bytes to declare, null to withdraw. */
      readonly commitment: Buffer | null;
    })
  | (Acting & {
      readonly kind: typeof MessageKind.Reveal;
      readonly org: Buffer;
      /** The election cycle (u32) whose reveal window this is. */
      readonly cycle: number;
      /** The secret of the actor's current commitment (32 bytes). */
      readonly secret: Buffer;
      /** The commitment (32 bytes) for the next cycle's reveal. */
      readonly next: Buffer;
    })
  | (Acting & {
      readonly kind: typeof MessageKind.Vote;
      readonly org: Buffer;
      /** 20 zero bytes when weight is 0 (withdraw the vote). */
      readonly candidate: Buffer;
      readonly weight: bigint;
    })
  | (Acting & { readonly kind: typeof MessageKind.SetPolicy; readonly org: Buffer; readonly policy: Policy })
  | {
      readonly kind: typeof MessageKind.Reward;
      readonly org: Buffer;
      /** The pulse whose committee it pays: only that pulse accepts it. */
      readonly pulse: number;
      /** The committee of that pulse in drawn order (1-65535 ids): the first gets the remainder. */
      readonly recipients: readonly Buffer[];
    }
  | {
      readonly kind: typeof MessageKind.Forfeit;
      readonly org: Buffer;
      /** The election cycle (u32) whose withheld reveals it charges: only the pulse after its window accepts it. */
      readonly cycle: number;
      /** The candidates that withheld their reveal, ascending by id (1 to TX_LIMITS.forfeitCandidates). */
      readonly candidates: readonly Buffer[];
    };

/** The kinds with no acting fields and no signature: made by the pulse's proposer, checked by every validator. */
export type MadeKind = typeof MessageKind.Reward | typeof MessageKind.Forfeit;

/** The kinds that carry acting fields (an actor, its nonce, an expiry): all but genesis, reward and forfeit. */
export type ActingKind = Exclude<TxBody["kind"], typeof MessageKind.Genesis | MadeKind>;

/** Whether a body carries acting fields. */
export function isActing(b: TxBody): b is TxOf<ActingKind> {
  return b.kind !== MessageKind.Genesis && b.kind !== MessageKind.Reward && b.kind !== MessageKind.Forfeit;
}

/** A transaction body of one kind. */
export type TxOf<K extends TxBody["kind"]> = Extract<TxBody, { kind: K }>;

/** A body and the signatures over it. */
export interface SignedTx {
  readonly body: TxBody;
  readonly signatures: readonly TxSignature[];
}

/** One signature: the signer's public key (its id is SHA-256(pk)[0:20]) and the signature. */
export interface TxSignature {
  readonly publicKey: Buffer;
  readonly signature: Buffer;
}

/** A decoded transaction with the bytes it came from. */
export interface Tx extends SignedTx {
  /** The encoded body: the message the signatures cover (after SIGNING_TAG). */
  readonly bodyBytes: Buffer;
  /** SHA-256 of the encoded body: the transaction's id. Signatures are not part of it. */
  readonly id: Buffer;
}

/** Limits of the encoding (each field's byte or item limit). */
export const TX_LIMITS = {
  name: 64,
  reason: 256,
  note: 256,
  distributionLines: 4096,
  /**
   * Candidates one forfeit names: its body (28 + 20n bytes) stays under a proposal's 64 KiB per
   * transaction. A cycle with more withheld reveals charges the first this many by id.
   */
  forfeitCandidates: 3000,
} as const;
