/**
 * One numbered migration runner for every Durable Object's SQLite schema (Cloudflare's actor templates do the same).
 *
 * Each object lists its steps in order, numbered from 1. The runner keeps the applied versions in `_migrations` and
 * runs each missing step in its own synchronous transaction, so a step either lands with its row or not at all. An
 * object created before the runner existed has its tables but no `_migrations`; its `legacyVersion` says which step
 * those tables already match, and the runner records the steps up to it as applied without running them.
 */
export interface MigrationStep {
  /** 1, 2, 3, … in order, never reused */
  version: number;
  name: string;
  up(sql: SqlStorage): void;
}

export interface MigrationPlan {
  steps: readonly MigrationStep[];
  /** For objects from before `_migrations`: the version their existing tables match (0 when there are none). */
  legacyVersion?(sql: SqlStorage): number;
}

const MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS _migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;

/** Tables other than SQLite's and Cloudflare's own. */
export function userTables(sql: SqlStorage): Set<string> {
  return new Set(
    sql
      .exec<{ name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`,
      )
      .toArray()
      .map((r) => r.name),
  );
}

export function hasColumn(sql: SqlStorage, table: string, column: string): boolean {
  return sql
    .exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table)
    .toArray()
    .some((c) => c.name === column);
}

/** Applies every step above the stored version; returns the version the object is now at. */
export function runMigrations(storage: DurableObjectStorage, plan: MigrationPlan): number {
  const sql = storage.sql;
  checkPlan(plan.steps);
  const fresh = !userTables(sql).has("_migrations");
  sql.exec(MIGRATIONS_DDL);
  let current = sql.exec<{ v: number | null }>(`SELECT MAX(version) AS v FROM _migrations`).one().v ?? 0;
  if (fresh && current === 0 && plan.legacyVersion) {
    const legacy = plan.legacyVersion(sql);
    storage.transactionSync(() => {
      for (const s of plan.steps.filter((s) => s.version <= legacy)) record(sql, s, 0);
    });
    current = legacy;
  }
  for (const step of plan.steps) {
    if (step.version <= current) continue;
    storage.transactionSync(() => {
      step.up(sql);
      record(sql, step, Date.now());
    });
    current = step.version;
  }
  return current;
}

function record(sql: SqlStorage, s: MigrationStep, at: number): void {
  sql.exec(`INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)`, s.version, s.name, at);
}

function checkPlan(steps: readonly MigrationStep[]): void {
  steps.forEach((s, i) => {
    if (s.version !== i + 1) throw new Error(`migration ${s.name} is numbered ${s.version}, expected ${i + 1}`);
  });
}

/** The schema as SQLite stores it, for tests that compare an upgraded object with a fresh one. */
export function schemaOf(sql: SqlStorage): string[] {
  return sql
    .exec<{ sql: string | null; name: string }>(
      `SELECT name, sql FROM sqlite_master
       WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != '_migrations' ORDER BY name`,
    )
    .toArray()
    .map((r) => `${r.name}: ${(r.sql ?? "").replace(/\s+/g, " ")}`);
}
