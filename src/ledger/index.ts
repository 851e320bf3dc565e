/** The ledger's versioned store: the tree of src/smt kept per pulse in a KV (LevelDB or memory). */
export * from "./keys.js";
export * from "./kv.js";
export * from "./level-kv.js";
export * from "./memory-kv.js";
export * from "./retention.js";
export * from "./store.js";
