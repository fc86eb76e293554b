import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const lab = () => env.MIGRATION_LAB.get(env.MIGRATION_LAB.newUniqueId());

/** The JobBroker's tables as its first version made them, before any column was added. */
const FIRST_DDL = [
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

const JOB_EVENTS_DDL = `CREATE TABLE IF NOT EXISTS job_events (
  job_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (job_id, seq)) WITHOUT ROWID`;

/** Columns as the old wake added them when missing, in the order its list had them. */
const OLD_COLUMNS = [
  `ALTER TABLE jobs ADD COLUMN busy_gpu_ms INTEGER`,
  `ALTER TABLE outbox ADD COLUMN sent_at INTEGER`,
  `ALTER TABLE jobs ADD COLUMN requires TEXT`,
  `ALTER TABLE agents ADD COLUMN comfy TEXT`,
  `ALTER TABLE jobs ADD COLUMN lease_gpu_class TEXT`,
  `ALTER TABLE jobs ADD COLUMN lease_gpu_count INTEGER`,
  `ALTER TABLE jobs ADD COLUMN input_rejected_by TEXT`,
  `ALTER TABLE agents ADD COLUMN gpu_count INTEGER NOT NULL DEFAULT 1`,
];

const A_JOB = `INSERT INTO jobs (id, seq, account_id, model, runtime, gpu_classes, input, priority, status, max_attempts,
  created_at, ttl_deadline, exec_timeout_ms) VALUES ('j1', 1, 'acct', 'm', 'r', '[]', '{}', 0, 'QUEUED', 2, 1, 2, 3)`;

describe("the JobBroker's migrations", () => {
  it("upgrades an object from before _migrations that has only its first tables", async () => {
    const fresh = await lab().upgrade("broker", 0);
    const l = lab();
    const r = await l.legacy("broker", [...FIRST_DDL, A_JOB]);
    expect(r.version).toBe(fresh.version);
    expect(r.applied).toEqual(fresh.applied);
    expect(r.schema).toEqual(fresh.schema);
    // step 1 was adopted (applied_at 0), every later one ran; the queued job is still there
    const runs = (await l.query(`SELECT version, applied_at FROM _migrations`)) as {
      version: number;
      applied_at: number;
    }[];
    expect(runs.filter((m) => m.applied_at === 0).map((m) => m.version)).toEqual([1]);
    expect(await l.query(`SELECT id, status, busy_gpu_ms, input_rejected_by FROM jobs`)).toEqual([
      { id: "j1", status: "QUEUED", busy_gpu_ms: null, input_rejected_by: null },
    ]);
  });

  it("adopts an object of the last version before _migrations, running only the steps added since", async () => {
    const fresh = await lab().upgrade("broker", 0);
    const l = lab();
    const r = await l.legacy("broker", [...FIRST_DDL, JOB_EVENTS_DDL, ...OLD_COLUMNS]);
    expect(r.applied).toEqual(fresh.applied);
    expect(r.schema).toEqual(fresh.schema);
    // steps 1-10 were adopted (applied_at 0); the hot-path work's steps (11, 12: indexes; 13: queue counts) ran
    const runs = (await l.query(`SELECT version, applied_at FROM _migrations`)) as {
      version: number;
      applied_at: number;
    }[];
    expect(runs.filter((m) => m.applied_at === 0).map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(runs.filter((m) => m.applied_at > 0).map((m) => m.version)).toEqual([11, 12, 13]);
  });

  it("still adds what a legacy object lacks below a step it already has", async () => {
    // columns of later steps present, but no job_events table (step 5) and no sent_at (step 10)
    const fresh = await lab().upgrade("broker", 0);
    const ddl = [...FIRST_DDL, ...OLD_COLUMNS.filter((q) => !q.includes("sent_at"))];
    const r = await lab().legacy("broker", ddl);
    expect(r.applied).toEqual(fresh.applied);
    expect(r.schema).toEqual(fresh.schema);
  });
});
