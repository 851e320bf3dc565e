/**
 * The composition root: the one place that builds the services and wires them. Everything else
 * gets what it needs handed in (the ledger, a bus, a narrow interface), so services never import
 * each other. Order of start: data dir, config, logs, keys, store and ledger, pulse, RPC; stop runs
 * the other way, and waits for the pulse being written before the store closes.
 */

import { readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Signer } from "../crypto/ed25519.js";
import { readKeyFile } from "../crypto/keyfile.js";
import { Keyring } from "../crypto/keyring.js";
import { type BatchVerifier, InlineVerifier } from "../crypto/verify-batch.js";
import { LazyVerifyPool } from "../crypto/verify-lazy.js";
import { ledgerSource } from "../election/accounts.js";
import { CommitteeBook } from "../election/book.js";
import { Ledger } from "../ledger/ledger.js";
import { LevelKV } from "../ledger/level-kv.js";
import type { OrgEvents } from "../org/events.js";
import { OrgService } from "../org/service.js";
import { Bookkeeper } from "../pulse/bookkeeper.js";
import type { PulseEvents } from "../pulse/events.js";
import { Finality } from "../pulse/finality.js";
import { NonceBook } from "../pulse/nonces.js";
import { SignGuard } from "../pulse/sign-guard.js";
import { EventStream } from "../rpc/events.js";
import { handlers, type NetDeps } from "../rpc/methods-net.js";
import { NodeMetrics } from "../rpc/metrics.js";
import { serverMethods } from "../rpc/openrpc.js";
import { RpcServer } from "../rpc/server.js";
import { VERSION } from "../version.js";
import { TypedBus } from "./bus.js";
import { type LoadedConfig, loadConfig } from "./config.js";
import { dataDirPaths, initDataDir } from "./data-dir.js";
import { founder } from "./founder.js";
import { type Startable, startAll, stopAll } from "./lifecycle.js";
import { createLogger, type LogOptions, type NodeLog } from "./log.js";

/** Options of startNode. */
export interface NodeOptions {
  readonly dataDir: string;
  /** Config flags by field (`"rpc.port": "0"`), the top layer. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** How the CLI spells those flags, for error messages. */
  readonly flagNames?: Readonly<Record<string, string>>;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The passphrase of sealed key files. */
  readonly passphrase?: string;
  /** Where logs go and how they look (level and modules come from the config). */
  readonly log?: Pick<LogOptions, "pretty" | "destination">;
}

/** The file a running node writes so that the CLI finds its RPC server. */
export const RPC_FILE = "rpc.json";
/** The libp2p peer key (the node's peer id), in the data dir. */
export const PEER_KEY_FILE = "peer-key.json";
/** The organization this node joined, in the data dir. */
export const MEMBERSHIP_FILE = "membership.json";
/** What this node's key signed as a bookkeeper (never sign twice), in the data dir. */
export const SIGN_GUARD_FILE = "sign-guard.jsonl";
/** The committees this node knows, by cycle. */
export const COMMITTEES_FILE = "committees.json";
/** This node's lock in the pulse being finalized. */
export const LOCK_FILE = "finality-lock.json";
/** Test only: a byzantine bookkeeper ("wrong-root" or "equivocate"), for the devnet tests. */
const BYZANTINE_ENV = "LEITHER_TEST_BYZANTINE";

/** A running node. */
export interface RunningNode {
  readonly url: string;
  readonly config: LoadedConfig;
  readonly log: NodeLog;
  readonly bus: TypedBus<PulseEvents & OrgEvents>;
  readonly ledger: Ledger;
  readonly keys: Keyring;
  /** Stops every service (in reverse order) and closes the store; safe to call twice. */
  stop(): Promise<void>;
}

/** Builds and starts a node on `opts.dataDir`; fails with a clear message if it cannot. */
export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const startedAt = Date.now();
  const paths = (
    await initDataDir(opts.dataDir, opts.passphrase === undefined ? {} : { passphrase: opts.passphrase })
  ).paths;
  const config = loadConfig({
    dataDir: opts.dataDir,
    env: opts.env ?? process.env,
    flags: opts.flags ?? {},
    ...(opts.flagNames === undefined ? {} : { flagNames: opts.flagNames }),
  });
  const c = config.config;
  const log = createLogger({ level: c.log.level, modules: c.log.modules, ...opts.log });
  const keys = await Keyring.open(paths.key, join(paths.root, "keys"), opts.passphrase);

  const threads = c.verify.threads === 0 ? availableParallelism() : c.verify.threads;
  // One core: threads would only add memory and copying. Several: threads while there is work.
  const verifier: BatchVerifier = threads > 1 ? new LazyVerifyPool({ threads }) : new InlineVerifier();
  const closers: (() => Promise<void>)[] = [() => verifier.close()];
  const closeAll = async () => {
    for (const f of closers.splice(0).reverse())
      await f().catch((err) => log.root.error({ err }, "close failed"));
  };
  let ledger: Ledger;
  let guard: SignGuard;
  try {
    guard = await SignGuard.open(join(paths.root, SIGN_GUARD_FILE));
    closers.push(() => guard.close());
    const kv = await LevelKV.open(paths.db);
    ledger = await Ledger.open(kv, {
      verifier,
      retention: { keepLast: c.ledger.keepLast, keepEvery: c.ledger.keepEvery },
      cacheBytes: c.ledger.cacheMb * 1024 * 1024,
      accountCacheBytes: c.ledger.accountCacheMb * 1024 * 1024,
      indexTxs: true,
    });
    closers.push(() => ledger.close());
  } catch (err) {
    await closeAll();
    throw err;
  }

  // An organization's period is its own (its genesis says it); the config only sets a new one's.
  const periodMs = ledger.org?.params.pulsePeriodMs ?? c.pulse.periodMs;
  if (periodMs !== c.pulse.periodMs && config.sources["pulse.periodMs"] !== "default")
    log.root.warn(
      { configured: c.pulse.periodMs, organization: periodMs },
      "pulse.periodMs is ignored: the organization's genesis fixes its period",
    );
  const bus = new TypedBus<PulseEvents & OrgEvents>((err, event) =>
    log.root.error({ err, event }, "a bus listener failed"),
  );
  const pulseLog = log.module("pulse");
  const committees = await CommitteeBook.open(join(paths.root, COMMITTEES_FILE), ledgerSource(ledger));
  // A draw due before a crash and not yet written: made and written now, while its snapshot is held.
  if (ledger.head !== undefined)
    await committees
      .committed(ledger.head)
      .catch((err) => log.root.warn({ err }, "could not record the committee due at the head"));
  // The network, once up, carries the committee's messages and relays transactions; until then (or
  // with --no-net) they go nowhere, which a committee of one does not need.
  const wire = { send: (_b: Buffer) => {}, relay: (_tx: Buffer) => {} };
  const byzantine = (opts.env ?? process.env)[BYZANTINE_ENV];
  const keep = c.org.keep ?? undefined;
  const finality = new Finality({
    ledger,
    signer: keys.node,
    guard: guard!,
    committee: (pulse) => committees.of(pulse),
    deposits: (pulse) => committees.deposits(pulse),
    withheld: (pulse) => committees.withheld(pulse),
    transport: { broadcast: (b) => wire.send(b) },
    log: log.module("finality"),
    lockPath: join(paths.root, LOCK_FILE),
    timeouts: { propose: periodMs, proposeDelta: periodMs / 2, vote: periodMs / 2, voteDelta: periodMs / 2 },
    resendMs: periodMs,
    onDecided: (d) => {
      bookkeeper.decided({ pulse: d.pulse, txs: d.proposal.txs, outcome: d.outcome });
      committees
        .committed(d.pulse)
        .catch((err) => pulseLog.error({ err }, "could not record the next committee"));
    },
    onRefused: (txs, prepared) => bookkeeper.refused(txs, prepared.results),
    relay: (tx) => wire.relay(tx),
    onBehind: () => void net?.service.catchUp().catch((err) => pulseLog.debug({ err }, "catching up failed")),
    ...(byzantine === "wrong-root" || byzantine === "equivocate" ? { byzantine } : {}),
  });
  const bookkeeper = new Bookkeeper({
    ledger,
    signer: keys.node,
    bus,
    log: pulseLog,
    periodMs,
    finality,
    relay: (tx) => wire.relay(tx),
  });
  bus.on("pulse.final", (p) =>
    pulseLog.info(
      {
        pulse: p.pulse,
        root: p.root.hash.slice(0, 16),
        sum: p.root.sum,
        count: p.root.count,
        accepted: p.accepted,
        rejected: p.rejected,
        ms: Math.round(p.applyMs),
      },
      "pulse final",
    ),
  );
  // An idle node heartbeats every slot: one line in ten at info keeps the log readable.
  let beats = 0;
  bus.on("pulse.heartbeat", (h) =>
    pulseLog[beats++ % 10 === 0 ? "info" : "debug"](
      { pulse: h.pulse, slot: h.slot },
      "heartbeat (no change)",
    ),
  );
  const rpcLog = log.module("rpc");
  const metrics = new NodeMetrics(bus, () => bookkeeper.pending, ledger.head);
  const events = new EventStream(bus);
  const createOrg = founder({
    ledger,
    bookkeeper,
    founder: keys.node.id,
    pulsePeriodMs: periodMs,
    keyDir: join(paths.root, "orgs"),
    ...(opts.passphrase === undefined ? {} : { passphrase: opts.passphrase }),
    log: log.root,
  });
  const nonces = new NonceBook();
  let net: { service: OrgService; deps: NetDeps } | undefined;
  if (c.net.enabled) {
    try {
      net = await startNetwork();
    } catch (err) {
      await closeAll();
      throw err;
    }
  }
  /** The libp2p host (imported only when the network is on: it costs about 50 MB) and the org service. */
  async function startNetwork(): Promise<{ service: OrgService; deps: NetDeps }> {
    const { Host } = await import("../dht/host.js");
    const host = await Host.start({
      peerKeyPath: join(paths.root, PEER_KEY_FILE),
      listen: c.net.listen,
      bootstrap: c.net.bootstrap,
    });
    closers.push(() => host.stop());
    const netLog = log.module("net");
    netLog.info({ peerId: host.peerId, addrs: host.addrs }, "peer-to-peer network joined");
    const service = new OrgService({
      host,
      keys,
      orgKey: async (org) =>
        new Signer(
          await readKeyFile(
            join(paths.root, "orgs", `${org.toString("hex")}.json`),
            opts.passphrase === undefined ? {} : { passphrase: opts.passphrase },
          ),
        ),
      ledger,
      bookkeeper,
      committee: (pulse) => committees.of(pulse),
      withheld: (pulse) => committees.withheld(pulse),
      replayed: async (pulse, txs, outcome) => {
        await committees.committed(pulse);
        bookkeeper.decided({ pulse, txs, outcome });
        finality.replayed(txs);
      },
      ...(keep === undefined ? {} : { keep }),
      consensus: {
        check: (b) => void finality.check(b),
        receive: (b) => finality.receive(b),
        connect: (send, relay) => {
          wire.send = send;
          wire.relay = relay;
        },
      },
      bus,
      nonces,
      membershipFile: join(paths.root, MEMBERSHIP_FILE),
      autoApprove: c.org.autoApprove,
      autoCountersign: c.org.autoCountersign,
      log: netLog,
    });
    return {
      service,
      deps: { org: service, info: () => ({ peerId: host.peerId, addrs: host.addrs, peers: host.peerCount }) },
    };
  }
  let server!: RpcServer;
  const methods = serverMethods(
    handlers(
      {
        version: VERSION,
        dataDir: paths.root,
        startedAt,
        periodMs,
        rpcUrl: () => server.url,
        peers: () => net?.deps.info().peers ?? 0,
        ledger,
        committee: (pulse) => committees.of(pulse),
        evidence: () => finality.evidenceHeld,
        pulse: bookkeeper,
        keys,
        nonces,
        createOrg,
        ...(net === undefined ? {} : { countersign: net.service.countersign.bind(net.service) }),
      },
      net?.deps,
    ),
    VERSION,
  );
  server = new RpcServer({
    methods,
    token: (await readFile(paths.cookie, "utf8")).trim(),
    port: c.rpc.port,
    routes: { "/metrics": (q, s) => metrics.serve(q, s), "/events": (q, s) => events.serve(q, s) },
    onCall: (m, sec, ok) => metrics.observeCall(m, sec, ok),
    onError: (err, method) => rpcLog.error({ err, method }, "a method failed unexpectedly"),
  });
  const rpcFile = join(paths.root, RPC_FILE);
  const rpcService: Startable = {
    name: "rpc",
    async start() {
      await server.start();
      await writeFile(rpcFile, `${JSON.stringify({ url: server.url, pid: process.pid })}\n`, { mode: 0o600 });
      rpcLog.info({ url: server.url }, "JSON-RPC listening");
    },
    async stop() {
      events.close();
      await server.stop();
      await rm(rpcFile, { force: true });
    },
  };
  const finalityService: Startable = { name: "finality", start: async () => {}, stop: () => finality.stop() };
  const services: Startable[] = [
    bookkeeper,
    finalityService,
    ...(net === undefined ? [] : [net.service]),
    rpcService,
  ];
  try {
    await startAll(services);
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.root.info(
    { dataDir: paths.root, account: keys.node.id.toString("hex"), pulse: ledger.head ?? null, threads },
    "node started",
  );
  // The node's one AbortController: aborted first thing at stop, so work the node started on its own
  // (founding at start) gives up quietly instead of failing against services being stopped.
  const shutdown = new AbortController();
  // A node that keeps another organization's books replays it instead of founding its own.
  if (ledger.org === undefined && c.org.autoFound && keep === undefined)
    createOrg(
      {
        name: c.org.name,
        committee: c.org.committee,
        electionCycle: c.org.electionCycle,
        minDeposit: c.org.minDeposit,
        miningReward: c.org.miningReward,
      },
      shutdown.signal,
    ).catch((err) => {
      if (!shutdown.signal.aborted) log.root.error({ err }, "could not found the local organization");
    });

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    config,
    log,
    bus,
    ledger,
    keys,
    stop() {
      stopping ??= (async () => {
        log.root.info("stopping");
        shutdown.abort();
        const errors = await stopAll(services);
        for (const e of errors) log.root.error({ err: e.error, service: e.service }, "stop failed");
        metrics.close();
        await closeAll();
        log.root.info("stopped");
      })();
      return stopping;
    },
  };
}

/** The paths of a data dir (re-exported for the CLI). */
export { dataDirPaths };
