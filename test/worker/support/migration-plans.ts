import { JOB_BROKER_MIGRATIONS } from "../../../src/durable-objects/job-broker-sql.ts";
import { ENDPOINT_MIGRATIONS } from "../../../src/durable-objects/endpoint-sql.ts";
import { ACCOUNT_LEDGER_MIGRATIONS } from "../../../src/durable-objects/account-ledger-migrations.ts";
import type { MigrationPlan } from "../../../src/durable-objects/migrations.ts";
import { WORKFLOW_RUN_MIGRATIONS } from "../../../src/durable-objects/workflow-run-sql.ts";

/** A plan the runner's own tests use: three steps, the third reshaping a table the first made. */
export const DEMO_PLAN: MigrationPlan = {
  steps: [
    {
      version: 1,
      name: "items",
      up: (sql) => sql.exec(`CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`),
    },
    { version: 2, name: "items.note", up: (sql) => sql.exec(`ALTER TABLE items ADD COLUMN note TEXT`) },
    {
      version: 3,
      name: "tags",
      up: (sql) => {
        sql.exec(`CREATE TABLE tags (item TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (item, tag)) WITHOUT ROWID`);
        sql.exec(`CREATE INDEX tags_by_tag ON tags (tag)`);
      },
    },
  ],
  legacyVersion: (sql) => (sql.exec(`SELECT 1 FROM sqlite_master WHERE name = 'items'`).toArray().length ? 2 : 0),
};

/**
 * Every Durable Object's migration plan, by name, for the test that upgrades from each earlier version.
 * Each object adds its own line here.
 */
export const MIGRATION_PLANS: Record<string, MigrationPlan> = {
  demo: DEMO_PLAN,
  broker: JOB_BROKER_MIGRATIONS,
  endpoint: ENDPOINT_MIGRATIONS,
  workflowRun: WORKFLOW_RUN_MIGRATIONS,
  ledger: ACCOUNT_LEDGER_MIGRATIONS,
};
