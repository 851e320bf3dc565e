/**
 * The libp2p host: TCP, noise, yamux, identify, ping, the kad-dht in server mode under Leither's own
 * protocol id (so it never mixes with the IPFS DHT), and gossipsub. Its peer key is kept in the data
 * dir, so a node keeps its peer id across restarts. Records under `/leither/` go through
 * records.ts's validator and selector; every DHT call carries an AbortSignal.
 */
import "../polyfill.js";
import { readFile, writeFile } from "node:fs/promises";
import { noise } from "@chainsafe/libp2p-noise";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { gossipsub } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { PrivateKey } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@libp2p/yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { ClockCache } from "../util/clock-cache.js";
import { type DhtRecord, RecordError, selectRecord, validateRecord } from "./records.js";

/** The kad-dht protocol id of Leither's DHT. */
export const DHT_PROTOCOL = "/leither/kad/1.0.0";

/** Options of a Host. */
export interface HostOptions {
  /** The peer key file (created, mode 0600, if missing). */
  readonly peerKeyPath: string;
  /** Multiaddrs to listen on. @default ["/ip4/127.0.0.1/tcp/0"] */
  readonly listen?: readonly string[];
  /** Multiaddrs (with /p2p/<peer id>) to dial at start. */
  readonly bootstrap?: readonly string[];
}

/** Loads the peer key at `path`, or makes and saves a new one. */
export async function loadPeerKey(path: string): Promise<PrivateKey> {
  try {
    const doc = JSON.parse(await readFile(path, "utf8")) as { format?: unknown; privateKey?: unknown };
    if (doc.format !== "leither-peer-key" || typeof doc.privateKey !== "string")
      throw new Error(`${path} is not a leither peer key file`);
    return privateKeyFromProtobuf(Buffer.from(doc.privateKey, "base64"));
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  const key = await generateKeyPair("Ed25519");
  const doc = {
    format: "leither-peer-key",
    privateKey: Buffer.from(privateKeyToProtobuf(key)).toString("base64"),
  };
  await writeFile(path, `${JSON.stringify(doc)}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

type Services = { dht: KadDHT; identify: unknown; ping: unknown; pubsub: unknown };

/** A started libp2p host with Leither's DHT records. */
export class Host {
  private constructor(readonly node: Libp2p<Services>) {}

  /** Creates and starts a host; bootstrap peers that cannot be dialled are skipped. */
  static async start(o: HostOptions): Promise<Host> {
    // Parsed first: a bad address must fail before anything listens.
    const bootstrap = (o.bootstrap ?? []).map((a) => multiaddr(a));
    // The highest seq this host has accepted per key: kad-dht stores whatever valid record a peer
    // PUTs (its selector only runs on reads), so an older record replayed by a peer is refused here.
    const newest = new ClockCache<bigint>(10_000);
    const validate = (key: Uint8Array, value: Uint8Array) => {
      const rec = validateRecord(key, value);
      const k = Buffer.from(key).toString("latin1");
      const seen = newest.get(k);
      if (seen !== undefined && rec.seq < seen)
        throw new RecordError(`a stale record: seq ${rec.seq}, and seq ${seen} is known`);
      if (seen === undefined || rec.seq > seen) newest.set(k, rec.seq, 1);
    };
    const node = await createLibp2p({
      privateKey: await loadPeerKey(o.peerKeyPath),
      addresses: { listen: [...(o.listen ?? ["/ip4/127.0.0.1/tcp/0"])] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({
          protocol: DHT_PROTOCOL,
          // A node on loopback or a LAN must answer queries and keep private addresses.
          clientMode: false,
          peerInfoMapper: passthroughMapper,
          validators: { leither: async (key, value) => validate(key, value) },
          selectors: { leither: (key, records) => selectRecord(key, records) },
        }),
        pubsub: gossipsub(),
      },
    });
    const host = new Host(node);
    await Promise.all(
      bootstrap.map((a) => node.dial(a, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)),
    );
    return host;
  }

  /** This host's peer id and addresses. */
  get addrs(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  /** Validates and stores a signed record in the DHT. */
  async put(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void> {
    validateRecord(key, record);
    await this.node.contentRouting.put(key, record, { signal });
  }

  /**
   * The best valid record under `key`, or undefined if the DHT has none. The records peers answered
   * with are kept as they come, so a failure late in the query (kad-dht throws when it cannot send
   * a peer the correction of an outdated record) does not lose the answer.
   */
  async get(key: Uint8Array, signal: AbortSignal): Promise<DhtRecord | undefined> {
    const values: Uint8Array[] = [];
    try {
      for await (const e of this.node.services.dht.get(key, { signal })) {
        if (e.name === "VALUE") values.push(e.value);
        else if (e.name === "PEER_RESPONSE" && e.record !== undefined) values.push(e.record.value);
      }
    } catch (err) {
      if (signal.aborted || (values.length === 0 && (err as Error).name !== "NotFoundError")) throw err;
    }
    const valid = values.filter((v) => {
      try {
        validateRecord(key, v);
        return true;
      } catch {
        return false;
      }
    });
    if (valid.length === 0) return undefined;
    return validateRecord(key, valid[selectRecord(key, valid)]!);
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
