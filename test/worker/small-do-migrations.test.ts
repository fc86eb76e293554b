import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const lab = () => env.MIGRATION_LAB.get(env.MIGRATION_LAB.newUniqueId());

/** The tables an Endpoint made on every wake before `_migrations` existed (src/durable-objects/endpoint-sql.ts). */
const ENDPOINT_LEGACY = [
  `CREATE TABLE IF NOT EXISTS endpoint (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, epoch INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER NOT NULL,
    reserved_at INTEGER NOT NULL, ready_at INTEGER, last_hb INTEGER NOT NULL, idle_since INTEGER, released_at INTEGER,
    billed_ms INTEGER NOT NULL DEFAULT 0, reported_ms INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT, share_bp INTEGER NOT NULL DEFAULT 0, reason TEXT)`,
  `CREATE TABLE IF NOT EXISTS ticks (
    seq INTEGER PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    captured INTEGER, written_off INTEGER, created_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 1), now INTEGER NOT NULL)`,
];

/** The tables a WorkflowRun made on every wake before `_migrations` existed (src/durable-objects/workflow-run-sql.ts). */
const WORKFLOW_RUN_LEGACY = [
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

describe("the small Durable Objects' migrations", () => {
  it("adopts an Endpoint from before _migrations at step 1, keeps its rows and drops the unused test clock", async () => {
    const l = lab();
    const r = await l.legacy("endpoint", [
      ...ENDPOINT_LEGACY,
      `INSERT INTO endpoint (id, body) VALUES (1, '{"id":"ep_1"}')`,
      `INSERT INTO ticks (seq, body, status, created_at) VALUES (1, '{}', 'pending', 5)`,
    ]);
    expect(r.applied).toEqual([1, 2]);
    expect(r.schema).toEqual((await lab().upgrade("endpoint", 0)).schema);
    expect(r.schema.some((t) => t.startsWith("clock:"))).toBe(false);
    expect(await l.query(`SELECT body FROM endpoint`)).toEqual([{ body: '{"id":"ep_1"}' }]);
    expect(await l.query(`SELECT seq, status FROM ticks`)).toEqual([{ seq: 1, status: "pending" }]);
  });

  it("adopts a WorkflowRun from before _migrations at step 1 and keeps its rows", async () => {
    const l = lab();
    const r = await l.legacy("workflowRun", [
      ...WORKFLOW_RUN_LEGACY,
      `INSERT INTO events (type, node, data, at) VALUES ('run.created', NULL, '{}', 1)`,
    ]);
    expect(r.applied).toEqual([1]);
    expect(r.schema).toEqual((await lab().upgrade("workflowRun", 0)).schema);
    expect(await l.query(`SELECT seq, type FROM events`)).toEqual([{ seq: 1, type: "run.created" }]);
  });
});
