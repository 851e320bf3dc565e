/**
 * libp2p's datastore, in memory, with a bound on DHT records: kad-dht keeps every valid record a
 * peer PUTs, and a record is cheap to make (any fresh key signs its own member record), so without a
 * bound a peer could fill the node's memory. When the budget is full a record under a new key is
 * refused, while records already held can still be replaced by newer ones: a flood then cannot push
 * out the records the network already relies on (an organization's, its supervisor's). Provider
 * records, which Leither never uses, are not kept at all. Everything else libp2p keeps (the peer
 * store) is not counted.
 */
import { MemoryDatastore } from "datastore-core";
import type { Key } from "interface-datastore";

const RECORDS = "/dht/record/";
const PROVIDERS = "/dht/provider/";
/** What an entry costs besides its value: its key and the map's own bookkeeping, roughly. */
const ENTRY_OVERHEAD = 256;

/** Why a record was not stored. */
export class StoreFullError extends Error {
  override name = "StoreFullError";
}

/** A memory datastore that keeps at most `maxRecordBytes` of DHT records (values, keys, overhead). */
export class BoundedDatastore extends MemoryDatastore {
  private readonly sizes = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly maxRecordBytes: number) {
    super();
  }

  override put(key: Key, val: Uint8Array, options?: { signal?: AbortSignal }) {
    const k = key.toString();
    if (k.startsWith(PROVIDERS)) return key;
    if (!k.startsWith(RECORDS)) return super.put(key, val, options);
    const size = val.length + k.length + ENTRY_OVERHEAD;
    const old = this.sizes.get(k);
    if (old === undefined && this.bytes + size > this.maxRecordBytes)
      throw new StoreFullError("this node holds as many DHT records as it keeps");
    const out = super.put(key, val, options);
    this.bytes += size - (old ?? 0);
    this.sizes.set(k, size);
    return out;
  }

  override delete(key: Key, options?: { signal?: AbortSignal }) {
    const k = key.toString();
    const n = this.sizes.get(k);
    if (n !== undefined) {
      this.bytes -= n;
      this.sizes.delete(k);
    }
    return super.delete(key, options);
  }

  /** What the DHT records held cost, in bytes (values, keys, overhead). */
  get recordBytes(): number {
    return this.bytes;
  }
}
