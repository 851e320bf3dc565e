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
import { gossipsub, TopicValidatorResult } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { PrivateKey, Stream } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { peerIdFromMultihash, peerIdFromString } from "@libp2p/peer-id";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { lpStream } from "@libp2p/utils";
import { yamux } from "@libp2p/yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import * as Digest from "multiformats/hashes/digest";
import { ClockCache } from "../util/clock-cache.js";
import { BoundedDatastore } from "./datastore.js";
import { type DhtRecord, RecordError, selectRecord, validateRecord } from "./records.js";
import { PeerThrottle } from "./throttle.js";
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from "./wire.js";

/** The kad-dht protocol id of Leither's DHT. */
export const DHT_PROTOCOL = "/leither/kad/1.0.0";
/** The request/response protocol id: one request frame, one response frame per stream. */
export const REQUEST_PROTOCOL = "/leither/req/1.0.0";
/** DHT records a node keeps for the network, in bytes counted with keys and overhead (about 7,000 of 2 KiB). */
const RECORD_STORE_BYTES = 16 * 1024 * 1024;
/** Largest gossipsub frame a peer may send. */
const GOSSIP_FRAME_BYTES = 1024 * 1024;
/** How long a looked-up record is used without asking the DHT again, and how many are kept. */
const RECORD_CACHE_MS = 60_000;
const RECORD_CACHE_ENTRIES = 1000;
/** The longest a DHT lookup runs. */
const GET_TIMEOUT_MS = 10_000;
/** How long a peer has to send its request, and a request to be answered. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Answers one request from a peer (bytes as received) with the response's bytes. */
export type RequestHandler = (request: Uint8Array, peer: string, signal: AbortSignal) => Promise<Uint8Array>;

/** A gossip message that passed its topic's check. */
export type GossipHandler = (topic: string, data: Uint8Array, from: string) => void;

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

type Services = {
  dht: KadDHT;
  identify: unknown;
  ping: unknown;
  pubsub: ReturnType<ReturnType<typeof gossipsub>>;
};

/** A started libp2p host with Leither's DHT records. */
export class Host {
  /** Records looked up lately, by key. */
  private readonly recent = new Map<string, { rec: DhtRecord; at: number }>();

  private constructor(
    readonly node: Libp2p<Services>,
    /** validateRecord, and no older seq than one this host accepted (the DHT's validator too). */
    private readonly check: (key: Uint8Array, value: Uint8Array) => void,
  ) {}

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
      datastore: new BoundedDatastore(RECORD_STORE_BYTES),
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
          // The first node of a network (no bootstrap peers) answers from its own store at once;
          // a node with bootstrap peers holds its queries until one is in its routing table, so
          // that its first query does not run before it knows anyone.
          allowQueryWithZeroPeers: bootstrap.length === 0,
          peerInfoMapper: passthroughMapper,
          validators: { leither: async (key, value) => validate(key, value) },
          selectors: { leither: (key, records) => selectRecord(key, records) },
        }),
        pubsub: gossipsub({
          // Leither's messages carry their own account signatures; gossipsub's own are kept too.
          allowPublishToZeroTopicPeers: true,
          // A gossip frame carries statements, transactions and messages of a few KiB at most.
          maxInboundDataLength: GOSSIP_FRAME_BYTES,
        }),
      },
    });
    const host = new Host(node, validate);
    await Promise.all(
      bootstrap.map((a) => node.dial(a, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)),
    );
    return host;
  }

  /** This host's peer id and addresses. */
  get addrs(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  /** Where a member record says its node listens (see Host.targetsOf). */
  targetsOf(rec: { peerId: Uint8Array; addrs: readonly Uint8Array[] }): string[] {
    return Host.targetsOf(rec);
  }

  /** Validates and stores a signed record in the DHT (this host keeps a copy too). */
  putRecord(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void> {
    return this.put(key, record, signal);
  }

  /**
   * The best valid record under `key` (see get), from a short-lived cache unless `fresh`: a transfer
   * to a member looks its record up each time, and a DHT query costs hundreds of milliseconds.
   */
  async getRecord(key: Uint8Array, signal: AbortSignal, fresh = false): Promise<DhtRecord | undefined> {
    const k = Buffer.from(key).toString("latin1");
    const hit = this.recent.get(k);
    if (!fresh && hit !== undefined && performance.now() - hit.at < RECORD_CACHE_MS) return hit.rec;
    const rec = await this.get(key, signal);
    this.recent.delete(k);
    if (rec !== undefined) {
      if (this.recent.size >= RECORD_CACHE_ENTRIES) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(k, { rec, at: performance.now() });
    }
    return rec;
  }

  /**
   * Validates and stores a signed record in the DHT. A record older than one this host knows is
   * refused (RecordError): kad-dht would store it locally over the newer one.
   */
  async put(key: Uint8Array, record: Uint8Array, signal: AbortSignal): Promise<void> {
    this.check(key, record);
    await this.node.contentRouting.put(key, record, { signal });
  }

  /**
   * The best valid record under `key`, or undefined if the DHT has none. The records peers answered
   * with are kept as they come, so a failure late in the query (kad-dht throws when it cannot send
   * a peer the correction of an outdated record) does not lose the answer.
   */
  async get(
    key: Uint8Array,
    signal: AbortSignal,
  ): Promise<(DhtRecord & { readonly bytes: Uint8Array }) | undefined> {
    const values: Uint8Array[] = [];
    // A lookup that finds nothing within its bound is "not found", not a hung caller.
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(GET_TIMEOUT_MS)]);
    try {
      for await (const e of this.node.services.dht.get(key, { signal: bounded })) {
        if (e.name === "VALUE") values.push(e.value);
        else if (e.name === "PEER_RESPONSE" && e.record !== undefined) values.push(e.record.value);
      }
    } catch (err) {
      const name = (err as Error).name;
      if (signal.aborted) throw err;
      if (values.length === 0 && name !== "NotFoundError" && !bounded.aborted) throw err;
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
    const best = valid[selectRecord(key, valid)]!;
    return { ...validateRecord(key, best), bytes: best };
  }

  /** This host's peer id. */
  get peerId(): string {
    return this.node.peerId.toString();
  }

  /** What this host's member record says: its peer id's bytes and up to 8 addresses' bytes. */
  recordParts(): { peerId: Uint8Array; addrs: Uint8Array[] } {
    return {
      peerId: this.node.peerId.toMultihash().bytes,
      addrs: this.node
        .getMultiaddrs()
        .map((m) => m.bytes)
        .filter((b) => b.length <= 128)
        .slice(0, 8),
    };
  }

  /** Where a member record says its node listens, as dialable strings (peer id last). */
  static targetsOf(rec: { peerId: Uint8Array; addrs: readonly Uint8Array[] }): string[] {
    let id: string;
    try {
      id = peerIdFromMultihash(Digest.decode(rec.peerId)).toString();
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const b of rec.addrs) {
      try {
        const a = multiaddr(b).toString();
        out.push(a.includes("/p2p/") ? a : `${a}/p2p/${id}`);
      } catch {
        // A malformed address in a signed record is the signer's loss; the others may work.
      }
    }
    out.push(id);
    return out;
  }

  /** Peers with an open connection. */
  get peerCount(): number {
    return this.node.getPeers().length;
  }

  /** Dials an address (with /p2p/<peer id>) or a known peer id. */
  async dial(target: string, signal: AbortSignal): Promise<void> {
    await this.node.dial(target.startsWith("/") ? multiaddr(target) : peerIdFromString(target), { signal });
  }

  /**
   * Serves the request protocol: each stream carries one request (at most MAX_REQUEST_BYTES) and
   * gets one response. A peer over its rate gets nothing but a closed stream; a handler's error
   * only closes that stream.
   */
  handleRequests(handler: RequestHandler, throttle = new PeerThrottle(1000, 2000)): Promise<void> {
    return this.node.handle(
      REQUEST_PROTOCOL,
      async (stream: Stream, connection) => {
        const peer = connection.remotePeer.toString();
        const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
        try {
          if (!throttle.take(peer)) throw new Error("throttled");
          const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES });
          const request = (await lp.read({ signal })).subarray();
          await lp.write(await handler(request, peer, signal), { signal });
          await stream.close({ signal });
        } catch (err) {
          stream.abort(err as Error);
        }
      },
      // A member with transfers in flight and receipts to fetch keeps many requests open at once.
      { maxInboundStreams: 128, maxOutboundStreams: 128 },
    );
  }

  /** Sends one request to a peer (id or address) and returns the response's bytes. */
  async request(target: string, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const to = target.startsWith("/") ? multiaddr(target) : peerIdFromString(target);
    const sig = AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const stream = await this.node.dialProtocol(to, REQUEST_PROTOCOL, { signal: sig });
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES });
      await lp.write(request, { signal: sig });
      const response = (await lp.read({ signal: sig })).subarray();
      await stream.close({ signal: sig }).catch(() => undefined);
      return response;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /**
   * Joins a gossip topic. `check` runs on each message before gossipsub forwards it: a message it
   * refuses (throws) is dropped as invalid, one it answers `false` is dropped quietly (genuine but
   * not news), and one it accepts goes to `on` and on to the mesh.
   */
  subscribe(topic: string, check: (data: Uint8Array) => unknown, on: GossipHandler): void {
    const pubsub = this.node.services.pubsub;
    pubsub.topicValidators.set(topic, async (_peer, msg) => {
      try {
        return (await check(msg.data)) === false ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept;
      } catch {
        return TopicValidatorResult.Reject;
      }
    });
    pubsub.addEventListener("message", (evt) => {
      const m = evt.detail;
      if (m.topic !== topic) return;
      on(topic, m.data, m.type === "signed" ? m.from.toString() : "");
    });
    pubsub.subscribe(topic);
  }

  /** Publishes on a gossip topic (a topic with no peers yet is not an error). */
  async publish(topic: string, data: Uint8Array): Promise<void> {
    await this.node.services.pubsub.publish(topic, data);
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
