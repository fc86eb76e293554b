/**
 * A short list of progress events per job, kept by the JobBroker in its SQLite beside the job (`job_events`, made by
 * its migration step 5): queued, started, progress (what the agent reports on heartbeats), requeued, and the
 * terminal event. Each has a sequence number per job, which `GET /v2/requests/{id}/events` sends as the SSE id, so
 * a client resumes with Last-Event-ID.
 * Readers long-poll: `wait` resolves when the job gets an event, or when any job starts or ends (queue positions
 * shift then), or after a timeout. State only: the DO decides when to append.
 */
export type JobEventType = "queued" | "started" | "progress" | "requeued" | "completed" | "failed" | "cancelled";

export interface JobEvent {
  seq: number;
  type: JobEventType;
  data: Record<string, unknown>;
  /** ms since the epoch, from the DO's clock */
  at: number;
}

export interface Progress {
  step: number;
  total: number;
  message?: string;
}

/** Progress events beyond this many per job are dropped oldest first; the others are few by nature. */
const MAX_PROGRESS_EVENTS = 50;
const SHIFTS_POSITIONS = new Set<JobEventType>(["started", "requeued", "completed", "failed", "cancelled"]);

export class JobEventLog {
  private listeners = new Map<string, Set<() => void>>();

  constructor(private sql: SqlStorage) {}

  append(jobId: string, type: JobEventType, data: Record<string, unknown>, at: number): void {
    this.sql.exec(
      `INSERT INTO job_events (job_id, seq, type, data, at)
       SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM job_events WHERE job_id = ?`,
      jobId,
      type,
      JSON.stringify(data),
      at,
      jobId,
    );
    if (type === "progress") {
      this.sql.exec(
        `DELETE FROM job_events WHERE job_id = ? AND type = 'progress' AND seq NOT IN
           (SELECT seq FROM job_events WHERE job_id = ? AND type = 'progress' ORDER BY seq DESC LIMIT ?)`,
        jobId,
        jobId,
        MAX_PROGRESS_EVENTS,
      );
    }
    if (SHIFTS_POSITIONS.has(type)) for (const set of this.listeners.values()) for (const wake of set) wake();
    else for (const wake of this.listeners.get(jobId) ?? []) wake();
  }

  /** A job's terminal event, with its error kind when it failed. */
  finished(
    jobId: string,
    status: "COMPLETED" | "FAILED" | "CANCELLED",
    errorKind: string | null | undefined,
    at: number,
  ): void {
    const type = status === "COMPLETED" ? "completed" : status === "FAILED" ? "failed" : "cancelled";
    this.append(jobId, type, errorKind ? { error_kind: errorKind } : {}, at);
  }

  /** Records a heartbeat's progress when it moved since the last one reported. */
  progress(jobId: string, p: Progress, at: number): void {
    const last = this.sql
      .exec<{ data: string }>(
        `SELECT data FROM job_events WHERE job_id = ? AND type IN ('progress', 'started', 'requeued')
       ORDER BY seq DESC LIMIT 1`,
        jobId,
      )
      .toArray()[0];
    const prev = last ? (JSON.parse(last.data) as Partial<Progress>) : {};
    if (prev.step === p.step && prev.total === p.total && prev.message === p.message) return;
    this.append(jobId, "progress", { step: p.step, total: p.total, ...(p.message ? { message: p.message } : {}) }, at);
  }

  after(jobId: string, seq: number): JobEvent[] {
    return this.sql
      .exec<{ seq: number; type: string; data: string; at: number }>(
        `SELECT seq, type, data, at FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT 100`,
        jobId,
        seq,
      )
      .toArray()
      .map((r) => ({
        seq: r.seq,
        type: r.type as JobEventType,
        data: JSON.parse(r.data) as Record<string, unknown>,
        at: r.at,
      }));
  }

  /** Events after `seq`; when there are none yet, waits up to `waitMs` for one (or for the queue to move). */
  async read(jobId: string, seq: number, waitMs: number): Promise<JobEvent[]> {
    const events = this.after(jobId, seq);
    if (events.length > 0 || waitMs <= 0) return events;
    await this.wait(jobId, waitMs);
    return this.after(jobId, seq);
  }

  wait(jobId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.listeners.get(jobId) ?? new Set();
      this.listeners.set(jobId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.listeners.delete(jobId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      set.add(done);
    });
  }

  /** Drops the events of jobs the broker no longer keeps. */
  prune(): void {
    this.sql.exec(`DELETE FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs)`);
  }
}
