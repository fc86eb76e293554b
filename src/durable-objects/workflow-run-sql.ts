/** SQLite schema of a WorkflowRun, migrated on wake; every statement is idempotent. */
export const RUN_MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER,
    deadline INTEGER NOT NULL,
    held INTEGER NOT NULL,
    charge INTEGER,
    error_node TEXT,
    error_kind TEXT,
    error_message TEXT,
    -- 0 until the ledger, D1 and the webhook have all been told of the terminal state (the alarm retries)
    finalized INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    pool TEXT NOT NULL,
    job_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    max_cost INTEGER NOT NULL,
    charge INTEGER,
    input TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at INTEGER,
    started_at INTEGER,
    ended_at INTEGER,
    gpu_ms INTEGER,
    outputs TEXT,
    output_json TEXT,
    error_kind TEXT,
    error_message TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    node TEXT,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
  )`,
];

export type RunStatus = "QUEUED" | "PROCESSING" | "COMPLETED" | "FAILED" | "CANCELLED";
export type NodeStatus = "PENDING" | RunStatus;
export const TERMINAL_RUN = new Set<string>(["COMPLETED", "FAILED", "CANCELLED"]);

export type RunRow = {
  run_id: string;
  account_id: string;
  spec: string;
  status: RunStatus;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  deadline: number;
  held: number;
  charge: number | null;
  error_node: string | null;
  error_kind: string | null;
  error_message: string | null;
  finalized: number;
};

export type NodeRow = {
  id: string;
  model: string;
  pool: string;
  job_id: string;
  status: NodeStatus;
  max_cost: number;
  charge: number | null;
  input: string | null;
  attempts: number;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  gpu_ms: number | null;
  outputs: string | null;
  output_json: string | null;
  error_kind: string | null;
  error_message: string | null;
};

export type EventRow = { seq: number; type: string; node: string | null; data: string; at: number };
