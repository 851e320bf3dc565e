/**
 * A bookkeeper catching up (issue 7): a node that keeps an organization's books with its committee
 * needs the whole state, which it rebuilds by replaying the final pulses from the genesis on. Each
 * pulse comes from a bookkeeper (Op.Pulses) as its accepted transactions and its certificate; it is
 * applied here and kept only if the root it leads to is the one 2f+1 of that pulse's committee
 * certified, the committee being read from the state replayed so far, and only if the committee
 * the certificate names for the next pulse is the one that state gives (the chain a member node
 * follows from certificate to certificate). A peer's answer is never
 * taken on trust: a wrong batch or a forged certificate stops the catch-up with nothing kept.
 */
import type { Signer } from "../crypto/ed25519.js";
import { memberRecordKey } from "../dht/records.js";
import { decodeList, decodeResponse, NetError, Op, signRequest } from "../dht/wire.js";
import type { Ledger, PulseOutcome } from "../ledger/ledger.js";
import { TxKind } from "../ledger/tx.js";
import { decodeCertificate, verifyCertificate } from "../pulse/certificate.js";
import { leadsTo } from "../pulse/finality-batch.js";
import { NextCommittee } from "../pulse/next-committee.js";
import { DecodeError } from "../util/bytes.js";
import { findBookkeeper, type NetPort } from "./discovery.js";
import {
  decodePulses,
  encodePulsesRequest,
  MAX_PULSES_PER_REQUEST,
  type PulseRecord,
  verifiedTx,
} from "./protocol.js";

/** What catching up needs. */
export interface ReplicaDeps {
  readonly net: NetPort;
  /** The node's key: it signs the requests. */
  readonly node: Signer;
  readonly ledger: Pick<
    Ledger,
    "org" | "head" | "applyPulse" | "prepare" | "account" | "rootAt" | "accountsAt"
  >;
  /** The committee of a pulse, from the state replayed so far. */
  readonly committee: (pulse: number) => readonly Buffer[];
  /** Who withheld its reveal, when a pulse carries a forfeit (CommitteeBook.withheld). */
  readonly withheld?: (pulse: number) => readonly Buffer[] | undefined;
  /**
   * After each pulse replayed: the committee book records draws as pulses pass, and the pulse
   * service gives the verdicts of its transactions and drops them from its pool.
   */
  readonly replayed?: (pulse: number, txs: readonly Buffer[], outcome: PulseOutcome) => Promise<void>;
  readonly log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    debug(o: object, m: string): void;
  };
}

/** A node's catching up: one at a time, and a first one retried until it succeeds. */
export class Replica {
  private catching: Promise<number> | undefined;

  constructor(
    private readonly d: ReplicaDeps,
    private readonly stopping: AbortSignal,
  ) {}

  /** Replays `org` from a bookkeeper, retrying every `retryMs` until one answers; false if stopped first. */
  async replicate(org: Buffer, retryMs: number): Promise<boolean> {
    while (!this.stopping.aborted) {
      try {
        await this.catchUp(org);
        return true;
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, "could not catch up with the organization yet");
        await new Promise((r) => setTimeout(r, retryMs).unref());
      }
    }
    return false;
  }

  /** Replays the final pulses this node lacks (joining a catch-up already running). */
  catchUp(org: Buffer | undefined): Promise<number> {
    if (org === undefined) return Promise.resolve(0);
    this.catching ??= catchUp(
      this.d,
      org,
      AbortSignal.any([this.stopping, AbortSignal.timeout(60_000)]),
    ).finally(() => {
      this.catching = undefined;
    });
    return this.catching;
  }
}

/** Why catching up stopped. */
export class ReplicaError extends Error {
  override name = "ReplicaError";
}

/**
 * Replays organization `org` up to what a bookkeeper has: the genesis first if this node has none,
 * then the final pulses. `targets` are tried in turn (the supervisor's node when omitted). Returns
 * the number of pulses applied.
 */
export async function catchUp(
  d: ReplicaDeps,
  org: Buffer,
  signal: AbortSignal,
  targets?: readonly string[],
): Promise<number> {
  const to = targets ?? (await keepers(d, org, signal));
  // Every target in turn: one that lags answers nothing newer, one that is wrong (or byzantine)
  // fails its checks, and neither may keep this node from the others.
  let last: unknown;
  let applied = 0;
  let answered = false;
  for (const target of to) {
    try {
      applied += await catchUpFrom(d, org, target, signal);
      answered = true;
    } catch (err) {
      if (signal.aborted) throw err;
      d.log.debug({ err: (err as Error).message, target }, "catching up from a bookkeeper failed");
      last = err;
    }
  }
  if (!answered)
    throw last ?? new NetError("UNAVAILABLE", "no bookkeeper of the organization can be reached");
  return applied;
}

async function catchUpFrom(
  d: ReplicaDeps,
  org: Buffer,
  target: string,
  signal: AbortSignal,
): Promise<number> {
  const ask = async (op: Op, body: Uint8Array) =>
    decodeResponse(await d.net.request(target, signRequest({ org, op, body }, d.node), signal));
  if (d.ledger.org === undefined) {
    const [genesis] = decodeList(await ask(Op.Info, Buffer.alloc(0)), 2, "info");
    if (genesis === undefined) throw new DecodeError("info has a genesis");
    const tx = verifiedTx(genesis);
    if (tx.body.kind !== TxKind.Genesis || !tx.body.org.equals(org))
      throw new ReplicaError("the genesis is not that organization's");
    const out = await d.ledger.applyPulse(0, [genesis]);
    if (!out.committed || d.ledger.org === undefined) throw new ReplicaError("the genesis did not apply");
    d.log.info({ org: org.toString("hex") }, "genesis replayed");
  } else if (!d.ledger.org.id.equals(org)) throw new ReplicaError("this node keeps another organization");
  // One for the whole catch-up: each cycle's committee is hashed once.
  const next = new NextCommittee(d.ledger, d.committee);
  let applied = 0;
  for (;;) {
    const from = (d.ledger.head ?? 0) + 1;
    const records = decodePulses(await ask(Op.Pulses, encodePulsesRequest(from, MAX_PULSES_PER_REQUEST)));
    if (records.length === 0) return applied;
    for (const r of records) {
      if (r.pulse !== (d.ledger.head ?? 0) + 1)
        throw new ReplicaError(`the bookkeeper answered pulse ${r.pulse}, not ${(d.ledger.head ?? 0) + 1}`);
      await replay(d, org, r, next);
      applied++;
    }
    d.log.debug({ head: d.ledger.head }, "caught up to");
  }
}

/**
 * Where to catch up from: the other members of the committee of the next pulse (their member
 * records), then the supervisor's node; before the genesis, the supervisor's node only.
 */
async function keepers(d: ReplicaDeps, org: Buffer, signal: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  let committee: readonly Buffer[] = [];
  try {
    if (d.ledger.org !== undefined) committee = d.committee((d.ledger.head ?? 0) + 1);
  } catch {
    // A cycle whose draw this node cannot read yet: the supervisor's node is still there.
  }
  for (const id of committee) {
    if (id.equals(d.node.id)) continue;
    const rec = await d.net.getRecord(memberRecordKey(org, id), signal).catch(() => undefined);
    if (rec?.kind === "member") out.push(...d.net.targetsOf(rec));
  }
  out.push(...(await findBookkeeper(d.net, org, signal).catch(() => [])));
  return out;
}

/**
 * Applies one final pulse if its certificate holds, its batch leads to the certified root and the
 * committee it names for the next pulse is the one the replayed state gives.
 */
async function replay(d: ReplicaDeps, org: Buffer, r: PulseRecord, next: NextCommittee): Promise<void> {
  const cert = decodeCertificate(r.certificate);
  if (!cert.org.equals(org) || cert.pulse !== r.pulse)
    throw new ReplicaError(`the certificate of pulse ${r.pulse} is for another pulse`);
  const committee = d.committee(r.pulse);
  try {
    verifyCertificate(cert, committee);
  } catch (err) {
    throw new ReplicaError(`the certificate of pulse ${r.pulse} does not hold: ${(err as Error).message}`);
  }
  // The committee too: a pulse's reward names it, and is accepted only against it.
  const withheld = d.withheld?.(r.pulse);
  const prepared = await d.ledger.prepare(r.pulse, [...r.txs], { proofs: false, committee, withheld });
  if (!leadsTo(prepared, cert.root)) {
    prepared.discard();
    throw new ReplicaError(`pulse ${r.pulse}'s transactions do not lead to its certified root`);
  }
  let named: boolean;
  try {
    named = next.hashAfter(prepared).equals(cert.next);
  } catch (err) {
    prepared.discard();
    throw err;
  }
  if (!named) {
    prepared.discard();
    throw new ReplicaError(`the certificate of pulse ${r.pulse} names another committee for the next pulse`);
  }
  const outcome = await prepared.commit({ certificate: r.certificate });
  await d.replayed?.(r.pulse, r.txs, outcome);
}
