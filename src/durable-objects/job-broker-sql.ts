/** SQLite schema of the JobBroker, migrated on wake; every statement is idempotent. */
export const BROKER_MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    model TEXT NOT NULL,
    runtime TEXT NOT NULL,
    gpu_classes TEXT NOT NULL,
    input TEXT NOT NULL,
    priority INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_id TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    agent_id TEXT,
    lease_expires_at INTEGER,
    leased_at INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    ttl_deadline INTEGER NOT NULL,
    exec_timeout_ms INTEGER NOT NULL,
    exec_deadline INTEGER,
    outputs TEXT,
    output_json TEXT,
    error_kind TEXT,
    error_message TEXT,
    gpu_ms INTEGER,
    load_ms INTEGER,
    gpu_class TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(status, priority DESC, seq)`,
  `CREATE INDEX IF NOT EXISTS jobs_lease ON jobs(status, lease_expires_at)`,
  // The alarm's earliest queued deadline, found without reading the queued rows (whose inputs overflow their pages).
  `CREATE INDEX IF NOT EXISTS jobs_ttl ON jobs(status, ttl_deadline)`,
  `CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    runtimes TEXT NOT NULL,
    models TEXT NOT NULL,
    gpu_class TEXT NOT NULL,
    last_seen INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`,
];

/** Indexes on columns added after the first schema: created after BROKER_COLUMNS. */
export const BROKER_INDEXES: string[] = [
  // the outbox's unsent events and its next resend, found without reading every event of the last 30 s
  `CREATE INDEX IF NOT EXISTS outbox_sent ON outbox(sent_at, created_at)`,
];

/** Columns added after the first schema: applied when missing. */
export const BROKER_COLUMNS: [table: string, column: string, type: string][] = [
  ["jobs", "busy_gpu_ms", "INTEGER"],
  // when an outbox event was last handed to the queue; it is handed over once more after RESEND_AFTER_MS
  ["outbox", "sent_at", "INTEGER"],
  ["jobs", "requires", "TEXT"],
  ["agents", "comfy", "TEXT"],
  // the GPU class and count of the agent holding the lease, from its registration: what the job is billed at
  ["jobs", "lease_gpu_class", "TEXT"],
  ["jobs", "lease_gpu_count", "INTEGER"],
  // the agent that called this job's input invalid, once: the job runs again, preferably elsewhere
  ["jobs", "input_rejected_by", "TEXT"],
  ["agents", "gpu_count", "INTEGER NOT NULL DEFAULT 1"],
];

export type JobRow = {
  id: string;
  seq: number;
  account_id: string;
  model: string;
  runtime: string;
  gpu_classes: string;
  input: string;
  priority: number;
  status: "QUEUED" | "PROCESSING" | "COMPLETED" | "FAILED" | "CANCELLED";
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  epoch: number;
  agent_id: string | null;
  lease_expires_at: number | null;
  leased_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  ttl_deadline: number;
  exec_timeout_ms: number;
  exec_deadline: number | null;
  outputs: string | null;
  output_json: string | null;
  error_kind: string | null;
  error_message: string | null;
  gpu_ms: number | null;
  load_ms: number | null;
  gpu_class: string | null;
  busy_gpu_ms: number | null;
  requires: string | null;
  lease_gpu_class: string | null;
  lease_gpu_count: number | null;
  input_rejected_by: string | null;
};

export const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
