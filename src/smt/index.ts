/** The ledger tree of SPEC-smt.md: shape, hashing, proofs and their verification. */
export * from "./bits.js";
export * from "./hash.js";
export * from "./node.js";
export * from "./proof.js";
export * from "./tree.js";
export * from "./verify.js";
