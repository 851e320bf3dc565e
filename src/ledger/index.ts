/**
 * The ledger: accounts and transactions (account, tx, tx-codec), the pure state machine
 * (state-machine, rules), and the versioned store that keeps a snapshot per pulse (store, ledger),
 * whose pulses can be prepared and voted on before they are committed (prepared).
 */
export * from "./account.js";
export * from "./keys.js";
export * from "./kv.js";
export * from "./ledger.js";
export * from "./level-kv.js";
export * from "./memory-kv.js";
export * from "./retention.js";
export { paramsProblem, partiesOf } from "./rules.js";
export * from "./state-machine.js";
export * from "./store.js";
export * from "./tx.js";
export * from "./tx-codec.js";
