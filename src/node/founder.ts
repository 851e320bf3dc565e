/**
 * Founding an organization on this node, for `org_create` and for the start of a node with none:
 * make the organization's key and genesis (src/org), submit it, apply it at once, and wait for its
 * verdict. One founding at a time: each seals a key with scrypt (about 128 MiB with a passphrase),
 * and only one genesis can win anyway. A founding that fails leaves no key file behind.
 */
import { rm } from "node:fs/promises";
import type { Ledger } from "../ledger/ledger.js";
import { FoundError, type FoundOptions, foundOrganization } from "../org/found.js";
import { type Bookkeeper, SubmitError, type TxStatus } from "../pulse/bookkeeper.js";
import { RpcError, RpcErrorCode } from "../rpc/errors.js";
import type { Logger } from "./log.js";

/** What founding needs. */
export interface FounderDeps {
  readonly ledger: Pick<Ledger, "org">;
  readonly bookkeeper: Pick<Bookkeeper, "submit" | "closeNow" | "verdict">;
  /** This node's account: the first supervisor. */
  readonly founder: Buffer;
  readonly pulsePeriodMs: number;
  readonly keyDir: string;
  readonly passphrase?: string;
  readonly log: Logger;
}

/** What the founder chooses (defaults in src/org/found.ts). */
export type FoundRequest = Pick<
  FoundOptions,
  | "name"
  | "supply"
  | "founderAmount"
  | "committee"
  | "electionCycle"
  | "committeeSize"
  | "minDeposit"
  | "miningReward"
>;

/** A function that founds an organization and resolves once its genesis pulse is final. */
export function founder(d: FounderDeps): (o: FoundRequest, signal: AbortSignal) => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  return (o, signal) => {
    const run = queue.then(() => {
      if (signal.aborted)
        throw new RpcError(RpcErrorCode.TIMEOUT, "the call ended before the founding could begin");
      return found(d, o);
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

async function found(d: FounderDeps, o: FoundRequest): Promise<void> {
  const org = d.ledger.org;
  if (org !== undefined)
    throw new RpcError(
      RpcErrorCode.ORG_EXISTS,
      `this node already keeps organization ${org.id.toString("hex")}`,
    );
  let made: Awaited<ReturnType<typeof foundOrganization>>;
  try {
    made = await foundOrganization({
      ...o,
      founder: d.founder,
      pulsePeriodMs: d.pulsePeriodMs,
      keyDir: d.keyDir,
      ...(d.passphrase === undefined ? {} : { passphrase: d.passphrase }),
    });
  } catch (err) {
    if (err instanceof FoundError) throw new RpcError(RpcErrorCode.INVALID_PARAMS, err.message);
    throw err;
  }
  let txId: string;
  try {
    txId = d.bookkeeper.submit(made.genesis).txId;
  } catch (err) {
    await rm(made.keyPath, { force: true });
    if (!(err instanceof SubmitError)) throw err;
    const code =
      err.code === "ORG_EXISTS"
        ? RpcErrorCode.ORG_EXISTS
        : err.code === "BUSY"
          ? RpcErrorCode.BUSY
          : RpcErrorCode.STOPPING;
    throw new RpcError(code, err.message);
  }
  // Founding is a pulse of its own: apply it now rather than at the end of the slot.
  void d.bookkeeper.closeNow();
  // Once submitted, the genesis may still be applied: never give up on its verdict (the caller's
  // deadline only ends the call), or a founded organization could lose its key. A verdict always
  // comes: at worst `unknown` when the pulse fails or the node stops.
  const s: TxStatus = await d.bookkeeper.verdict(txId, new AbortController().signal);
  if (s.state !== "accepted") {
    await rm(made.keyPath, { force: true });
    if (s.state === "rejected") {
      const code = s.reason === "ORG_EXISTS" ? RpcErrorCode.ORG_EXISTS : RpcErrorCode.INVALID_PARAMS;
      throw new RpcError(code, `the genesis was rejected: ${s.message}`, { reason: s.reason });
    }
    throw new RpcError(RpcErrorCode.STOPPING, "the genesis got no verdict (the node is stopping?)");
  }
  d.log.info({ org: made.org.toString("hex") }, "organization founded");
}
