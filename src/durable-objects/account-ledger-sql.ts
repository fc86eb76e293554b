/**
 * SQLite schema of the AccountLedger; the steps that build it are numbered in account-ledger-migrations.ts.
 *
 * Laid out so that a request's two commits (the hold, then its settle) each touch as few B-tree pages as
 * possible, because on the request path the commit is the cost: one `state` row carries the balances, the GCRA
 * state and today's quota count; holds and journal entries are `WITHOUT ROWID` tables keyed by their ids (one
 * B-tree each, no separate unique index); pending holds are found through a partial index that only holds them.
 * Column names keep their first spelling (`resolved_at` is when a hold was closed): renaming one needs a migration.
 */

/** Version 1, as the first version of the code created it: the GCRA state and the daily count in tables of their own. */
export const V1_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    limits TEXT NOT NULL,
    deposits INTEGER NOT NULL DEFAULT 0,
    spent INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    total_requests INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    charge INTEGER NOT NULL DEFAULT 0,
    pricing TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    day TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    reason TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS holds_pending ON holds(status, deadline)`,
  `CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    hold_id TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    deposits INTEGER NOT NULL,
    spent INTEGER NOT NULL,
    held INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS gcra (key TEXT PRIMARY KEY, tat INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS daily (day TEXT PRIMARY KEY, count INTEGER NOT NULL)`,
];

const V2_TABLES = {
  state: `CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    limits TEXT NOT NULL,
    deposits INTEGER NOT NULL DEFAULT 0,
    spent INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    total_requests INTEGER NOT NULL DEFAULT 0,
    -- GCRA theoretical arrival time of the per-minute limit (ms), null before the first request
    tat INTEGER,
    -- the UTC day (YYYY-MM-DD) quota_used counts
    quota_day TEXT,
    quota_used INTEGER NOT NULL DEFAULT 0,
    CHECK (deposits >= 0 AND spent >= 0 AND held >= 0 AND deposits - spent - held >= 0)
  )`,
  holds: `CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'voided', 'expired')),
    charge INTEGER NOT NULL DEFAULT 0 CHECK (charge >= 0 AND charge <= amount),
    pricing TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    day TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    reason TEXT
  ) WITHOUT ROWID`,
  holdsPending: `CREATE INDEX holds_pending ON holds(deadline) WHERE status = 'pending'`,
  journal: `CREATE TABLE journal (
    op_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    hold_id TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    deposits INTEGER NOT NULL,
    spent INTEGER NOT NULL,
    held INTEGER NOT NULL
  ) WITHOUT ROWID`,
};

/**
 * Version 1 (separate gcra and daily tables, rowid holds and journal with unique indexes) to version 2, keeping
 * every balance, hold and journal entry; today's quota count and the GCRA state move into `state`.
 */
export const MIGRATE_V1_TO_V2: string[] = [
  `ALTER TABLE state RENAME TO state_v1`,
  V2_TABLES.state,
  `INSERT INTO state (id, account_id, plan, limits, deposits, spent, held, total_requests, tat, quota_day, quota_used)
     SELECT id, account_id, plan, limits, deposits, spent, held, total_requests,
       (SELECT tat FROM gcra WHERE key = 'rpm'),
       (SELECT MAX(day) FROM daily),
       COALESCE((SELECT count FROM daily ORDER BY day DESC LIMIT 1), 0)
     FROM state_v1`,
  `DROP TABLE state_v1`,
  `DROP INDEX IF EXISTS holds_pending`,
  `ALTER TABLE holds RENAME TO holds_v1`,
  V2_TABLES.holds,
  `INSERT INTO holds SELECT id, amount, status, charge, pricing, deadline, day, created_at, resolved_at, reason FROM holds_v1`,
  `DROP TABLE holds_v1`,
  V2_TABLES.holdsPending,
  `ALTER TABLE journal RENAME TO journal_v1`,
  V2_TABLES.journal,
  `INSERT INTO journal SELECT op_id, seq, kind, amount, hold_id, reason, created_at, deposits, spent, held FROM journal_v1`,
  `DROP TABLE journal_v1`,
  `DROP TABLE gcra`,
  `DROP TABLE daily`,
];

/**
 * Columns added to `holds` after version 2: the pool and model of the job a hold pays for, and when the reconciler
 * should check that the job exists (null once it has, or for holds with no job to check).
 */
export const HOLD_COLUMNS: [column: string, type: string][] = [
  ["job_pool", "TEXT"],
  ["job_model", "TEXT"],
  ["check_at", "INTEGER"],
];

export type HoldStatus = "pending" | "settled" | "voided" | "expired";

export type HoldRow = {
  id: string;
  amount: number;
  status: HoldStatus;
  charge: number;
  pricing: string;
  deadline: number;
  day: string;
  created_at: number;
  resolved_at: number | null;
  reason: string | null;
  job_pool: string | null;
  job_model: string | null;
  check_at: number | null;
};

export type StateRow = {
  account_id: string;
  plan: string;
  limits: string;
  deposits: number;
  spent: number;
  held: number;
  total_requests: number;
  tat: number | null;
  quota_day: string | null;
  quota_used: number;
};
