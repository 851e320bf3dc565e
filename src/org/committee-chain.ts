/**
 * What a member node (which keeps no books) trusts a pulse by: its finality certificate, checked
 * against the committee of the pulse's election cycle (docs/PROTOCOL.md §11.4). The node knows cycle
 * 0's committee from the genesis. It learns each later one from the committee chain: the certificate
 * of cycle c's last pulse, signed by 2f+1 of cycle c's committee, binds the hash of the committee that
 * keeps the next pulse (cycle c+1's), and the member list that hashes to it comes with it (Op.Committees).
 * A bookkeeper's word is never taken alone: a byzantine minority of a committee cannot make a
 * certificate, and one bookkeeper cannot make a member believe a committee it did not elect.
 *
 * The genesis pulse has no certificate: a member checks its root by applying the genesis itself.
 */
import { decodeList, encodeList } from "../dht/wire.js";
import { genesisCommittee } from "../election/committee.js";
import { cycleOf, schedule } from "../election/cycle.js";
import { Ledger } from "../ledger/ledger.js";
import { MemoryKV } from "../ledger/memory-kv.js";
import type { OrgParams } from "../ledger/tx.js";
import {
  type Certificate,
  CertificateError,
  certificateHeader,
  committeeHash,
  decodeCertificate,
  precheckSigners,
  verifyCertificate,
} from "../pulse/certificate.js";
import type { Summary } from "../smt/hash.js";
import { DecodeError, Reader, Writer } from "../util/bytes.js";

/** A final pulse as a member checked it: by its certificate, or as the genesis pulse. */
export interface CertifiedPulse {
  readonly org: Buffer;
  readonly pulse: number;
  readonly root: Summary;
  /** What proved it, as received (a certificate, or the genesis pulse's 8 bytes), for forwarding. */
  readonly bytes: Buffer;
}

/** A certificate whose cycle's committee this node does not know yet (it asks for the chain). */
export class UnknownCommittee extends Error {
  override name = "UnknownCommittee";
  constructor(readonly cycle: number) {
    super(`the committee of election cycle ${cycle} is not known here yet`);
  }
}

/** One link of the chain: cycle c's committee, and the certificate of cycle c−1's last pulse. */
export interface CommitteeLink {
  readonly cycle: number;
  readonly members: readonly Buffer[];
  readonly certificate: Buffer;
}

/** Most links one Committees request asks for. */
export const MAX_LINKS_PER_REQUEST = 64;
/** Most members a link lists (a certificate holds at most 1024 signers). */
const MAX_MEMBERS = 1024;
/** The proof of the genesis pulse in an answer: its number alone (u64). */
const GENESIS_PROOF_BYTES = 8;

/** The proof of finality of the genesis pulse `pulse` (it has no certificate). */
export function genesisProof(pulse: number): Buffer {
  return new Writer(GENESIS_PROOF_BYTES).u64n(pulse).finish();
}

/** Committees request body: u32 from | u16 count. */
export function encodeCommitteesRequest(from: number, count: number): Buffer {
  return new Writer(6).u32(from).u16(count).finish();
}

/** Decodes a Committees request: cycles from 1 on, 1 to 64 of them. */
export function decodeCommitteesRequest(body: Uint8Array): { from: number; count: number } {
  const r = new Reader(body);
  const from = r.u32("from");
  const count = r.u16("count");
  r.end("committees request");
  if (from === 0) throw new DecodeError("cycle 0's committee is in the genesis: ask from cycle 1");
  if (count === 0 || count > MAX_LINKS_PER_REQUEST)
    throw new DecodeError(`a committees request asks for 1 to ${MAX_LINKS_PER_REQUEST} cycles`);
  return { from, count };
}

/** Committees answer: a list of links, each list [u32 cycle, list of member ids, certificate]. */
export function encodeCommittees(links: readonly CommitteeLink[]): Buffer {
  return encodeList(
    links.map((l) => encodeList([new Writer(4).u32(l.cycle).finish(), encodeList(l.members), l.certificate])),
  );
}

/** Decodes a Committees answer (the chain checks each link). */
export function decodeCommittees(bytes: Uint8Array): CommitteeLink[] {
  return decodeList(bytes, MAX_LINKS_PER_REQUEST, "committees").map((entry) => {
    const [c, members, certificate] = decodeList(entry, 3, "committee link");
    if (c === undefined || members === undefined || certificate === undefined)
      throw new DecodeError("a committee link has three parts");
    const r = new Reader(c);
    const cycle = r.u32("cycle");
    r.end("cycle");
    const ids = decodeList(members, MAX_MEMBERS, "committee members");
    if (ids.length === 0) throw new DecodeError("a committee has at least one member");
    for (const id of ids) if (id.length !== 20) throw new DecodeError("a member id is 20 bytes");
    if (new Set(ids.map((id) => id.toString("hex"))).size !== ids.length)
      throw new DecodeError("a committee lists a member twice");
    return { cycle, members: ids, certificate };
  });
}

/** The committees of one organization that this node has checked, by cycle. */
export class CommitteeChain {
  private readonly byCycle = new Map<number, readonly Buffer[]>();
  /** The links learnt, by cycle: what this node answers Op.Committees with in turn. */
  private readonly learnt = new Map<number, CommitteeLink>();
  private top = 0;
  private genesisRoot: Promise<Summary> | undefined;

  /**
   * @param org the organization's id
   * @param params its parameters (from the checked genesis)
   * @param genesis the genesis transaction's bytes: the genesis pulse is checked by applying it
   */
  constructor(
    readonly org: Buffer,
    readonly params: OrgParams,
    private readonly genesis: Buffer,
  ) {
    this.byCycle.set(0, genesisCommittee(params));
  }

  /** The highest cycle whose committee is known here. */
  get known(): number {
    return this.top;
  }

  /** The cycle of a pulse. */
  cycleOf(pulse: number): number {
    return cycleOf(pulse, this.params.electionCycle);
  }

  /** The committee of `cycle`, if known here. */
  committee(cycle: number): readonly Buffer[] | undefined {
    return this.byCycle.get(cycle);
  }

  /** Whether `id` is in the committee keeping `pulse` (false when that committee is not known). */
  keeps(id: Buffer, pulse: number): boolean {
    return this.byCycle.get(this.cycleOf(pulse))?.some((m) => m.equals(id)) ?? false;
  }

  /**
   * Checks a certificate of this organization: decoded, every signature valid, a quorum of its
   * cycle's committee. Throws DecodeError or CertificateError, or UnknownCommittee when that committee
   * is not known yet (learn it with extend, then check again).
   */
  certified(bytes: Uint8Array): CertifiedPulse {
    // The cheap checks first: a forged certificate of many signers costs a hash per signer, not a
    // signature check, and one of an unknown committee costs nothing more.
    const cycle = this.cycleOf(this.header(bytes).pulse);
    const committee = this.byCycle.get(cycle);
    if (committee === undefined) throw new UnknownCommittee(cycle);
    precheckSigners(bytes, committee);
    const c = decodeCertificate(bytes);
    this.verify(c);
    return { org: c.org, pulse: c.pulse, root: c.root, bytes: c.bytes };
  }

  /**
   * The pulse a certificate of this organization claims, from its header alone (no signature
   * checked): what a node reads to ignore a pulse it already has. Throws DecodeError or
   * CertificateError for bytes that are no certificate of this organization.
   */
  header(bytes: Uint8Array): { pulse: number } {
    const h = certificateHeader(bytes);
    if (!h.org.equals(this.org)) throw new CertificateError("the certificate is for another organization");
    return { pulse: h.pulse };
  }

  /**
   * Checks a proof of finality as answers carry it: a certificate, or the genesis pulse's number
   * (checked by applying the genesis alone). `learn` fetches links from cycle `from` on when the
   * certificate's cycle is ahead of what is known.
   */
  async check(
    bytes: Uint8Array,
    learn?: (from: number, count: number) => Promise<readonly CommitteeLink[]>,
  ): Promise<CertifiedPulse> {
    if (bytes.length === GENESIS_PROOF_BYTES) {
      const r = new Reader(bytes);
      const pulse = r.u64Number("pulse");
      r.end("genesis pulse");
      // The bookkeeper applies the genesis in the ledger's first pulse, 0. Any other number would let
      // a peer claim an empty history up to a pulse of its choosing, hiding every later one.
      if (pulse !== 0) throw new DecodeError(`the genesis pulse is pulse 0, not ${pulse}`);
      return { org: this.org, pulse, root: await this.rootOfGenesis(), bytes: Buffer.from(bytes) };
    }
    const { pulse } = this.header(bytes);
    if (learn !== undefined) await this.catchUp(this.cycleOf(pulse), learn);
    return this.certified(bytes);
  }

  /** Learns committees up to `cycle` through `learn`, a batch at a time; throws if a link does not hold. */
  async catchUp(
    cycle: number,
    learn: (from: number, count: number) => Promise<readonly CommitteeLink[]>,
  ): Promise<void> {
    while (this.top < cycle) {
      const before = this.top;
      this.extend(await learn(this.top + 1, Math.min(MAX_LINKS_PER_REQUEST, cycle - this.top)));
      if (this.top === before) throw new UnknownCommittee(before + 1); // the peer had nothing further: not an endless loop
    }
  }

  /**
   * Adds links in order, each checked against the committee before it: the certificate is of the
   * previous cycle's last pulse, a quorum of that cycle's committee signed it, and the hash of the
   * members is what it binds. Links already known are skipped; a link that does not hold throws
   * CertificateError (those before it stay learnt).
   */
  extend(links: readonly CommitteeLink[]): void {
    for (const l of links) {
      if (l.cycle <= this.top) continue;
      if (l.cycle !== this.top + 1)
        throw new CertificateError(`the chain skips from cycle ${this.top} to ${l.cycle}`);
      const c = decodeCertificate(l.certificate);
      const last = schedule(l.cycle - 1, this.params.electionCycle).last;
      if (c.pulse !== last)
        throw new CertificateError(`cycle ${l.cycle}'s link is certificate of pulse ${c.pulse}, not ${last}`);
      this.verify(c);
      if (new Set(l.members.map((id) => id.toString("hex"))).size !== l.members.length)
        throw new CertificateError(`cycle ${l.cycle}'s committee lists a member twice`);
      if (!committeeHash(l.members).equals(c.next))
        throw new CertificateError(`cycle ${l.cycle}'s members are not the committee the certificate binds`);
      this.byCycle.set(l.cycle, [...l.members]);
      this.learnt.set(l.cycle, { cycle: l.cycle, members: [...l.members], certificate: c.bytes });
      this.top = l.cycle;
    }
  }

  /** The links learnt from cycle `from` on, at most `count` (to answer another node's Committees request). */
  links(from: number, count: number): CommitteeLink[] {
    const out: CommitteeLink[] = [];
    for (let c = from; c < from + count && c <= this.top; c++) out.push(this.learnt.get(c)!);
    return out;
  }

  private verify(c: Certificate): void {
    if (!c.org.equals(this.org)) throw new CertificateError("the certificate is for another organization");
    const cycle = this.cycleOf(c.pulse);
    const committee = this.byCycle.get(cycle);
    if (committee === undefined) throw new UnknownCommittee(cycle);
    verifyCertificate(c, committee);
  }

  /** The root after the genesis pulse: the genesis applied alone to an empty ledger (computed once). */
  private rootOfGenesis(): Promise<Summary> {
    this.genesisRoot ??= (async () => {
      const ledger = await Ledger.open(new MemoryKV());
      try {
        const out = await ledger.applyPulse(0, [this.genesis]);
        if (out.receipts.length !== 1) throw new DecodeError("the genesis does not apply");
        return ledger.rootAt(0);
      } finally {
        await ledger.close();
      }
    })();
    return this.genesisRoot;
  }
}
