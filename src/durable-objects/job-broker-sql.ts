import { hasColumn, type MigrationPlan, type MigrationStep, userTables } from "./migrations.ts";

/** The JobBroker's first schema: the queue, the agents that poll it, the outbox, and a sequence counter. */
const TABLES: string[] = [
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

/** A step, and how to tell that an object from before `_migrations` already has what it makes. */
type BrokerStep = MigrationStep & { present(sql: SqlStorage): boolean };

/**
 * Adds a column only when missing, as objects from before `_migrations` did on each wake: such an object may hold a
 * column of a step above its legacy version, and the step must still run cleanly.
 */
function column(version: number, table: string, name: string, type: string): BrokerStep {
  return {
    version,
    name: `${table}.${name}`,
    up: (sql) => {
      if (!hasColumn(sql, table, name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
    },
    present: (sql) => hasColumn(sql, table, name),
  };
}

const QUEUE_COUNTS = [
  `CREATE TABLE IF NOT EXISTS queue_counts (priority INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
  `INSERT OR REPLACE INTO queue_counts (priority, n)
     SELECT priority, COUNT(*) FROM jobs WHERE status = 'QUEUED' GROUP BY priority`,
  `CREATE TRIGGER IF NOT EXISTS jobs_queued_insert AFTER INSERT ON jobs WHEN NEW.status = 'QUEUED' BEGIN
     INSERT INTO queue_counts (priority, n) VALUES (NEW.priority, 1)
       ON CONFLICT (priority) DO UPDATE SET n = n + 1;
   END`,
  `CREATE TRIGGER IF NOT EXISTS jobs_queued_delete AFTER DELETE ON jobs WHEN OLD.status = 'QUEUED' BEGIN
     UPDATE queue_counts SET n = n - 1 WHERE priority = OLD.priority;
   END`,
  `CREATE TRIGGER IF NOT EXISTS jobs_queued_update AFTER UPDATE OF status, priority ON jobs
   WHEN OLD.status = 'QUEUED' OR NEW.status = 'QUEUED' BEGIN
     UPDATE queue_counts SET n = n - 1 WHERE OLD.status = 'QUEUED' AND priority = OLD.priority;
     INSERT INTO queue_counts (priority, n) SELECT NEW.priority, 1 WHERE NEW.status = 'QUEUED'
       ON CONFLICT (priority) DO UPDATE SET n = n + 1;
   END`,
];

function index(version: number, name: string, on: string): BrokerStep {
  return {
    version,
    name,
    up: (sql) => sql.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${on}`),
    present: (sql) =>
      sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`, name).toArray().length > 0,
  };
}

/** Steps in the order they were first deployed (each later column used to be added on wake when missing). */
const STEPS: BrokerStep[] = [
  {
    version: 1,
    name: "tables",
    up: (sql) => {
      for (const q of TABLES) sql.exec(q);
    },
    present: (sql) => userTables(sql).has("jobs"),
  },
  // what the agent's GPU sampler saw busy during the job
  column(2, "jobs", "busy_gpu_ms", "INTEGER"),
  // a private ComfyUI graph's custom node types and model files, and those an agent declares
  column(3, "jobs", "requires", "TEXT"),
  column(4, "agents", "comfy", "TEXT"),
  {
    // each job's progress events (job-events.ts)
    version: 5,
    name: "job_events",
    up: (sql) =>
      sql.exec(`CREATE TABLE IF NOT EXISTS job_events (
      job_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL,
      PRIMARY KEY (job_id, seq)) WITHOUT ROWID`),
    present: (sql) => userTables(sql).has("job_events"),
  },
  // the GPU class and count of the agent holding the lease, from its registration: what the job is billed at
  column(6, "jobs", "lease_gpu_class", "TEXT"),
  column(7, "jobs", "lease_gpu_count", "INTEGER"),
  // the agent that called this job's input invalid, once: the job runs again, preferably elsewhere
  column(8, "jobs", "input_rejected_by", "TEXT"),
  column(9, "agents", "gpu_count", "INTEGER NOT NULL DEFAULT 1"),
  // when an outbox event was last handed to the queue; it is handed over once more after RESEND_AFTER_MS
  column(10, "outbox", "sent_at", "INTEGER"),
  // the alarm's earliest queued deadline without reading the queued rows (whose inputs overflow their pages), and the
  // outbox's unsent and due-again events without reading the whole outbox
  index(11, "jobs_ttl", "jobs(status, ttl_deadline)"),
  index(12, "outbox_sent", "outbox(sent_at, created_at)"),
  {
    // Queued jobs per priority, kept by triggers on every write to `jobs` (so also exact after a direct DELETE): a new
    // job's queue position is a sum over a few priorities instead of a COUNT over every queued job ahead of it, whose
    // cost grew with the queue (about 0.1 ms per 1,000 queued, per submission).
    version: 13,
    name: "queue_counts",
    up: (sql) => {
      for (const q of QUEUE_COUNTS) sql.exec(q);
    },
    present: (sql) => userTables(sql).has("queue_counts"),
  },
];

export const JOB_BROKER_MIGRATIONS: MigrationPlan = {
  steps: STEPS,
  /**
   * An object from before `_migrations` is at the highest version whose steps are all present: a column missing
   * below a present one is then still added (the steps above run, and each adds only what is missing).
   */
  legacyVersion(sql) {
    let version = 0;
    for (const step of STEPS) {
      if (!step.present(sql)) break;
      version = step.version;
    }
    return version;
  },
};

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
