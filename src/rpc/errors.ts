/** JSON-RPC errors: a code from the spec's range (or ours, -32000 and below) and optional data. */

/** JSON-RPC 2.0 error codes, and the server's own. */
export const RpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** A call passed its deadline. */
  TIMEOUT: -32000,
} as const;

/** An error a method returns to its caller: `rpcCode` and `data` go into the reply as they are. */
export class RpcError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}
