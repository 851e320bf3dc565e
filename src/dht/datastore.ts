/**
 * libp2p's datastore, in memory, with a bound on DHT records: kad-dht keeps every valid record a
 * peer PUTs, and a record is cheap to make (any fresh key signs its own member record), so without a
 * bound a peer could fill the node's memory. Past the budget the records stored longest ago go first
 * (a record stored again moves to the back). Everything else libp2p keeps (the peer store) is not
 * counted and never dropped.
 */
import { MemoryDatastore } from "datastore-core";
import { Key } from "interface-datastore";

const RECORDS = "/dht/record/";

/** A memory datastore that keeps at most `maxRecordBytes` of DHT records. */
export class BoundedDatastore extends MemoryDatastore {
  private readonly sizes = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly maxRecordBytes: number) {
    super();
  }

  override put(key: Key, val: Uint8Array, options?: { signal?: AbortSignal }) {
    const k = key.toString();
    if (!k.startsWith(RECORDS)) return super.put(key, val, options);
    this.forget(k);
    const out = super.put(key, val, options);
    this.sizes.set(k, val.length);
    this.bytes += val.length;
    for (const [old] of this.sizes) {
      if (this.bytes <= this.maxRecordBytes || old === k) break;
      this.forget(old);
      super.delete(new Key(old));
    }
    return out;
  }

  override delete(key: Key, options?: { signal?: AbortSignal }) {
    this.forget(key.toString());
    super.delete(key, options);
  }

  /** Bytes of DHT records held. */
  get recordBytes(): number {
    return this.bytes;
  }

  private forget(k: string): void {
    const n = this.sizes.get(k);
    if (n === undefined) return;
    this.bytes -= n;
    this.sizes.delete(k);
  }
}
