/**
 * The JSON-RPC 2.0 server: HTTP POST on 127.0.0.1 only, a bearer token required on every request
 * (the token lives in the data dir's `rpc.cookie`), single and batch requests, a body size limit,
 * a deadline per call. Bad input of any kind gets the JSON-RPC error it deserves (or HTTP 401/413)
 * and the server goes on; a handler's unexpected failure is reported as an internal error without
 * its stack, and passed to `onError` for the logs.
 */
import { timingSafeEqual } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RpcError, RpcErrorCode } from "./errors.js";

export { RpcError, RpcErrorCode } from "./errors.js";

/** A method: takes the request's params (unchecked: the handler validates them) and a signal. */
export type RpcHandler = (params: unknown, ctx: { readonly signal: AbortSignal }) => unknown;

/** Options of RpcServer. */
export interface RpcServerOptions {
  /** Methods by name (`namespace_verb`). */
  readonly methods: Readonly<Record<string, RpcHandler>>;
  /** The bearer token clients must send. */
  readonly token: string;
  /** TCP port on 127.0.0.1; 0 takes any free port. @default 0 */
  readonly port?: number;
  /** Largest request body in bytes. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Most calls in one batch. @default 100 */
  readonly maxBatch?: number;
  /** Deadline of one call in milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** Receives what a handler threw unexpectedly. */
  readonly onError?: (err: unknown, method: string) => void;
  /** GET routes by path (`/metrics`, `/events`), behind the same token. */
  readonly routes?: Readonly<
    Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>
  >;
  /** Told of each call: its method (known ones only), seconds taken, and whether it succeeded. */
  readonly onCall?: (method: string, seconds: number, ok: boolean) => void;
}

type Id = string | number | null;

/** The deadline of one HTTP request: its signal, and a promise that rejects when it passes. */
interface Deadline {
  readonly signal: AbortSignal;
  readonly expired: Promise<never>;
  readonly ms: number;
}
interface Reply {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** The server. start() listens; stop() closes it and waits for open requests. */
export class RpcServer {
  readonly name = "rpc";
  private server: Server | undefined;
  private readonly token: Buffer;
  private address: string | undefined;
  private stopping = false;
  /** Responses not yet sent: at stop they are told to close their connection. */
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly opts: RpcServerOptions) {
    if (opts.token.length < 16) throw new RangeError("the RPC token must be at least 16 characters");
    this.token = Buffer.from(opts.token);
  }

  /** The server's URL once started. */
  get url(): string {
    if (this.address === undefined) throw new Error("the RPC server is not started");
    return this.address;
  }

  /** Listens on 127.0.0.1; a port in use fails at once with a clear message. */
  start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = (this.opts.timeoutMs ?? 30_000) + 10_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      const onListenError = (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        reject(
          err.code === "EADDRINUSE"
            ? new Error(`port ${this.opts.port} on 127.0.0.1 is in use (is another leither running?)`)
            : err,
        );
      };
      server.once("error", onListenError);
      server.listen(this.opts.port ?? 0, "127.0.0.1", () => {
        // Once listening, an error (EMFILE on accept, say) is reported, and the server goes on.
        server.off("error", onListenError);
        server.on("error", (err) => this.opts.onError?.(err, "(server)"));
        this.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        resolve();
      });
    });
  }

  /**
   * Stops: new requests get 503, the ones in flight finish and close their connections, and kept-alive
   * connections are closed as they fall idle; after `graceMs` whatever is left is cut.
   */
  stop(graceMs = 5000): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return Promise.resolve();
    this.stopping = true;
    for (const res of this.open) if (!res.headersSent) res.shouldKeepAlive = false;
    return new Promise((resolve) => {
      const sweep = setInterval(() => s.closeIdleConnections(), 50);
      const cut = setTimeout(() => s.closeAllConnections(), graceMs);
      s.close(() => {
        clearInterval(sweep);
        clearTimeout(cut);
        resolve();
      });
      s.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.stopping) return plain(res, 503, "the node is stopping");
    this.open.add(res);
    res.on("close", () => this.open.delete(res));
    try {
      const path = (req.url ?? "/").split("?")[0];
      const route = req.method === "GET" && path !== undefined ? this.opts.routes?.[path] : undefined;
      if (route === undefined && (req.method !== "POST" || (path !== "/" && path !== "")))
        return plain(res, 404, "not found");
      if (!this.authorized(req.headers.authorization))
        return plain(res, 401, "a bearer token is required (see rpc.cookie in the data dir)", {
          "www-authenticate": "Bearer",
        });
      if (route !== undefined) return await route(req, res);
      const body = await readBody(req, this.opts.maxBodyBytes ?? 1024 * 1024);
      if (body === undefined) return plain(res, 413, "request body too large");
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString("utf8"));
      } catch {
        return json(
          res,
          reply(null, new RpcError(RpcErrorCode.PARSE_ERROR, "parse error: the body is not JSON")),
        );
      }
      if (Array.isArray(doc)) {
        const max = this.opts.maxBatch ?? 100;
        if (doc.length === 0 || doc.length > max)
          return json(
            res,
            reply(null, new RpcError(RpcErrorCode.INVALID_REQUEST, `a batch holds 1 to ${max} calls`)),
          );
        const out = (await this.withDeadline((dl) => Promise.all(doc.map((d) => this.call(d, dl))))).filter(
          (r): r is Reply => r !== undefined,
        );
        return out.length === 0 ? void res.writeHead(204).end() : json(res, out);
      }
      const r = await this.withDeadline((dl) => this.call(doc, dl));
      return r === undefined ? void res.writeHead(204).end() : json(res, r);
    } catch (err) {
      // A client that hung up mid-request is not the server's failure.
      if (req.destroyed || res.destroyed) return;
      this.opts.onError?.(err, "(http)");
      if (!res.headersSent) plain(res, 500, "internal error");
      else res.destroy();
    }
  }

  private authorized(header: string | undefined): boolean {
    if (header === undefined || !header.startsWith("Bearer ")) return false;
    const given = Buffer.from(header.slice(7).trim());
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  /**
   * Runs the calls of one request under one deadline (one timer and one signal per request, not per
   * call: a batch of 100 transactions costs one of each).
   */
  private async withDeadline<T>(fn: (dl: Deadline) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    // Every call of a batch may wait on the one signal.
    setMaxListeners((this.opts.maxBatch ?? 100) + 1, ac.signal);
    const ms = this.opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Rejected first: a handler that settles on the abort must not win the race.
        reject(new RpcError(RpcErrorCode.TIMEOUT, `the request took longer than ${ms} ms`));
        ac.abort();
      }, ms);
    });
    expired.catch(() => undefined);
    try {
      return await fn({ signal: ac.signal, expired, ms });
    } finally {
      clearTimeout(timer);
    }
  }

  /** One call; undefined for a notification (no id). */
  private async call(d: unknown, dl: Deadline): Promise<Reply | undefined> {
    if (typeof d !== "object" || d === null || Array.isArray(d))
      return reply(null, new RpcError(RpcErrorCode.INVALID_REQUEST, "a call is a JSON object"));
    const o = d as Record<string, unknown>;
    const hasId = "id" in o;
    const id = o.id;
    if (hasId && id !== null && typeof id !== "string" && !(typeof id === "number" && Number.isFinite(id)))
      return reply(null, new RpcError(RpcErrorCode.INVALID_REQUEST, "id must be a string, a number or null"));
    const rid = (hasId ? id : null) as Id;
    if (o.jsonrpc !== "2.0")
      return reply(rid, new RpcError(RpcErrorCode.INVALID_REQUEST, 'jsonrpc must be "2.0"'));
    if (typeof o.method !== "string")
      return reply(rid, new RpcError(RpcErrorCode.INVALID_REQUEST, "method must be a string"));
    if (o.params !== undefined && (typeof o.params !== "object" || o.params === null))
      return reply(rid, new RpcError(RpcErrorCode.INVALID_REQUEST, "params must be an array or an object"));
    const handler = Object.hasOwn(this.opts.methods, o.method) ? this.opts.methods[o.method] : undefined;
    let result: unknown;
    let error: RpcError | undefined;
    const t0 = performance.now();
    if (handler === undefined) error = new RpcError(RpcErrorCode.METHOD_NOT_FOUND, `no method ${o.method}`);
    else {
      try {
        const out = handler(o.params, { signal: dl.signal });
        // A synchronous result needs no race against the deadline.
        result = out instanceof Promise ? await Promise.race([out, dl.expired]) : out;
      } catch (err) {
        if (err instanceof RpcError)
          error =
            err.rpcCode === RpcErrorCode.TIMEOUT && dl.signal.aborted
              ? new RpcError(RpcErrorCode.TIMEOUT, `${o.method} took longer than ${dl.ms} ms`)
              : err;
        else {
          this.opts.onError?.(err, o.method);
          error = new RpcError(RpcErrorCode.INTERNAL_ERROR, `internal error in ${o.method}`);
        }
      }
    }
    if (handler !== undefined)
      this.opts.onCall?.(o.method, (performance.now() - t0) / 1000, error === undefined);
    if (!hasId) return undefined;
    return error === undefined ? { jsonrpc: "2.0", id: rid, result: result ?? null } : reply(rid, error);
  }
}

function reply(id: Id, e: RpcError): Reply {
  return {
    jsonrpc: "2.0",
    id,
    error:
      e.data === undefined
        ? { code: e.rpcCode, message: e.message }
        : { code: e.rpcCode, message: e.message, data: e.data },
  };
}

/** Reads a body up to `max` bytes; undefined (and the connection dropped after the reply) past it. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
      } else parts.push(c);
    });
    req.on("end", () => resolve(size > max ? undefined : Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  res
    .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    .end(text);
}

function plain(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close", ...headers })
    .end(`${text}\n`);
}
