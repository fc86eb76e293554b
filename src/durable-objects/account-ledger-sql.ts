/** SQLite schema of the AccountLedger, migrated on wake; every statement is idempotent. */
export const LEDGER_MIGRATIONS: string[] = [
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

export type HoldRow = {
  id: string;
  amount: number;
  status: "pending" | "settled" | "voided" | "expired";
  charge: number;
  pricing: string;
  deadline: number;
  day: string;
  created_at: number;
  resolved_at: number | null;
  reason: string | null;
};

export type StateRow = {
  account_id: string;
  plan: string;
  limits: string;
  deposits: number;
  spent: number;
  held: number;
  total_requests: number;
};
