/**
 * The D1 schema, one file per resource under schema/ (drizzle.config.ts and every query import this index). D1 holds
 * what is read broadly and changes rarely. Money lives in the AccountLedger DO, jobs in the JobBroker DO.
 */
export * from "./schema/accounts.ts";
export * from "./schema/providers.ts";
export * from "./schema/catalog.ts";
export * from "./schema/requests.ts";
export * from "./schema/console.ts";
export * from "./schema/webhooks.ts";
export * from "./schema/workflows.ts";
export * from "./schema/endpoints.ts";
