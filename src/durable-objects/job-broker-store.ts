import type { AgentOutput, JobErrorKind } from "../../schemas/index.ts";
import type { AgentOffer } from "./job-broker-caps.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { AgentCaps, EnqueueJob, FinalStatus, FinishFields, JobView } from "./job-broker-types.ts";

/**
 * The JobBroker's rows: reads and writes of `jobs`, `agents` and `meta`, one method per statement. It decides
 * nothing; the broker calls it inside the transactions its transitions need.
 */
export class BrokerStore {
  constructor(private sql: SqlStorage) {}

  row(id: string): JobRow | undefined {
    return this.sql.exec<JobRow>(`SELECT * FROM jobs WHERE id = ?`, id).toArray()[0] as JobRow | undefined;
  }

  private nextSeq(): number {
    const r = this.sql
      .exec<{ v: number }>(
        `INSERT INTO meta(k, v) VALUES ('seq', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v`,
      )
      .one();
    return r.v;
  }

  insertJob(job: EnqueueJob, maxAttempts: number, now: number): void {
    this.sql.exec(
      `INSERT INTO jobs (id, seq, account_id, model, runtime, gpu_classes, input, priority, status, max_attempts, created_at, ttl_deadline, exec_timeout_ms, requires)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?, ?)`,
      job.id,
      this.nextSeq(),
      job.account_id,
      job.model,
      job.runtime,
      JSON.stringify(job.gpu_classes),
      JSON.stringify(job.input),
      job.priority,
      maxAttempts,
      now,
      now + job.ttl_ms,
      job.exec_timeout_ms,
      job.requires ? JSON.stringify(job.requires) : null,
    );
  }

  /** A placeholder job for a submission that never queued one, to be failed in the same transaction. */
  insertPlaceholder(it: { id: string; account_id: string; model: string }, now: number): void {
    this.sql.exec(
      `INSERT INTO jobs (id, seq, account_id, model, runtime, gpu_classes, input, priority, status, max_attempts, created_at, ttl_deadline, exec_timeout_ms)
           VALUES (?, ?, ?, ?, '', '[]', '{}', 0, 'QUEUED', 0, ?, ?, 1)`,
      it.id,
      this.nextSeq(),
      it.account_id,
      it.model,
      now,
      now,
    );
  }

  setLeased(
    r: JobRow,
    lease: { id: string; epoch: number; attempt: number; expires: number },
    caps: AgentCaps,
    now: number,
  ) {
    this.sql.exec(
      `UPDATE jobs SET status = 'PROCESSING', lease_id = ?, epoch = ?, attempt = ?, agent_id = ?, lease_expires_at = ?, leased_at = ?,
         started_at = COALESCE(started_at, ?), exec_deadline = ?, lease_gpu_class = ?, lease_gpu_count = ? WHERE id = ?`,
      lease.id,
      lease.epoch,
      lease.attempt,
      caps.agent_id,
      lease.expires,
      now,
      now,
      now + r.exec_timeout_ms,
      caps.gpu_class,
      caps.gpu_count ?? 1,
      r.id,
    );
  }

  extendLease(id: string, expires: number): void {
    this.sql.exec(`UPDATE jobs SET lease_expires_at = ? WHERE id = ?`, expires, id);
  }

  setInputRejectedBy(id: string, agentId: string): void {
    this.sql.exec(`UPDATE jobs SET input_rejected_by = ? WHERE id = ?`, agentId, id);
  }

  setQueued(id: string, attempt: number): void {
    this.sql.exec(
      `UPDATE jobs SET status = 'QUEUED', attempt = ?, lease_id = NULL, agent_id = NULL, lease_expires_at = NULL, leased_at = NULL, exec_deadline = NULL WHERE id = ?`,
      attempt,
      id,
    );
  }

  setFinished(id: string, status: FinalStatus, f: FinishFields, now: number): void {
    this.sql.exec(
      `UPDATE jobs SET status = ?, finished_at = ?, lease_expires_at = NULL, exec_deadline = NULL, outputs = ?, output_json = ?, gpu_ms = ?, load_ms = ?, gpu_class = ?, busy_gpu_ms = ?, error_kind = ?, error_message = ? WHERE id = ?`,
      status,
      now,
      f.outputs ?? null,
      f.output_json ?? null,
      f.gpu_ms ?? null,
      f.load_ms ?? null,
      f.gpu_class ?? null,
      f.busy_gpu_ms ?? null,
      f.error_kind ?? null,
      f.error_message ?? null,
      id,
    );
  }

  /** Queued jobs in dispatch order: highest priority first, then oldest. */
  queued(limit: number): JobRow[] {
    return this.sql
      .exec<JobRow>(`SELECT * FROM jobs WHERE status = 'QUEUED' ORDER BY priority DESC, seq LIMIT ?`, limit)
      .toArray() as unknown as JobRow[];
  }

  allQueued(): JobRow[] {
    return this.sql.exec<JobRow>(`SELECT * FROM jobs WHERE status = 'QUEUED'`).toArray() as unknown as JobRow[];
  }

  /** Jobs past a deadline: a lease or execution deadline while running, the TTL while queued. */
  expired(now: number): JobRow[] {
    return this.sql
      .exec<JobRow>(
        `SELECT * FROM jobs WHERE (status = 'PROCESSING' AND (lease_expires_at <= ? OR exec_deadline <= ?)) OR (status = 'QUEUED' AND ttl_deadline <= ?)`,
        now,
        now,
        now,
      )
      .toArray() as unknown as JobRow[];
  }

  queuePosition(r: JobRow): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM jobs WHERE status = 'QUEUED' AND (priority > ? OR (priority = ? AND seq < ?))`,
        r.priority,
        r.priority,
        r.seq,
      )
      .one().n;
  }

  /**
   * The queue position of a job that is the newest of its priority (one just enqueued): every queued job of a higher
   * or equal priority but itself, from the trigger-kept counts.
   */
  newestPosition(r: JobRow): number {
    const ahead = this.sql
      .exec<{ n: number }>(`SELECT COALESCE(SUM(n), 0) AS n FROM queue_counts WHERE priority >= ?`, r.priority)
      .one().n;
    return Math.max(0, ahead - 1);
  }

  poolStats(): { queued: number; running: Record<string, number> } {
    const queued = this.sql.exec<{ n: number }>(`SELECT COALESCE(SUM(n), 0) AS n FROM queue_counts`).one().n;
    const running: Record<string, number> = {};
    for (const r of this.sql.exec<{ agent_id: string; n: number }>(
      `SELECT agent_id, COUNT(*) AS n FROM jobs WHERE status = 'PROCESSING' GROUP BY agent_id`,
    )) {
      running[r.agent_id] = r.n;
    }
    return { queued, running };
  }

  upsertAgent(caps: AgentCaps, now: number): void {
    this.sql.exec(
      `INSERT INTO agents (id, runtimes, models, gpu_class, gpu_count, last_seen, comfy) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET runtimes = excluded.runtimes, models = excluded.models, gpu_class = excluded.gpu_class,
         gpu_count = excluded.gpu_count, last_seen = excluded.last_seen, comfy = excluded.comfy`,
      caps.agent_id,
      JSON.stringify(caps.runtimes),
      JSON.stringify(caps.models),
      caps.gpu_class,
      caps.gpu_count ?? 1,
      now,
      caps.comfyui ? JSON.stringify(caps.comfyui) : null,
    );
  }

  touchAgent(id: string, now: number): void {
    this.sql.exec(`UPDATE agents SET last_seen = ? WHERE id = ?`, now, id);
  }

  deleteAgent(id: string): void {
    this.sql.exec(`DELETE FROM agents WHERE id = ?`, id);
  }

  /** What the agents seen at or after `since` offer, for capability checks. */
  agentOffers(since: number): AgentOffer[] {
    return this.sql
      .exec<{ runtimes: string; models: string; gpu_class: string; comfy: string | null }>(
        `SELECT runtimes, models, gpu_class, comfy FROM agents WHERE last_seen >= ?`,
        since,
      )
      .toArray()
      .map((a) => ({
        runtimes: JSON.parse(a.runtimes),
        models: JSON.parse(a.models),
        gpu_class: a.gpu_class,
        comfy: a.comfy ? JSON.parse(a.comfy) : null,
      }));
  }

  seenSince(agentIds: string[], since: number): string[] {
    const seen: string[] = [];
    for (let i = 0; i < agentIds.length; i += 90) {
      const ids = agentIds.slice(i, i + 90);
      const marks = ids.map(() => "?").join(",");
      const rows = this.sql
        .exec<{ id: string }>(`SELECT id FROM agents WHERE last_seen >= ? AND id IN (${marks})`, since, ...ids)
        .toArray();
      seen.push(...rows.map((r) => r.id));
    }
    return seen;
  }

  /** Retention: drops jobs finished and agents last seen before the cutoff. */
  prune(before: number): { jobs: number; agents: number } {
    const jobs = this.sql.exec(
      `DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?`,
      before,
    ).rowsWritten;
    const agents = this.sql.exec(`DELETE FROM agents WHERE last_seen < ?`, before).rowsWritten;
    return { jobs, agents };
  }
}

/** A job row as callers see it; the queue position and capacity apply to a queued job only. */
export function jobView(r: JobRow, position: number | null, capacity: JobView["capacity"]): JobView {
  return {
    id: r.id,
    account_id: r.account_id,
    model: r.model,
    status: r.status,
    attempt: r.attempt,
    queue_position: position,
    capacity,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    outputs: r.outputs ? (JSON.parse(r.outputs) as AgentOutput[]) : null,
    output_json: r.output_json ? JSON.parse(r.output_json) : null,
    error_kind: r.error_kind as JobErrorKind | null,
    error_message: r.error_message,
    gpu_ms: r.gpu_ms,
    load_ms: r.load_ms,
    gpu_class: r.gpu_class,
    busy_gpu_ms: r.busy_gpu_ms ?? null,
  };
}
