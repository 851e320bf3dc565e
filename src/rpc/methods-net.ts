/**
 * The network's handlers, and the answers of a node that joined an organization kept by another
 * node: it has no books of its own, so its ledger, pulse and transaction methods ask the bookkeeper
 * (through the org service) and check every answer before they give it. Its accounts are its own
 * keys' only: an account's leaf goes to its owner.
 */
import type { Signer } from "../crypto/ed25519.js";
import { NetError } from "../dht/wire.js";
import { Role } from "../ledger/account.js";
import { TxKind } from "../ledger/tx.js";
import { countersign, signTx } from "../ledger/tx-codec.js";
import type { OrgService } from "../org/service.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import { proofToJson, summaryJson } from "../smt/proof.js";
import type { LeitherApi } from "./api.js";
import { RpcError, RpcErrorCode } from "./errors.js";
import { accountJson, type Handlers, localHandlers, orgParamsJson, type RpcDeps, u64 } from "./methods.js";

/** What the network handlers need: the org service, and the host's identity. */
export interface NetDeps {
  readonly org: Pick<
    OrgService,
    "joined" | "join" | "countersign" | "send" | "sendGroup" | "messages" | "orgInfo"
  > & {
    readonly approvals: Pick<OrgService["approvals"], "approve" | "pending">;
  };
  info(): { peerId: string; addrs: string[]; peers: number };
}

/** Every handler: the node's own books, the network's, and a joined organization's where the node keeps no books. */
export function handlers(d: RpcDeps, net: NetDeps | undefined): Handlers {
  const local = localHandlers(d);
  const off = () => {
    throw new RpcError(
      RpcErrorCode.NET_UNAVAILABLE,
      "the network is off on this node (net.enabled is false)",
    );
  };
  const needNet = (): NetDeps => net ?? off();
  /** The organization this node joined, when it keeps no books of its own. */
  const member = () => (d.ledger.org === undefined ? net?.org.joined() : undefined);
  const nodeId = d.keys.node.id.toString("hex");
  const signerOf = (id: string | undefined): Signer => {
    const s = d.keys.get(id ?? nodeId);
    if (s === undefined)
      throw new RpcError(RpcErrorCode.KEY_UNKNOWN, `this node does not hold the key of account ${id}`);
    return s;
  };
  const latestOnly = (pulse: number | undefined, latest: number) => {
    if (pulse !== undefined && pulse !== latest)
      throw new RpcError(RpcErrorCode.NOT_RETAINED, `a member node sees the latest pulse (${latest}) only`, {
        retained: { first: latest, last: latest },
      });
  };
  const wrap = <T>(p: Promise<T>): Promise<T> => p.catch((err) => Promise.reject(netError(err)));
  const statusJson = (s: TxStatus) => s;

  const remote: Partial<Handlers> = {
    node_info: (p, ctx) => {
      const r = local.node_info(p, ctx) as LeitherApi["node_info"]["result"];
      return { ...r, org: member()?.org.toString("hex") ?? r.org };
    },
    node_status: (p, ctx) => {
      const m = member();
      const r = local.node_status(p, ctx) as LeitherApi["node_status"]["result"];
      if (m === undefined) return r;
      return { ...r, pulse: m.latest.pulse, root: summaryJson(m.latest.root), org: m.org.toString("hex") };
    },
    org_info: async (p, ctx) => {
      const own = d.ledger.org?.id.toString("hex") ?? member()?.org.toString("hex");
      if (p.id === undefined || p.id === own) {
        const m = member();
        if (m === undefined) return local.org_info({}, ctx);
        return orgParamsJson(m.org, m.params, m.latest.pulse);
      }
      const view = await wrap(needNet().org.orgInfo(Buffer.from(p.id, "hex"), ctx.signal));
      return orgParamsJson(view.org, view.params, view.latest.pulse);
    },
    ledger_getAccount: async (p, ctx) => {
      const m = member();
      if (m === undefined) return local.ledger_getAccount(p, ctx);
      latestOnly(p.pulse, m.latest.pulse);
      const id = Buffer.from(p.account ?? nodeId, "hex");
      const got = await wrap(m.account(id, ctx.signal));
      return accountJson(id, got.final.pulse, got.account);
    },
    ledger_getProof: async (p, ctx) => {
      const m = member();
      if (m === undefined) return local.ledger_getProof(p, ctx);
      latestOnly(p.pulse, m.latest.pulse);
      const account = p.account ?? nodeId;
      const got = await wrap(m.account(Buffer.from(account, "hex"), ctx.signal));
      return {
        account,
        pulse: got.final.pulse,
        root: summaryJson(got.final.root),
        proof: proofToJson(got.proof),
      };
    },
    ledger_getRoot: (p, ctx) => {
      const m = member();
      if (m === undefined) return local.ledger_getRoot(p, ctx);
      latestOnly(p.pulse, m.latest.pulse);
      return summaryJson(m.latest.root);
    },
    pulse_current: (p, ctx) => {
      const m = member();
      if (m === undefined) return local.pulse_current(p, ctx);
      const l = m.latest;
      return {
        pulse: l.pulse,
        root: summaryJson(l.root),
        slot: Math.floor(Date.now() / m.params.pulsePeriodMs),
        periodMs: m.params.pulsePeriodMs,
        retained: { first: l.pulse, last: l.pulse, count: 1 },
      };
    },
    pulse_get: (p, ctx) => {
      const m = member();
      if (m === undefined) return local.pulse_get(p, ctx);
      latestOnly(p.pulse, m.latest.pulse);
      return { pulse: m.latest.pulse, root: summaryJson(m.latest.root) };
    },
    tx_transfer: async (p, { signal }) => {
      const m = member();
      if (m === undefined) return local.tx_transfer(p, { signal });
      const payer = signerOf(p.from);
      const from = payer.id.toString("hex");
      const amount = u64(p.amount, "amount");
      if (amount === 0n) throw new RpcError(RpcErrorCode.INVALID_PARAMS, "amount must be above 0");
      const committed = (await wrap(m.account(payer.id, signal))).account?.nonce ?? 0n;
      const nonce = d.nonces.next(from, committed, (t) => m.pending(t));
      const to = Buffer.from(p.to, "hex");
      const body = {
        kind: TxKind.Transfer,
        org: m.org,
        actor: payer.id,
        nonce,
        expiry: m.latest.pulse + (p.expiry ?? 10),
        to,
        amount,
      } as const;
      const { tx, bytes: signed } = signTx(body, [payer]);
      // Held from now on, so a transfer from the same payer signed meanwhile takes the next nonce;
      // given back on every way out but a submission.
      const hold = d.nonces.hold(from, nonce, tx.id.toString("hex"));
      let s: TxStatus;
      try {
        const payee = d.keys.get(p.to);
        let bytes: Buffer;
        if (payee !== undefined) bytes = countersign(signed, payee);
        else
          try {
            bytes = await needNet().org.countersign(signed, tx, signal);
          } catch (err) {
            throw new RpcError(
              RpcErrorCode.PAYEE_SIGNATURE,
              `the payee's node did not countersign (${(err as Error).message}): have its node run tx_sign on data.tx, then tx_submit`,
              { tx: signed.toString("hex") },
            );
          }
        // In nonce order after this payer's earlier transfers; never after the caller gave up.
        await hold.turn(signal);
        if (signal.aborted) throw new RpcError(RpcErrorCode.TIMEOUT, "tx_transfer gave up before submitting");
        s = await wrap(m.submit(bytes, signal));
        hold.done();
      } finally {
        hold.release();
      }
      if (p.wait === true && s.state === "pending") s = await m.verdict(s.txId, signal);
      return statusJson(s);
    },
    tx_submit: async (p, { signal }) => {
      const m = member();
      if (m === undefined) return local.tx_submit(p, { signal });
      let s = await wrap(m.submit(Buffer.from(p.tx, "hex"), signal));
      if (p.wait === true && s.state === "pending") s = await m.verdict(s.txId, signal);
      return s;
    },
    tx_status: async (p, ctx) => {
      const m = member();
      if (m === undefined) return local.tx_status(p, ctx);
      return wrap(m.status(p.txId, ctx.signal));
    },
    tx_receipt: async (p, ctx) => {
      const m = member();
      if (m === undefined) return local.tx_receipt(p, ctx);
      const r = await wrap(m.receipt(p.txId, ctx.signal));
      return {
        txId: p.txId,
        pulse: r.final.pulse,
        root: summaryJson(r.final.root),
        tx: r.txBytes.toString("hex"),
        proofs: r.proofs.map((x) => ({ account: x.id.toString("hex"), proof: proofToJson(x.proof) })),
      };
    },
    committee_info: (p, ctx) => {
      const m = member();
      if (m === undefined) return local.committee_info(p, ctx);
      throw new RpcError(
        RpcErrorCode.NOT_RETAINED,
        "this node follows its organization without keeping its books: the committee is read on a bookkeeper node",
        { retained: { first: m.latest.pulse, last: m.latest.pulse } },
      );
    },
  };

  return {
    ...local,
    ...remote,
    org_join: async (p, { signal }) => {
      if (d.ledger.org !== undefined)
        throw new RpcError(
          RpcErrorCode.ORG_EXISTS,
          `this node keeps organization ${d.ledger.org.id.toString("hex")}; a node is in one organization (start another with a fresh data dir and --no-found)`,
        );
      const { org, status } = await wrap(needNet().org.join(Buffer.from(p.org, "hex"), p.via, signal));
      return { org: p.org, name: org.params.name, pulse: org.latest.pulse, application: status };
    },
    org_approve: (p, { signal }) =>
      wrap(
        needNet().org.approvals.approve(
          Buffer.from(p.account, "hex"),
          p.role === "guest" ? Role.Guest : Role.Member,
          signal,
        ),
      ),
    org_applications: () => ({ applications: needNet().org.approvals.pending() }),
    msg_send: async (p, { signal }) => {
      const from = signerOf(p.from);
      if (p.to === undefined) await wrap(needNet().org.sendGroup(from, p.text));
      else await wrap(needNet().org.send(from, Buffer.from(p.to, "hex"), p.text, signal));
      return { sent: true };
    },
    msg_list: () => ({ messages: [...(net?.org.messages() ?? [])] }),
    net_info: () => {
      if (net === undefined) return { enabled: false, peerId: null, addrs: [], peers: 0, joined: null };
      const i = net.info();
      return { enabled: true, ...i, joined: net.org.joined()?.org.toString("hex") ?? null };
    },
  } as Handlers;
}

/** The RPC error of a network failure or a peer's refusal. */
function netError(err: unknown): unknown {
  if (err instanceof RpcError) return err;
  if (err instanceof NetError) {
    const code = {
      NOT_FOUND: RpcErrorCode.NOT_FOUND,
      FORBIDDEN: RpcErrorCode.FORBIDDEN,
      UNAVAILABLE: RpcErrorCode.NET_UNAVAILABLE,
      BUSY: RpcErrorCode.BUSY,
      REFUSED: RpcErrorCode.PEER_REFUSED,
      BAD_REQUEST: RpcErrorCode.PEER_REFUSED,
    }[err.code];
    return new RpcError(code, err.message, { code: err.code });
  }
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError"))
    return new RpcError(RpcErrorCode.TIMEOUT, "the peer did not answer in time");
  if (err instanceof Error && err.name !== "TypeError" && err.name !== "ReferenceError")
    return new RpcError(RpcErrorCode.NET_UNAVAILABLE, `the network failed: ${err.message}`);
  return err;
}
