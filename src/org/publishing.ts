/**
 * Putting this node's records into the DHT: its organization's (signed by the organization key, on
 * the founder's node) and its own member record (its account to its peer id and addresses). A put
 * that fails is only logged: the caller retries on its schedule.
 */
import type { Signer } from "../crypto/ed25519.js";
import { memberRecordKey, orgRecordKey, signMemberRecord, signOrgRecord } from "../dht/records.js";
import type { OrgParams } from "../ledger/tx.js";

/** What publishing needs. */
export interface PublisherDeps {
  readonly host: {
    putRecord(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void>;
    recordParts(): { peerId: Uint8Array; addrs: Uint8Array[] };
  };
  /** The node's key: it signs the node's member record. */
  readonly node: Signer;
  readonly log: { debug(o: object, m: string): void };
  /** Aborted at stop (a failure then is not worth a log line). */
  readonly stopping: AbortSignal;
}

/** Puts records in the DHT; each call says whether it was stored. */
export class RecordPublisher {
  constructor(private readonly d: PublisherDeps) {}

  /** Stores a signed record; false if it could not be stored (yet). */
  async put(key: Uint8Array, rec: Uint8Array, signal: AbortSignal): Promise<boolean> {
    try {
      await this.d.host.putRecord(key, rec, signal);
      return true;
    } catch (err) {
      if (!this.d.stopping.aborted) this.d.log.debug({ err }, "a DHT record could not be stored yet");
      return false;
    }
  }

  /** This node's member record for `org`, with a new seq (the time). */
  publishSelf(org: Buffer, signal: AbortSignal): Promise<boolean> {
    const rec = signMemberRecord(
      { org, account: this.d.node.id, seq: BigInt(Date.now()), ...this.d.host.recordParts() },
      this.d.node,
    );
    return this.put(memberRecordKey(org, this.d.node.id), rec, signal);
  }

  /** The organization's record, signed by its key, with a new seq (the time). */
  publishOrg(org: Buffer, params: OrgParams, orgKey: Signer, signal: AbortSignal): Promise<boolean> {
    const rec = signOrgRecord(
      {
        org,
        seq: BigInt(Date.now()),
        name: params.name,
        pulsePeriodMs: params.pulsePeriodMs,
        supervisor: params.supervisor,
      },
      orgKey,
    );
    return this.put(orgRecordKey(org), rec, signal);
  }
}
