/**
 * The ledger test fixtures in one place, for the files that import them from here
 * (test/ledger-determinism.test.ts, test/helpers/ledger-replay.ts). New tests should import from
 * the module that defines what they use:
 * - ledger-signers.ts: fixed signers, the cast, genesis parameters, signed transactions;
 * - ledger-chain.ts: the Chain ledger wrapper, verdicts, openOrg, society(), MapView;
 * - ledger-random.ts: random operations and the batch builder;
 * - ledger-model.ts: the reference model of transfers;
 * - ledger-receipts.ts: receipt checks and the JSON form of a pulse's outcome.
 */
export * from "./ledger-chain.js";
export * from "./ledger-model.js";
export * from "./ledger-random.js";
export * from "./ledger-receipts.js";
export * from "./ledger-signers.js";
