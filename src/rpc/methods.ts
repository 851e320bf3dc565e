/**
 * The handlers of the methods in api.ts. They see the node through `RpcDeps`, the narrow interface
 * the composition root hands in, and turn each service's typed errors into JSON-RPC errors with data.
 */
import type { Keyring } from "../crypto/keyring.js";
import { type Account, Policy, Role, spendable } from "../ledger/account.js";
import type { Ledger } from "../ledger/ledger.js";
import { committeeProblem, partiesOf } from "../ledger/rules.js";
import { PulseError } from "../ledger/store-types.js";
import { type OrgParams, type Tx, TxKind } from "../ledger/tx.js";
import { countersign, decodeTx, signTx, txBytes } from "../ledger/tx-codec.js";
import type { FoundRequest } from "../node/founder.js";
import type { Bookkeeper, TxStatus } from "../pulse/bookkeeper.js";
import { SubmitError } from "../pulse/bookkeeper.js";
import type { NonceBook } from "../pulse/nonces.js";
import { proofToJson, summaryJson } from "../smt/proof.js";
import { DecodeError } from "../util/bytes.js";
import type { LeitherApi, MethodName, OrgJson } from "./api.js";
import type { NetApi } from "./api-net.js";
import { RpcError, RpcErrorCode } from "./errors.js";
import { committeeEvidence, committeeInfo, pulseCertificate } from "./methods-committee.js";

/** What the handlers need from the node. */
export interface RpcDeps {
  readonly version: string;
  readonly dataDir: string;
  readonly startedAt: number;
  readonly periodMs: number;
  rpcUrl(): string;
  peers(): number;
  readonly ledger: Pick<
    Ledger,
    "org" | "head" | "account" | "accountsAt" | "prove" | "rootAt" | "retained" | "findTx" | "certificateAt"
  >;
  /** The committee finalizing a pulse, as this node's finality knows it. */
  committee?(pulse: number): readonly Buffer[];
  /** Equivocation evidence this node's finality holds. */
  evidence?(): readonly Buffer[];
  readonly pulse: Pick<Bookkeeper, "submit" | "status" | "verdict" | "pending" | "currentSlot" | "last">;
  readonly keys: Pick<Keyring, "get" | "list" | "create" | "node">;
  /** Has the payee's node countersign a transfer over the network (absent when the network is off). */
  countersign?(bytes: Buffer, tx: Tx, signal: AbortSignal): Promise<Buffer>;
  /** Nonces of transactions this node signed that wait for a pulse. */
  readonly nonces: NonceBook;
  /** Founds an organization and resolves once its genesis pulse is final. */
  createOrg(o: FoundRequest, signal: AbortSignal): Promise<void>;
}

/** A handler of method M, given params already checked against its schema. */
type Handler<M extends MethodName> = (
  params: LeitherApi[M]["params"],
  ctx: { readonly signal: AbortSignal },
) => LeitherApi[M]["result"] | Promise<LeitherApi[M]["result"]>;

export type Handlers = { [M in MethodName]: Handler<M> };

const ROLE_NAMES = ["none", "applicant", "guest", "member", "supervisor"] as const;
const MAX_U64 = (1n << 64n) - 1n;

/** The handlers of the methods a node answers from its own books (methods-net.ts adds the network's). */
export type LocalHandlers = Omit<Handlers, keyof NetApi>;

/** Builds the handlers that answer from this node's own books over `d`. */
export function localHandlers(d: RpcDeps): LocalHandlers {
  const nodeId = d.keys.node.id.toString("hex");
  const nonces = d.nonces;
  const orgId = () => d.ledger.org?.id.toString("hex") ?? null;
  const needOrg = () => {
    const org = d.ledger.org;
    if (org === undefined || d.ledger.head === undefined)
      throw new RpcError(RpcErrorCode.NO_ORG, "this node has no organization yet (org_create founds one)");
    return org;
  };
  /** Queues a transaction; `queued` sees its status before any wait for the verdict. */
  const submit = async (
    bytes: Uint8Array,
    wait: boolean | undefined,
    signal: AbortSignal,
    queued?: (s: TxStatus) => void,
  ) => {
    let s: TxStatus;
    try {
      s = d.pulse.submit(bytes);
    } catch (err) {
      throw submitError(err);
    }
    queued?.(s);
    if (wait === true && s.state === "pending") s = await d.pulse.verdict(s.txId, signal);
    return s;
  };

  return {
    node_info: () => ({
      version: d.version,
      account: nodeId,
      org: orgId(),
      rpc: d.rpcUrl(),
      dataDir: d.dataDir,
      pulsePeriodMs: d.periodMs,
      peers: d.peers(),
      startedAt: d.startedAt,
    }),
    node_health: () => {
      const last = d.pulse.last;
      const ago = last === undefined ? null : Math.max(0, Date.now() - last.at);
      return {
        // Healthy while the pulse service keeps up: a node with an organization answers each slot.
        ok: d.ledger.org === undefined || (ago !== null && ago < 10 * d.periodMs) || d.pulse.pending === 0,
        pulse: d.ledger.head ?? null,
        slot: d.pulse.currentSlot,
        pending: d.pulse.pending,
        lastPulseMsAgo: ago === null ? null : Math.round(ago),
      };
    },
    node_status: () => ({
      pulse: d.ledger.head ?? null,
      root: d.ledger.head === undefined ? null : summaryJson(d.ledger.rootAt()),
      org: orgId(),
      account: nodeId,
      peers: d.peers(),
      rpc: d.rpcUrl(),
      pending: d.pulse.pending,
    }),
    org_create: async (p, { signal }) => {
      if (d.ledger.org !== undefined)
        throw new RpcError(RpcErrorCode.ORG_EXISTS, `this node already keeps organization ${orgId()}`);
      const supply = p.supply === undefined ? undefined : u64(p.supply, "supply");
      const founderAmount = p.founderAmount === undefined ? undefined : u64(p.founderAmount, "founderAmount");
      const minDeposit = p.minDeposit === undefined ? undefined : u64(p.minDeposit, "minDeposit");
      const miningReward = p.miningReward === undefined ? undefined : u64(p.miningReward, "miningReward");
      const committee = foundingCommittee(p.committee ?? [], p.committeeSize);
      await d.createOrg(
        {
          name: p.name,
          ...(supply === undefined ? {} : { supply }),
          ...(founderAmount === undefined ? {} : { founderAmount }),
          ...(committee.length === 0 ? {} : { committee }),
          ...(p.electionCycle === undefined ? {} : { electionCycle: p.electionCycle }),
          ...(p.committeeSize === undefined ? {} : { committeeSize: p.committeeSize }),
          ...(minDeposit === undefined ? {} : { minDeposit }),
          ...(miningReward === undefined ? {} : { miningReward }),
        },
        signal,
      );
      return orgJson(d);
    },
    org_info: () => {
      needOrg();
      return orgJson(d);
    },
    ledger_getAccount: (p) => {
      needOrg();
      const id = Buffer.from(p.account ?? nodeId, "hex");
      const pulse = p.pulse ?? d.ledger.head!;
      const a = readAt(d, pulse, () => d.ledger.account(id, pulse));
      return accountJson(id, pulse, a);
    },
    ledger_getProof: (p) => {
      needOrg();
      const account = p.account ?? nodeId;
      const pulse = p.pulse ?? d.ledger.head!;
      return readAt(d, pulse, () => ({
        account,
        pulse,
        root: summaryJson(d.ledger.rootAt(pulse)),
        proof: proofToJson(d.ledger.prove(Buffer.from(account, "hex"), pulse)),
      }));
    },
    ledger_getRoot: (p) => {
      needOrg();
      const pulse = p.pulse ?? d.ledger.head!;
      return readAt(d, pulse, () => summaryJson(d.ledger.rootAt(pulse)));
    },
    pulse_current: () => {
      const r = d.ledger.retained();
      return {
        pulse: d.ledger.head ?? null,
        root: d.ledger.head === undefined ? null : summaryJson(d.ledger.rootAt()),
        slot: d.pulse.currentSlot,
        periodMs: d.periodMs,
        retained: { first: r[0] ?? null, last: r.at(-1) ?? null, count: r.length },
      };
    },
    pulse_get: (p) => {
      needOrg();
      return readAt(d, p.pulse, () => ({ pulse: p.pulse, root: summaryJson(d.ledger.rootAt(p.pulse)) }));
    },
    tx_transfer: async (p, { signal }) => {
      const org = needOrg();
      const from = p.from ?? nodeId;
      const payer = d.keys.get(from);
      if (payer === undefined)
        throw new RpcError(RpcErrorCode.KEY_UNKNOWN, `this node does not hold the key of account ${from}`);
      const amount = u64(p.amount, "amount");
      if (amount === 0n) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "amount must be above 0");
      const to = Buffer.from(p.to, "hex");
      // The next nonce counts this node's own transactions still waiting for a pulse.
      const nonce = nextNonce(d, payer.id);
      const body = {
        kind: TxKind.Transfer,
        org: org.id,
        actor: payer.id,
        nonce,
        expiry: d.ledger.head! + (p.expiry ?? 10),
        to,
        amount,
      } as const;
      const signed = signTx(body, [payer]);
      // Held from now on, so a transfer from the same payer signed meanwhile takes the next nonce;
      // given back on every way out but a submission.
      const hold = nonces.hold(from, nonce, signed.tx.id.toString("hex"));
      try {
        let bytes = signed.bytes;
        const payee = d.keys.get(p.to);
        if (payee !== undefined) bytes = countersign(bytes, payee);
        else if (d.ledger.account(to)?.policy !== Policy.AcceptAll) {
          // The payee's node countersigns over the network, if there is one and it answers.
          let why = "this node does not hold its key";
          try {
            if (d.countersign === undefined) throw new Error("the network is off");
            bytes = await d.countersign(bytes, signed.tx, signal);
          } catch (err) {
            why = `its node did not countersign: ${(err as Error).message}`;
          }
          if (bytes === signed.bytes)
            throw new RpcError(
              RpcErrorCode.PAYEE_SIGNATURE,
              `the payee ${p.to} countersigns incoming transfers and ${why}: have its node run tx_sign on data.tx, then tx_submit`,
              { tx: bytes.toString("hex") },
            );
        }
        // In nonce order after this payer's earlier transfers; never after the caller gave up.
        await hold.turn(signal);
        if (signal.aborted) throw new RpcError(RpcErrorCode.TIMEOUT, "tx_transfer gave up before submitting");
        return await submit(bytes, p.wait, signal, () => hold.done());
      } finally {
        hold.release();
      }
    },
    tx_sign: (p) => {
      const who = p.account ?? nodeId;
      const signer = d.keys.get(who);
      if (signer === undefined)
        throw new RpcError(RpcErrorCode.KEY_UNKNOWN, `this node does not hold the key of account ${who}`);
      try {
        const raw = Buffer.from(p.tx, "hex");
        const tx = decodeTx(raw);
        const bytes = countersign(raw, signer);
        return { txId: tx.id.toString("hex"), tx: bytes.toString("hex") };
      } catch (err) {
        if (err instanceof DecodeError || err instanceof RangeError)
          throw new RpcError(RpcErrorCode.INVALID_PARAMS, `cannot sign: ${err.message}`);
        throw err;
      }
    },
    tx_submit: (p, { signal }) => submit(Buffer.from(p.tx, "hex"), p.wait, signal),
    tx_status: (p) => d.pulse.status(p.txId),
    tx_receipt: (p) => {
      const found = d.ledger.findTx(Buffer.from(p.txId, "hex"));
      if (found === undefined) {
        const s = d.pulse.status(p.txId);
        throw new RpcError(RpcErrorCode.NOT_FOUND, `no receipt: the transaction is ${s.state}`, s);
      }
      const { pulse, tx } = found;
      return readAt(d, pulse, () => ({
        txId: p.txId,
        pulse,
        root: summaryJson(d.ledger.rootAt(pulse)),
        tx: txBytes(tx).toString("hex"),
        proofs: partiesOf(tx.body, d.ledger.org?.id).map((id) => ({
          account: id.toString("hex"),
          proof: proofToJson(d.ledger.prove(id, pulse)),
        })),
      }));
    },
    committee_info: committeeInfo(d, needOrg),
    pulse_certificate: pulseCertificate(d, needOrg),
    committee_evidence: committeeEvidence(d),
    keys_list: () => ({ keys: d.keys.list() }),
    keys_new: () => d.keys.create(),
  };

  function nextNonce(deps: RpcDeps, id: Buffer): bigint {
    const committed = deps.ledger.account(id)?.nonce ?? 0n;
    return nonces.next(id.toString("hex"), committed, (txId) => deps.pulse.status(txId).state === "pending");
  }
}

/** A decimal u64 param. */
export function u64(v: string | bigint, what: string): bigint {
  const n = BigInt(v);
  if (n < 0n || n > MAX_U64) throw new RpcError(RpcErrorCode.INVALID_PARAMS, `${what} must fit a u64`);
  return n;
}

function readAt<T>(d: RpcDeps, pulse: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PulseError) {
      const r = d.ledger.retained();
      throw new RpcError(RpcErrorCode.NOT_RETAINED, `pulse ${pulse} is not readable: ${err.message}`, {
        retained: { first: r[0] ?? null, last: r.at(-1) ?? null },
      });
    }
    throw err;
  }
}

/** The RPC error of a bookkeeper's refusal. */
export function submitError(err: unknown): unknown {
  if (!(err instanceof SubmitError)) return err;
  const code = {
    DECODE: RpcErrorCode.TX_REFUSED,
    WRONG_ORG: RpcErrorCode.TX_REFUSED,
    NO_ORG: RpcErrorCode.NO_ORG,
    ORG_EXISTS: RpcErrorCode.ORG_EXISTS,
    BUSY: RpcErrorCode.BUSY,
    STOPPED: RpcErrorCode.STOPPING,
  }[err.code];
  return new RpcError(code, err.message, { reason: err.code });
}

function orgJson(d: RpcDeps): OrgJson {
  const org = d.ledger.org!;
  return orgParamsJson(org.id, org.params, d.ledger.head ?? null);
}

/** org_create's committee as ids, or INVALID_PARAMS naming what is wrong with it. */
function foundingCommittee(hexIds: readonly string[], size: number | undefined): Buffer[] {
  if (hexIds.length > 0xffff)
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, "committee: at most 65535 members");
  const ids = hexIds.map((x) => Buffer.from(x, "hex"));
  const problem = committeeProblem(ids, size ?? Math.max(1, ids.length));
  if (problem !== undefined) throw new RpcError(RpcErrorCode.INVALID_PARAMS, `committee: ${problem}`);
  return ids;
}

/** An organization's parameters as JSON. */
export function orgParamsJson(id: Buffer, p: OrgParams, head: number | null): OrgJson {
  return {
    id: id.toString("hex"),
    name: p.name,
    supervisor: p.supervisor.toString("hex"),
    pulsePeriodMs: p.pulsePeriodMs,
    electionCycle: p.electionCycle,
    publicityPeriod: p.publicityPeriod,
    committeeSize: p.committeeSize,
    minDeposit: p.minDeposit.toString(),
    miningReward: (p.miningReward ?? 0n).toString(),
    supply: p.supply.toString(),
    distribution: p.distribution.map((l) => ({
      to: l.to.toString("hex"),
      amount: l.amount.toString(),
      reason: l.reason,
    })),
    committee: p.committee.map((x) => x.toString("hex")),
    head,
  };
}

/** An account's state as JSON. */
export function accountJson(
  id: Buffer,
  pulse: number,
  a: Account | undefined,
): LeitherApi["ledger_getAccount"]["result"] {
  return {
    account: id.toString("hex"),
    pulse,
    exists: a !== undefined,
    amount: (a?.amount ?? 0n).toString(),
    spendable: (a === undefined ? 0n : spendable(a)).toString(),
    nonce: (a?.nonce ?? 0n).toString(),
    frozen: (a?.frozen ?? 0n).toString(),
    deposit: (a?.deposit ?? 0n).toString(),
    role: ROLE_NAMES[a?.role ?? Role.None],
    candidate: a?.candidate ?? false,
    policy: (a?.policy ?? Policy.Countersign) === Policy.AcceptAll ? "acceptAll" : "countersign",
    vote: a?.vote ? { candidate: a.vote.candidate.toString("hex"), weight: a.vote.weight.toString() } : null,
    updated: a?.updated ?? 0,
  };
}
