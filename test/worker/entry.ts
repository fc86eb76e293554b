/**
 * The worker the tests run: the production module as it is, plus test-only Durable Object classes bound only in
 * vitest.config.ts. Test hooks live here, never on the production classes.
 */
export * from "../../src/index.ts";
export { default } from "../../src/index.ts";
export { MigrationLab } from "./support/migration-lab.ts";
export { TestEndpoint } from "./support/test-endpoint.ts";
export { TestLedger } from "./support/test-ledger.ts";
