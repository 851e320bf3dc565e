/**
 * A deterministic simulation of the committee protocol (src/pulse/tendermint.ts) in one process.
 * Everything random comes from one seed: the committee's size and its byzantine members, message
 * delays, drops, duplicates (reordering follows from the delays), partitions, crashes and restarts.
 * Virtual time, no clock and no Math.random, so a failing seed replays exactly:
 *
 *   node dist/test/helpers/consensus-sim-run.js --seed 123 --trace
 *
 * The application is a hash chain: a value carries its parent root, its batch and the root it
 * claims; honest re-execution computes root = H(parent, batch). Byzantine members (at most f)
 * equivocate (different proposals and votes to different peers), propose wrong roots, or stay
 * silent. Each node keeps a sign guard that survives its crashes, as the daemon's guard file does,
 * and restores its lock from it on restart.
 *
 * Checked at every decision: no two honest nodes finalize different values for one height, and a
 * final value is the honest re-execution of the final chain. Checked at the end: after the network
 * heals (GST) and crashed nodes are back, every honest node reaches the target height.
 */
import { hash } from "node:crypto";
import {
  type Action,
  Height,
  type Lock,
  type ProposalIn,
  quorum,
  type RoundStep,
  type VoteIn,
} from "../../src/pulse/tendermint.js";
import { Queue, rng } from "./sim-scheduler.js";

/** A value of the simulated chain. */
interface Value {
  readonly height: number;
  readonly parent: string;
  readonly batch: string;
  readonly root: string;
}

type Byzantine = "equivocate" | "wrong-root" | "silent";

type Msg =
  | { readonly t: "proposal"; readonly height: number; readonly p: ProposalIn<Value> }
  | { readonly t: "vote"; readonly height: number; readonly v: VoteIn }
  | { readonly t: "need"; readonly height: number; readonly from: string };

/** What a run found. */
export interface SimResult {
  readonly seed: number;
  readonly n: number;
  readonly byzantine: readonly string[];
  /** Safety or liveness violations (empty when the run passed). */
  readonly violations: readonly string[];
  /** Final height reached by every honest node. */
  readonly minHeight: number;
  readonly messages: number;
  readonly crashes: number;
  readonly equivocations: number;
  readonly maxRound: number;
  readonly trace: readonly string[];
}

/** Options of one run. */
export interface SimOptions {
  /** Heights every honest node must finalize. @default 4 */
  readonly heights?: number;
  /** Record a trace of every delivery and action. */
  readonly trace?: boolean;
  /** Break the protocol's assumption on purpose: f + 1 equivocators among 4 (the checker must see forks). */
  readonly tooManyByzantine?: boolean;
}

const h16 = (s: string) => hash("sha256", s, "hex").slice(0, 16);
const execute = (parent: string, batch: string) => h16(`${parent}|${batch}`);
const idOf = (v: Value) => h16(`${v.height}|${v.parent}|${v.batch}|${v.root}`);
const GENESIS = "genesis";
const TIMEOUTS = { propose: 300, proposeDelta: 150, vote: 200, voteDelta: 150 };

/** One committee member. */
interface Node {
  readonly id: string;
  readonly byz: Byzantine | undefined;
  /** Survives crashes: the decided chain, the sign guard, the certificates it can hand out. */
  readonly chain: { id: string; value: Value }[];
  readonly guard: Map<string, string>;
  readonly certs: Map<number, Msg[]>;
  lock: { height: number; lock: Lock<Value> } | undefined;
  /** Lost on a crash. */
  engine: Height<Value> | undefined;
  epoch: number;
  up: boolean;
  future: Map<number, Msg[]>;
  lastNeed: Map<string, number>;
}

/** Runs one seed. */
export function simulate(seed: number, opts: SimOptions = {}): SimResult {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const target = opts.heights ?? 4;
  const n = opts.tooManyByzantine === true ? 4 : pick([1, 2, 3, 4, 4, 4, 4, 5, 7]);
  const f = n - quorum(n);
  const nByz = opts.tooManyByzantine === true ? f + 1 : Math.floor(rand() * (f + 1));
  const committee = Array.from({ length: n }, (_, i) => `b${i}`);
  // Byzantine members are anywhere in the drawn order, the chief included.
  const byzIds = new Set<string>();
  while (byzIds.size < nByz) byzIds.add(pick(committee));
  const kinds: Byzantine[] = ["equivocate", "wrong-root", "silent"];
  const nodes = committee.map<Node>((id) => ({
    id,
    byz: byzIds.has(id) ? (opts.tooManyByzantine === true ? "equivocate" : pick(kinds)) : undefined,
    chain: [],
    guard: new Map(),
    certs: new Map(),
    lock: undefined,
    engine: undefined,
    epoch: 0,
    up: true,
    future: new Map(),
    lastNeed: new Map(),
  }));
  const byId = new Map(nodes.map((x) => [x.id, x]));
  const honest = nodes.filter((x) => x.byz === undefined);
  const q = new Queue();
  const trace: string[] = [];
  const log = opts.trace === true ? (s: string) => trace.push(`${q.now} ${s}`) : () => {};
  const violations: string[] = [];
  const finalBy = new Map<number, { id: string; value: Value }>();
  let messages = 0;
  let crashes = 0;
  let equivocations = 0;
  let maxRound = 0;

  // The network: chaotic until GST, then every message arrives within 20 ms.
  const gst = 2000 + Math.floor(rand() * 8000);
  const dropRate = rand() * 0.4;
  const dupRate = rand() * 0.1;
  const chaosDelay = 20 + Math.floor(rand() * 600);
  const partition =
    rand() < 0.5
      ? { from: Math.floor(rand() * gst), to: gst, side: new Set(committee.filter(() => rand() < 0.5)) }
      : undefined;

  const send = (from: Node, to: Node, m: Msg) => {
    messages++;
    const now = q.now;
    const chaos = now < gst;
    if (
      chaos &&
      partition !== undefined &&
      now >= partition.from &&
      partition.side.has(from.id) !== partition.side.has(to.id)
    )
      return;
    if (chaos && from !== to && rand() < dropRate) return;
    const copies = chaos && rand() < dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = from === to ? 0 : 1 + Math.floor(rand() * (chaos ? chaosDelay : 20));
      q.at(now + delay, () => deliver(to, m));
    }
  };
  const broadcast = (from: Node, m: Msg) => {
    for (const to of nodes) send(from, to, m);
  };

  const height = (x: Node) => x.chain.length;
  const root = (x: Node) => x.chain[x.chain.length - 1]?.value.root ?? GENESIS;

  const startHeight = (x: Node) => {
    const h = height(x);
    const lock = x.lock?.height === h ? x.lock.lock : undefined;
    // A restart resumes at the last round it signed in and says again what it said there.
    let resume = 0;
    for (const k of x.guard.keys()) {
      const [gh, gr] = k.split("/");
      if (Number(gh) === h) resume = Math.max(resume, Number(gr));
    }
    x.engine = new Height<Value>({ committee, me: x.id, timeouts: TIMEOUTS, lock });
    act(x, h, x.engine.start(resume));
    if (x.byz === undefined) sayAgain(x, h);
    const waiting = x.future.get(h) ?? [];
    x.future.delete(h);
    for (const m of waiting) deliver(x, m);
  };

  const decide = (x: Node, h: number, a: Extract<Action<Value>, { type: "decide" }>) => {
    const v = a.value;
    const honestRoot = execute(root(x), v.batch);
    if (v.parent !== root(x) || v.root !== honestRoot || v.height !== h)
      violations.push(
        `seed ${seed}: ${x.id} finalized a value that is not the honest re-execution at height ${h}`,
      );
    const prior = finalBy.get(h);
    if (prior === undefined) finalBy.set(h, { id: a.id, value: v });
    else if (prior.id !== a.id)
      violations.push(`seed ${seed}: fork at height ${h}: ${prior.id} and ${a.id} (${x.id})`);
    x.chain.push({ id: a.id, value: v });
    x.certs.set(h, [
      { t: "proposal", height: h, p: a.proposal },
      ...a.precommits.map<Msg>((p) => ({ t: "vote", height: h, v: p })),
    ]);
    log(`${x.id} final h${h} r${a.round} ${a.id}`);
    x.engine = undefined;
    if (height(x) < target + 2) startHeight(x);
  };

  const sign = (x: Node, h: number, round: number, step: RoundStep, id: string): string | undefined => {
    const k = `${h}/${round}/${step}`;
    const had = x.guard.get(k);
    if (had === undefined) {
      x.guard.set(k, id);
      return id;
    }
    // A restart may try a conflicting vote: the guard refuses it; the recorded one is sent instead.
    return step === "propose" && had !== id ? undefined : had;
  };

  // Only with tooManyByzantine: per (height, round), the two values shown to the two sides.
  const forkPlan = new Map<string, [string, string]>();
  const side = (to: Node, coin: boolean) =>
    opts.tooManyByzantine === true ? Number(to.id.slice(1)) % 2 === 0 : coin;
  const act = (x: Node, h: number, actions: Action<Value>[]) => {
    for (const a of actions) {
      if (x.engine === undefined || height(x) !== h || !x.up) return;
      log(
        `${x.id} h${h} ${a.type} ${JSON.stringify(a, (k, v) => (k === "value" || k === "precommits" ? undefined : v))}`,
      );
      switch (a.type) {
        case "build": {
          const batch = `tx-${x.id}-${h}-${a.round}-${Math.floor(rand() * 1e6)}`;
          const parent = root(x);
          const value: Value = {
            height: h,
            parent,
            batch,
            root: x.byz === "wrong-root" ? h16(`bad${batch}`) : execute(parent, batch),
          };
          act(x, h, x.engine.propose(a.round, idOf(value), value));
          break;
        }
        case "proposal": {
          maxRound = Math.max(maxRound, a.round);
          if (x.byz === "silent") break;
          if (sign(x, h, a.round, "propose", `${a.id}/${a.validRound}`) === undefined) break;
          const p: ProposalIn<Value> = {
            round: a.round,
            validRound: a.validRound,
            id: a.id,
            value: a.value,
            signer: x.id,
          };
          if (x.byz === "equivocate") {
            // Half the committee gets another value for the same round, just as valid.
            const batch = `${a.value.batch}-other`;
            const other: Value = { ...a.value, batch, root: execute(a.value.parent, batch) };
            const alt = { ...p, id: idOf(other), value: other };
            // Past f, the byzantine coordinate: each side of the honest ones is shown one value.
            if (opts.tooManyByzantine === true) forkPlan.set(`${h}/${a.round}`, [p.id, alt.id]);
            for (const to of nodes)
              send(x, to, { t: "proposal", height: h, p: side(to, rand() < 0.5) ? p : alt });
          } else broadcast(x, { t: "proposal", height: h, p });
          break;
        }
        case "vote": {
          maxRound = Math.max(maxRound, a.round);
          if (x.byz === "silent") break;
          const id = sign(x, h, a.round, a.step, a.id ?? "nil");
          const v: VoteIn = {
            step: a.step,
            round: a.round,
            id: id === "nil" ? null : (id ?? null),
            signer: x.id,
          };
          const plan = forkPlan.get(`${h}/${a.round}`);
          if (x.byz === "equivocate" && plan !== undefined)
            for (const to of nodes)
              send(x, to, { t: "vote", height: h, v: { ...v, id: side(to, true) ? plan[0] : plan[1] } });
          else if (x.byz === "equivocate")
            for (const to of nodes)
              send(x, to, {
                t: "vote",
                height: h,
                v: rand() < 0.5 ? v : { ...v, id: rand() < 0.5 ? null : h16(`junk${rand()}`) },
              });
          else broadcast(x, { t: "vote", height: h, v });
          break;
        }
        case "validate": {
          const v = a.value;
          const ok =
            v.height === h &&
            v.parent === root(x) &&
            v.root === execute(v.parent, v.batch) &&
            idOf(v) === a.id;
          // Re-execution takes a little time.
          const epoch = x.epoch;
          q.at(q.now + 1 + Math.floor(rand() * 5), () => {
            if (x.epoch === epoch && x.up && height(x) === h && x.engine !== undefined)
              act(x, h, x.engine.validated(a.id, ok));
          });
          break;
        }
        case "timeout": {
          const epoch = x.epoch;
          q.at(q.now + a.ms, () => {
            if (x.epoch === epoch && x.up && height(x) === h && x.engine !== undefined)
              act(x, h, x.engine.onTimeout(a.step, a.round));
          });
          break;
        }
        case "lock":
          x.lock = { height: h, lock: a.lock };
          break;
        case "equivocation":
          equivocations++;
          if (!byzIds.has(a.signer))
            violations.push(`seed ${seed}: honest ${a.signer} equivocated (seen by ${x.id})`);
          break;
        case "decide":
          decide(x, h, a);
          return;
      }
    }
  };

  const deliver = (x: Node, m: Msg) => {
    if (!x.up || x.byz === "silent") return;
    if (opts.trace === true)
      log(
        m.t === "need"
          ? `${x.id} <- need h${m.height} from ${m.from}`
          : m.t === "proposal"
            ? `${x.id} <- proposal h${m.height} r${m.p.round} vr${m.p.validRound} ${m.p.id} by ${m.p.signer}`
            : `${x.id} <- ${m.v.step} h${m.height} r${m.v.round} ${m.v.id} by ${m.v.signer}`,
      );
    const h = height(x);
    if (m.t === "need") {
      // A lagging peer: hand it the certificate of the height it is at.
      const cert = x.certs.get(m.height);
      const to = byId.get(m.from)!;
      if (cert !== undefined) for (const c of cert) send(x, to, c);
      return;
    }
    const sender = m.t === "proposal" ? m.p.signer : m.v.signer;
    if (m.height < h) {
      // A peer behind us: tell it, once in a while, how the height ended.
      const k = `${sender}/${m.height}`;
      if ((x.lastNeed.get(k) ?? -1e9) + 200 <= q.now) {
        x.lastNeed.set(k, q.now);
        for (const c of x.certs.get(m.height) ?? []) send(x, byId.get(sender)!, c);
      }
      return;
    }
    if (m.height > h) {
      const list = x.future.get(m.height) ?? [];
      if (list.length < 500 && m.height <= h + 3) list.push(m);
      x.future.set(m.height, list);
      const k = `need/${sender}/${h}`;
      if ((x.lastNeed.get(k) ?? -1e9) + 200 <= q.now) {
        x.lastNeed.set(k, q.now);
        send(x, byId.get(sender)!, { t: "need", height: h, from: x.id });
      }
      return;
    }
    if (x.engine === undefined) return;
    if (m.t === "proposal") {
      act(x, h, x.engine.onProposal(m.p));
    } else act(x, h, x.engine.onVote(m.v));
  };

  // Every vote this node signed at the height, from its guard (a restart forgets the rest, the guard does not).
  const sayAgain = (x: Node, h: number) => {
    for (const [k, id] of x.guard) {
      const [gh, gr, step] = k.split("/");
      if (Number(gh) !== h || step === "propose") continue;
      const v: VoteIn = {
        step: step as "prevote" | "precommit",
        round: Number(gr),
        id: id === "nil" ? null : id,
        signer: x.id,
      };
      broadcast(x, { t: "vote", height: h, v });
    }
  };

  // Resend what each live honest node said in its current round, so dropped messages are not lost forever.
  const resend = (x: Node) => {
    const epoch = x.epoch;
    q.at(q.now + 250, () => {
      if (x.epoch !== epoch) return;
      if (x.up && x.engine !== undefined && x.byz === undefined) {
        const h = height(x);
        const r = x.engine.resend();
        for (const p of r.proposals) broadcast(x, { t: "proposal", height: h, p });
        for (const v of r.votes) broadcast(x, { t: "vote", height: h, v });
        sayAgain(x, h);
      }
      resend(x);
    });
  };

  // Crashes: honest nodes only (byzantine ones already do what they like), all back before GST.
  for (const x of honest)
    if (rand() < 0.3) {
      const down = Math.floor(rand() * gst * 0.8);
      const back = down + 1 + Math.floor(rand() * (gst - down - 1));
      q.at(down, () => {
        crashes++;
        x.up = false;
        x.epoch++;
        x.engine = undefined;
        x.future = new Map();
        log(`${x.id} crashed`);
      });
      q.at(back, () => {
        x.up = true;
        x.epoch++;
        log(`${x.id} restarted at h${height(x)}`);
        startHeight(x);
        resend(x);
      });
    }

  for (const x of nodes) {
    q.at(0, () => startHeight(x));
    resend(x);
  }
  const deadline = gst + 60_000;
  while (q.now <= deadline && violations.length === 0) {
    if (honest.every((x) => height(x) >= target)) break;
    if (!q.pop()) break;
  }
  const minHeight = Math.min(...honest.map(height));
  if (violations.length === 0 && minHeight < target)
    violations.push(
      `seed ${seed}: liveness: honest nodes reached only height ${minHeight} of ${target} by ${deadline} ms`,
    );
  return {
    seed,
    n,
    byzantine: [...byzIds].map((id) => `${id}:${byId.get(id)!.byz}`),
    violations,
    minHeight,
    messages,
    crashes,
    equivocations,
    maxRound,
    trace,
  };
}
