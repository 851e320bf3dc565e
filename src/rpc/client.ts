/**
 * The typed JSON-RPC client that scripts import (`leither/client`) instead of writing requests by
 * hand: one call or a batch, the token from the data dir's `rpc.cookie`, a deadline per request,
 * and every failure as an RpcCallError with the server's code and data (or an HTTP status).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LeitherApi, MethodName } from "./api.js";

export type { AccountJson, KeyJson, LeitherApi, MethodName, OrgJson, RootJson, TxStatusJson } from "./api.js";

/** A call that failed: a JSON-RPC error from the server, or a transport failure (`code` 0). */
export class RpcCallError extends Error {
  constructor(
    /** The JSON-RPC error code, or 0 for a transport failure. */
    readonly code: number,
    message: string,
    readonly data?: unknown,
    /** The HTTP status, when the server answered with one other than 200 or 204. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "RpcCallError";
  }
}

/** Options of RpcClient. */
export interface RpcClientOptions {
  /** Deadline of one HTTP request in milliseconds (past the server's own 30 s). @default 35000 */
  readonly timeoutMs?: number;
}

/** The token in a data dir's `rpc.cookie`. */
export async function readCookie(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, "rpc.cookie"), "utf8")).trim();
}

interface Reply {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A client of one node's JSON-RPC server. */
export class RpcClient {
  private nextId = 1;

  constructor(
    readonly url: string,
    protected readonly token: string,
    private readonly opts: RpcClientOptions = {},
  ) {}

  /** Calls `method`; resolves with its result or rejects with RpcCallError. */
  async call<R = unknown>(method: string, params?: unknown): Promise<R> {
    const id = this.nextId++;
    const reply = (await this.post({ jsonrpc: "2.0", id, method, params })) as Reply;
    return unwrap(reply) as R;
  }

  /** Calls several methods in one request; each result or RpcCallError, in order. */
  async batch(calls: readonly { method: string; params?: unknown }[]): Promise<(unknown | RpcCallError)[]> {
    const ids = calls.map(() => this.nextId++);
    const replies = (await this.post(calls.map((c, i) => ({ jsonrpc: "2.0", id: ids[i], ...c })))) as Reply[];
    if (!Array.isArray(replies)) throw new RpcCallError(0, "the server did not answer the batch with a list");
    const byId = new Map(replies.map((r) => [r.id, r]));
    return ids.map((id) => {
      const r = byId.get(id);
      if (r === undefined) return new RpcCallError(0, `no reply to call ${id} of the batch`);
      try {
        return unwrap(r);
      } catch (err) {
        return err as RpcCallError;
      }
    });
  }

  private async post(body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        // Amounts may be bigints: they go as decimal strings, as the API takes them.
        body: JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 35_000),
      });
    } catch (err) {
      throw new RpcCallError(0, `cannot reach the node at ${this.url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status !== 200)
      throw new RpcCallError(
        0,
        `the node answered HTTP ${res.status}: ${text.trim()}`,
        undefined,
        res.status,
      );
    try {
      return JSON.parse(text);
    } catch {
      throw new RpcCallError(0, "the node's reply is not JSON");
    }
  }
}

function unwrap(r: Reply): unknown {
  if (r.error !== undefined) throw new RpcCallError(r.error.code, r.error.message, r.error.data);
  return r.result;
}

/** The params argument of method M: optional when every param is. */
type ParamsArg<M extends MethodName> =
  Record<string, never> extends LeitherApi[M]["params"]
    ? [params?: LeitherApi[M]["params"]]
    : [params: LeitherApi[M]["params"]];

/** One server-sent event from `GET /events`. */
export interface NodeEvent {
  /** `pulse.final`, `pulse.heartbeat` or `tx.verdict`. */
  readonly event: string;
  readonly data: unknown;
}

/**
 * The typed client of a Leither node: `request("ledger_getAccount", {account})` is checked against
 * the API's own types, and `events()` follows the node's pulses and verdicts.
 */
export class LeitherClient extends RpcClient {
  /** The client of the node running on `dataDir` (its `rpc.json` and `rpc.cookie`). */
  static async fromDataDir(dataDir: string, opts: RpcClientOptions = {}): Promise<LeitherClient> {
    let url: string;
    try {
      const doc = JSON.parse(await readFile(join(dataDir, "rpc.json"), "utf8")) as {
        url?: unknown;
        pid?: unknown;
      };
      if (typeof doc.url !== "string") throw new Error("no url");
      // Left behind by a node that died: do not send the token to whatever listens there now.
      if (typeof doc.pid === "number" && !alive(doc.pid)) throw new Error("not running");
      url = doc.url;
    } catch {
      throw new RpcCallError(
        0,
        `no node is running on data dir ${dataDir} (start one with: leither start --data-dir ${dataDir})`,
      );
    }
    let token: string;
    try {
      token = await readCookie(dataDir);
    } catch (err) {
      throw new RpcCallError(
        0,
        `cannot read the RPC token in ${join(dataDir, "rpc.cookie")}: ${(err as Error).message}`,
      );
    }
    return new LeitherClient(url, token, opts);
  }

  /** Calls method M with its typed params. */
  request<M extends MethodName>(method: M, ...params: ParamsArg<M>): Promise<LeitherApi[M]["result"]> {
    return this.call<LeitherApi[M]["result"]>(method, params[0] ?? {});
  }

  /** The node's events on `topics` (pulse, heartbeat, tx) until `signal` aborts. */
  async *events(topics: readonly string[], signal: AbortSignal): AsyncGenerator<NodeEvent> {
    let res: Response;
    try {
      res = await fetch(new URL(`events?topics=${topics.join(",")}`, this.url), {
        headers: { authorization: `Bearer ${this.token}` },
        signal,
      });
    } catch (err) {
      throw new RpcCallError(0, `cannot reach the node at ${this.url}: ${(err as Error).message}`);
    }
    if (res.status !== 200 || res.body === null)
      throw new RpcCallError(
        0,
        `the node answered HTTP ${res.status}: ${(await res.text()).trim()}`,
        undefined,
        res.status,
      );
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buf.indexOf("\n\n");
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          end = buf.indexOf("\n\n");
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data !== "") yield { event, data: JSON.parse(data) };
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }
}

/** True if process `pid` exists (EPERM: it does, as another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}
