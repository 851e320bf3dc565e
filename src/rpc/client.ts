/**
 * The typed JSON-RPC client that scripts import (`leither/client`) instead of writing requests by
 * hand: one call or a batch, the token from the data dir's `rpc.cookie`, a deadline per request,
 * and every failure as an RpcCallError with the server's code and data (or an HTTP status).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

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
  /** Deadline of one HTTP request in milliseconds. @default 30000 */
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
    private readonly token: string,
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
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
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
