/**
 * From the method table to what the server runs: each handler wrapped with its params check, and
 * the OpenRPC document (https://spec.open-rpc.org) that `rpc.discover` serves.
 */
import { METHODS, type MethodName, type MethodSpec, paramsSchema } from "./api.js";
import { RpcError, RpcErrorCode } from "./errors.js";
import type { Handlers } from "./methods.js";
import { validate } from "./schema.js";
import type { RpcHandler } from "./server.js";

/** The OpenRPC document of the API. */
export function openRpcDocument(version: string): Record<string, unknown> {
  const errorNames = Object.fromEntries(Object.entries(RpcErrorCode).map(([k, v]) => [v, k]));
  return {
    openrpc: "1.3.2",
    info: {
      title: "Leither node JSON-RPC",
      version,
      description:
        "HTTP POST on 127.0.0.1 with Authorization: Bearer <token in rpc.cookie>. GET /events streams pulses, heartbeats and verdicts (server-sent events); GET /metrics gives Prometheus text.",
    },
    methods: Object.entries(METHODS as Record<string, MethodSpec>).map(([name, m]) => ({
      name,
      summary: m.summary,
      paramStructure: "by-name",
      params: m.params.map((p) => ({
        name: p.name,
        required: p.required === true,
        schema: p.schema,
        ...(p.description === undefined ? {} : { description: p.description }),
      })),
      result: { name: "result", schema: m.result },
    })),
    components: {
      errors: Object.fromEntries(
        Object.entries(errorNames).map(([code, name]) => [name, { code: Number(code), message: name }]),
      ),
    },
  };
}

/** Each handler behind its params check, plus `rpc.discover`. */
export function serverMethods(h: Handlers, version: string): Record<string, RpcHandler> {
  const doc = openRpcDocument(version);
  const out: Record<string, RpcHandler> = { "rpc.discover": () => doc };
  for (const name of Object.keys(METHODS) as MethodName[]) {
    const schema = paramsSchema(METHODS[name] as MethodSpec);
    const handler = h[name] as (p: unknown, ctx: { signal: AbortSignal }) => unknown;
    out[name] = (raw, ctx) => {
      // By name only; an empty list stands for no params.
      const params = raw === undefined || (Array.isArray(raw) && raw.length === 0) ? {} : raw;
      if (Array.isArray(params))
        throw new RpcError(RpcErrorCode.INVALID_PARAMS, `${name} takes its params by name (an object)`);
      const problem = validate(schema, params, "params");
      if (problem !== undefined) throw new RpcError(RpcErrorCode.INVALID_PARAMS, problem);
      return handler(params, ctx);
    };
  }
  return out;
}
