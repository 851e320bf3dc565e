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
  /** No such transaction, account or pulse. */
  NOT_FOUND: -32001,
  /** The pulse asked for is no longer (or not yet) kept; data: {retained: {first, last}}. */
  NOT_RETAINED: -32002,
  /** The node has no organization yet (org_create founds one). */
  NO_ORG: -32003,
  /** Too many transactions are waiting for a pulse; retry shortly. */
  BUSY: -32004,
  /** The transaction was refused on arrival (it does not decode, or is for another organization); data: {reason}. */
  TX_REFUSED: -32005,
  /** The node already keeps an organization. */
  ORG_EXISTS: -32006,
  /** The node does not hold the key of that account. */
  KEY_UNKNOWN: -32007,
  /** The payee must countersign and this node does not hold its key; data: {tx} to pass on for tx_sign. */
  PAYEE_SIGNATURE: -32008,
  /** The node is shutting down. */
  STOPPING: -32009,
  /** The network is off, or the peer that could answer cannot be reached. */
  NET_UNAVAILABLE: -32010,
  /** A peer refused: the asking account's role, or an account's privacy, does not allow it. */
  FORBIDDEN: -32011,
  /** A peer refused the request as malformed or against its policy; data: {code}. */
  PEER_REFUSED: -32012,
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
