/**
 * The applicant's side of joining (seed 3.2): a signed Apply transaction and the applicant's member
 * record, sent to the bookkeeper, or to `via` (a member's node forwards it). Approval is the
 * supervisor's (approvals.ts); the applicant's node then follows the organization (membership.ts).
 */
import type { Signer } from "../crypto/ed25519.js";
import { signMemberRecord } from "../dht/records.js";
import { decodeResponse, encodeList, Op, signRequest } from "../dht/wire.js";
import { TxKind } from "../ledger/tx.js";
import { signTx } from "../ledger/tx-codec.js";
import type { TxStatus } from "../pulse/bookkeeper.js";
import type { Membership } from "./membership.js";
import { decodeStatus } from "./protocol.js";

/** What applying needs. */
export interface ApplyDeps {
  readonly m: Membership;
  /** The node's key: the applicant. */
  readonly node: Signer;
  readonly host: {
    request(target: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
    recordParts(): { peerId: Uint8Array; addrs: Uint8Array[] };
  };
}

/** Sends this node's application to join `d.m`'s organization; the Apply's status. */
export async function applyToJoin(
  d: ApplyDeps,
  via: string | undefined,
  signal: AbortSignal,
): Promise<TxStatus> {
  const { m, node: me } = d;
  const org = m.org;
  // Its nonce (an account that never acted has none). Through a member only, with the bookkeeper not
  // found yet, a new account is assumed.
  const own = await m.account(me.id, signal).catch((err) => {
    if (via === undefined) throw err;
    return undefined;
  });
  const { bytes } = signTx(
    {
      kind: TxKind.Apply,
      org,
      actor: me.id,
      nonce: (own?.account?.nonce ?? 0n) + 1n,
      expiry: m.latest.pulse + 20,
      note: "",
    },
    [me],
  );
  const rec = signMemberRecord({ org, account: me.id, seq: BigInt(Date.now()), ...d.host.recordParts() }, me);
  const application = signRequest({ org, op: Op.Apply, body: encodeList([bytes, rec]) }, me);
  const answer =
    via !== undefined ? await d.host.request(via, application, signal) : await m.forward(application, signal);
  return decodeStatus(decodeResponse(answer));
}
