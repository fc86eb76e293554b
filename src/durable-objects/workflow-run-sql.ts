import type { JobView } from "./job-broker.ts";
import { type MigrationPlan, userTables } from "./migrations.ts";
import type { RunSpec } from "./workflow-run-values.ts";

/*
 * A WorkflowRun's SQLite schema in numbered steps (migrations.ts), and its rows: each write the object makes, with
 * the event it appends, in one synchronous transaction.
 */

/**
 * Step 1: the tables runs were created with before `_migrations` existed (such a run is adopted at step 1), in the
 * same text, so SQLite keeps the same schema for old and new runs.
 */
const RUN_TABLES = [
  `CREATE TABLE run (
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
  `CREATE TABLE nodes (
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
  `CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    node TEXT,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
  )`,
  `CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
  )`,
];

export const WORKFLOW_RUN_MIGRATIONS: MigrationPlan = {
  steps: [
    {
      version: 1,
      name: "run, nodes, events, webhooks",
      up(sql) {
        for (const q of RUN_TABLES) sql.exec(q);
      },
    },
  ],
  legacyVersion: (sql) => (userTables(sql).has("run") ? 1 : 0),
};

export type RunStatus = "QUEUED" | "PROCESSING" | "COMPLETED" | "FAILED" | "CANCELLED";
export type NodeStatus = "PENDING" | RunStatus;
import { isTerminal } from "../../schemas/index.ts";

export { isTerminal };

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

export interface RunSnapshot {
  run: Omit<RunRow, "spec">;
  spec: RunSpec;
  nodes: NodeRow[];
}

export type EndStatus = Exclude<RunStatus, "QUEUED" | "PROCESSING">;

export class RunSql {
  private sql: SqlStorage;
  constructor(private storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  run(): RunRow | undefined {
    return this.sql.exec<RunRow>(`SELECT * FROM run WHERE id = 1`).toArray()[0] as RunRow | undefined;
  }
  node(id: string): NodeRow {
    return this.sql.exec<NodeRow>(`SELECT * FROM nodes WHERE id = ?`, id).one() as NodeRow;
  }
  nodes(): NodeRow[] {
    return this.sql.exec<NodeRow>(`SELECT * FROM nodes`).toArray() as NodeRow[];
  }
  nodeByJob(jobId: string): NodeRow | undefined {
    return this.sql.exec<NodeRow>(`SELECT * FROM nodes WHERE job_id = ?`, jobId).toArray()[0] as NodeRow | undefined;
  }
  events(after: number): EventRow[] {
    return this.sql
      .exec<EventRow>(`SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT 200`, after)
      .toArray() as EventRow[];
  }
  /** When the next webhook delivery is due (null when none is pending). */
  nextWebhookAt(): number | null {
    return this.sql.exec<{ t: number | null }>(`SELECT MIN(next_at) AS t FROM webhooks WHERE done = 0`).one().t;
  }

  /** Appends to the run's event log (inside the caller's transaction); SSE streams and webhooks read it. */
  emit = (type: string, node: string | null, data: Record<string, unknown>): void => {
    this.sql.exec(
      `INSERT INTO events (type, node, data, at) VALUES (?, ?, ?, ?)`,
      type,
      node,
      JSON.stringify(data),
      Date.now(),
    );
  };

  create(spec: RunSpec, held: number, now: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO run (id, run_id, account_id, spec, status, created_at, deadline, held)
         VALUES (1, ?, ?, ?, 'QUEUED', ?, ?, ?)`,
        spec.run_id,
        spec.account_id,
        JSON.stringify(spec),
        now,
        now + spec.deadline_ms,
        held,
      );
      for (const [id, n] of Object.entries(spec.nodes)) {
        this.sql.exec(
          `INSERT INTO nodes (id, model, pool, job_id, status, max_cost) VALUES (?, ?, ?, ?, 'PENDING', ?)`,
          id,
          n.model,
          n.pool,
          `${spec.run_id}:${id}`,
          n.max_cost,
        );
      }
      this.emit("run.created", null, { workflow: spec.workflow, version: spec.version, held });
    });
  }

  /** A node's job started (and with it the run, if it is the first). */
  started(id: string, job: JobView & { started_at: number }): void {
    this.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE nodes SET status = 'PROCESSING', started_at = ?, attempts = ? WHERE id = ?`,
        job.started_at,
        job.attempt,
        id,
      );
      this.sql.exec(
        `UPDATE run SET status = 'PROCESSING', started_at = ? WHERE id = 1 AND status = 'QUEUED'`,
        job.started_at,
      );
      this.emit("node.started", id, { request_id: job.id, model: job.model, started_at: job.started_at });
    });
  }

  /** A node's job completed and the ledger captured its charge (`returned`: the rest of the node's share). */
  completed(id: string, job: JobView, charge: number, returned: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE nodes SET status = 'COMPLETED', charge = ?, ended_at = ?, gpu_ms = ?, attempts = ?, outputs = ?,
         output_json = ? WHERE id = ?`,
        charge,
        job.finished_at,
        job.gpu_ms,
        job.attempt,
        JSON.stringify(job.outputs ?? []),
        job.output_json === undefined ? null : JSON.stringify(job.output_json),
        id,
      );
      // `released` is the event's public field name (SSE clients read it): the rest of the node's share, returned.
      this.emit("node.completed", id, {
        request_id: job.id,
        cost: charge,
        released: returned,
        ended_at: job.finished_at,
      });
    });
  }

  /** A node failed: its job failed or was cancelled (`job`), or its input could not be prepared (no job). */
  failed(id: string, kind: string, message: string | null, job?: JobView): void {
    this.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE nodes SET status = 'FAILED', ended_at = ?, attempts = COALESCE(?, attempts), error_kind = ?,
         error_message = ? WHERE id = ?`,
        job?.finished_at ?? null,
        job?.attempt ?? null,
        kind,
        message,
        id,
      );
      this.emit("node.failed", id, { ...(job ? { request_id: job.id } : {}), kind, message });
    });
  }

  /** A node is about to be queued (marked first, so a concurrent advance never queues it twice). */
  queued(n: NodeRow, input: string, now: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec(`UPDATE nodes SET status = 'QUEUED', input = ?, queued_at = ? WHERE id = ?`, input, now, n.id);
      this.emit("node.queued", n.id, { request_id: n.job_id, model: n.model });
    });
  }

  /** Writes the run's end and cancels its `active` nodes; false when another ending won. */
  ended(status: EndStatus, node: string | null, kind: string | null, message: string | null, active: NodeRow[]) {
    return this.storage.transactionSync(() => {
      if (isTerminal(this.run()!.status)) return false;
      this.sql.exec(
        `UPDATE run SET status = ?, completed_at = ?, error_node = ?, error_kind = ?, error_message = ? WHERE id = 1`,
        status,
        Date.now(),
        node,
        kind,
        message,
      );
      for (const a of active) {
        this.sql.exec(`UPDATE nodes SET status = 'CANCELLED', ended_at = ? WHERE id = ?`, Date.now(), a.id);
        this.emit("node.cancelled", a.id, { request_id: a.job_id });
      }
      return true;
    });
  }
}
