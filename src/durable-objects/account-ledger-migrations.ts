import { GROUP_DDL } from "./account-ledger-groups.ts";
import { MONEY_TABLES } from "./account-ledger-money-sql.ts";
import { RUNNING_DDL } from "./account-ledger-running.ts";
import { HOLD_COLUMNS, MIGRATE_V1_TO_V2, V1_TABLES } from "./account-ledger-sql.ts";
import { hasColumn, type MigrationPlan, type MigrationStep, userTables } from "./migrations.ts";

const run = (qs: readonly string[]) => (sql: SqlStorage) => qs.forEach((q) => sql.exec(q));
const tablesOf = (ddl: readonly string[]) =>
  ddl.flatMap((q) => /^CREATE TABLE (?:IF NOT EXISTS )?(\w+)/.exec(q)?.[1] ?? []);

/** The AccountLedger's schema, step by step, in the order the code added it. */
const STEPS: MigrationStep[] = [
  { version: 1, name: "v1: state, holds, journal, gcra, daily", up: run(V1_TABLES) },
  { version: 2, name: "v2: GCRA and quota in state, WITHOUT ROWID holds and journal", up: run(MIGRATE_V1_TO_V2) },
  { version: 3, name: "group_nodes (workflow runs)", up: run([GROUP_DDL]) },
  {
    version: 4,
    name: "holds: job_pool, job_model, check_at (the reconciler)",
    up: (sql) => {
      // only the missing ones: a legacy object may have any of them (the old wake added each when missing)
      for (const [col, type] of HOLD_COLUMNS)
        if (!hasColumn(sql, "holds", col)) sql.exec(`ALTER TABLE holds ADD COLUMN ${col} ${type}`);
    },
  },
  { version: 5, name: "payments and earnings", up: run(MONEY_TABLES) },
  { version: 6, name: "running holds (dedicated endpoints)", up: run(RUNNING_DDL) },
];

/**
 * Before `_migrations`, the ledger migrated on every wake: a version 1 object (it still has `gcra`) was rewritten to
 * version 2, and every later table or column was added when missing. So an object from then is at the highest step
 * whose effects are all present, taken in order.
 */
function legacyVersion(sql: SqlStorage): number {
  const tables = userTables(sql);
  if (!tables.has("state")) return 0;
  if (tables.has("gcra")) return 1;
  const present: ((sql: SqlStorage) => boolean)[] = [
    () => tables.has("group_nodes"),
    (s) => HOLD_COLUMNS.every(([col]) => hasColumn(s, "holds", col)),
    () => tablesOf(MONEY_TABLES).every((t) => tables.has(t)),
    () => tablesOf(RUNNING_DDL).every((t) => tables.has(t)),
  ];
  let version = 2;
  for (const has of present) {
    if (!has(sql)) break;
    version++;
  }
  return version;
}

export const ACCOUNT_LEDGER_MIGRATIONS: MigrationPlan = { steps: STEPS, legacyVersion };
