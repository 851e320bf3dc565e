/**
 * Errors that carry a code (lodestar's pattern): each domain has its own code union, which maps
 * one-to-one onto JSON-RPC error codes and CLI messages.
 */

/** An error with a machine-readable `code` from the union `C`. */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
