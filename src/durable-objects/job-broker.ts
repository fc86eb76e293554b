import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { config } from "../env.ts";
import type {
  AgentOutput,
  EventMessage,
  RequestAcceptedEvent,
  JobErrorKind,
  LeasedJob,
  HeartbeatResponse,
} from "../../schemas/index.ts";
import { BROKER_COLUMNS, BROKER_INDEXES, BROKER_MIGRATIONS, TERMINAL, type JobRow } from "./job-broker-sql.ts";
import { canRun, noCapacityMessage, type AgentOffer } from "./job-broker-caps.ts";
import { type ComfyRequirements, INLINE_INPUTS_KEY } from "../../schemas/index.ts";
import { JobEventLog, type JobEvent, type Progress } from "./job-events.ts";
import { notifyWorkflowRun, workflowRunOf } from "../services/workflows/notify.ts";
import type { FailMetrics } from "../../schemas/index.ts";

/** How long after its first send an outbox event is sent once more (see flushOutbox). */
const RESEND_AFTER_MS = 30_000;
/** An outbox event not yet sent is sent by the alarm this long after it was written (flushSoon usually sends it first). */
const OUTBOX_FIRST_SEND_MS = 5000;

export interface EnqueueJob {
  id: string;
  account_id: string;
  model: string;
  runtime: string;
  gpu_classes: string[];
  input: Record<string, unknown>;
  priority: number;
  exec_timeout_ms: number;
  ttl_ms: number;
  /** a private ComfyUI graph's custom node types and model files: only agents declaring them may lease it */
  requires?: ComfyRequirements;
  /** the request row's fields, for a submission that wrote none: projected into D1 from this broker's outbox */
  record?: Omit<RequestAcceptedEvent, "type" | "event_id" | "request_id" | "account_id" | "model">;
}

export interface AgentCaps {
  agent_id: string;
  runtimes: string[];
  models: string[];
  gpu_class: string;
  /** GPUs per job, from the agent's registration */
  gpu_count?: number;
  slots_free: number;
  loaded_models: string[];
  cached_models: string[];
  /** a prefetch lease from an agent whose device slots are all busy: an idle agent is preferred */
  prefetch?: boolean;
  /** custom node types and model files the agent's ComfyUI has */
  comfyui?: ComfyRequirements;
}

export interface JobView {
  id: string;
  account_id: string;
  model: string;
  status: JobRow["status"];
  attempt: number;
  queue_position: number | null;
  capacity: "available" | "no_capacity" | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  outputs: AgentOutput[] | null;
  output_json: unknown;
  error_kind: JobErrorKind | null;
  error_message: string | null;
  gpu_ms: number | null;
  load_ms: number | null;
  gpu_class: string | null;
  busy_gpu_ms: number | null;
}

export type ReconcileAnswer = { id: string; present: boolean };
export type LeaseCheck =
  | { ok: true; account_id: string; job: JobView }
  | { ok: false; error: "not_found" | "stale_lease" };
export type Transition =
  | { ok: true; job: JobView }
  | { ok: false; error: "not_found" | "stale_lease"; status?: string }
  | { ok: false; error: "gpu_mismatch"; registered: { gpu_class: string | null; gpu_count: number } };

interface Waiter {
  caps: AgentCaps;
  jobs: LeasedJob[];
  wake: () => void;
}

/** How often at most the alarm prunes finished jobs and their event logs. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** How long an agent counts as connected after its last lease poll. */
const AGENT_SEEN_MS = 60_000;
/** Finished jobs are kept OUTPUT_RETENTION_DAYS days for status reads, then pruned (by the alarm and the cron). */
const DAY_MS = 24 * 3600_000;

/**
 * One durable job queue per pool. Leases carry a lease id and a fencing epoch; every transition checks both, so an
 * agent whose lease expired can never complete a job that was re-leased. Deadlines (lease expiry, execution timeout,
 * TTL) are enforced here by one alarm, not trusted to agents.
 */
export class JobBroker extends DurableObject<Env> {
  private sql: SqlStorage;
  private waiters = new Set<Waiter>();
  private syncWaiters = new Map<string, Set<() => void>>();
  private alarmAt: number | null = null;
  private prunedAt = 0;
  private eventLog: JobEventLog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.eventLog = new JobEventLog(this.sql);
    ctx.blockConcurrencyWhile(async () => {
      for (const stmt of BROKER_MIGRATIONS) this.sql.exec(stmt);
      JobEventLog.migrate(this.sql);
      for (const [table, column, type] of BROKER_COLUMNS) {
        const has = this.sql
          .exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table)
          .toArray()
          .some((c) => c.name === column);
        if (!has) this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
      for (const stmt of BROKER_INDEXES) this.sql.exec(stmt);
      // The alarm is set again from the deadlines on every wake, whatever getAlarm() says: one stored in the past may
      // never fire, and a restarted local runtime reports alarms it no longer fires (workers-sdk#5948).
      this.alarmAt = null;
      await this.schedule();
    });
  }

  private get cfg() {
    return config(this.env);
  }

  private now(): number {
    return Date.now();
  }

  private row(id: string): JobRow | undefined {
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

  // ---- producers ----------------------------------------------------------------------------------------------

  async enqueue(job: EnqueueJob): Promise<JobView> {
    const now = this.now();
    const existing = this.row(job.id);
    if (existing) return this.view(existing);
    this.ctx.storage.transactionSync(() => {
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
        this.cfg.MAX_ATTEMPTS,
        now,
        now + job.ttl_ms,
        job.exec_timeout_ms,
        job.requires ? JSON.stringify(job.requires) : null,
      );
      this.eventLog.append(job.id, "queued", {}, now);
      if (job.record) this.recordAccepted(job, job.record);
    });
    if (job.record) this.flushSoon();
    this.dispatch();
    const r = this.row(job.id)!;
    // A job left queued adds two deadlines (its TTL, its outbox event's first send): an alarm already set no later
    // than both stays right, and the deadline query is skipped on the hot path.
    const due = Math.min(now + job.ttl_ms, job.record ? now + OUTBOX_FIRST_SEND_MS : Number.POSITIVE_INFINITY);
    if (r.status !== "QUEUED" || this.alarmAt === null || this.alarmAt > due) await this.schedule();
    return this.view(r);
  }

  async get(id: string): Promise<JobView | null> {
    const r = this.row(id);
    return r ? this.view(r) : null;
  }

  /**
   * The small image inputs a job carries inside it (`INLINE_INPUTS_KEY`), while it has not ended: the console and an
   * agent's input download read them here, so a submission writes no R2 copy. None once it has ended, as R2 inputs
   * are deleted then.
   */
  async inlineInputs(id: string): Promise<Record<string, { content_type: string; data: string }> | null> {
    const r = this.sql
      .exec<{ input: string; status: string }>(`SELECT input, status FROM jobs WHERE id = ?`, id)
      .toArray()[0];
    if (!r || TERMINAL.has(r.status)) return null;
    const inline = (JSON.parse(r.input) as Record<string, unknown>)[INLINE_INPUTS_KEY];
    return (inline as Record<string, { content_type: string; data: string }> | undefined) ?? null;
  }

  /** Resolves when the job reaches a terminal state or after `timeoutMs`, whichever is first. */
  async waitFor(id: string, timeoutMs: number): Promise<JobView | null> {
    const r = this.row(id);
    if (!r) return null;
    if (TERMINAL.has(r.status)) return this.view(r);
    await new Promise<void>((resolve) => {
      const set = this.syncWaiters.get(id) ?? new Set();
      this.syncWaiters.set(id, set);
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      function done() {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      }
      set.add(done);
    });
    return this.view(this.row(id)!);
  }

  /**
   * Progress events of a job after `after` (its SSE ids), with the job; when there are none yet it waits up to
   * `waitMs` for one (or for the queue to move), so a reader can long-poll in a loop.
   */
  async events(id: string, after: number, waitMs: number): Promise<{ events: JobEvent[]; job: JobView } | null> {
    const r = this.row(id);
    if (!r) return null;
    let events = this.eventLog.after(id, after);
    if (events.length === 0 && !TERMINAL.has(r.status) && waitMs > 0) {
      await this.eventLog.wait(id, waitMs);
      events = this.eventLog.after(id, after);
    }
    return { events, job: this.view(this.row(id)!) };
  }

  /** Cancel: a queued job ends at once; a running one ends at once too and its agent is told on its next heartbeat. */
  async cancel(id: string): Promise<{ outcome: "cancelled" | "already_completed"; job: JobView } | null> {
    const r = this.row(id);
    if (!r) return null;
    if (TERMINAL.has(r.status)) return { outcome: "already_completed", job: this.view(r) };
    this.finish(r, "CANCELLED", { error_kind: "cancelled", error_message: "cancelled by the caller" });
    await this.schedule();
    return { outcome: "cancelled", job: this.view(this.row(id)!) };
  }

  // ---- agents -------------------------------------------------------------------------------------------------

  /** Long-poll lease: returns at once when a job is queued for this agent, or after waitMs with none. */
  async lease(caps: AgentCaps, waitMs: number): Promise<LeasedJob[]> {
    const now = this.now();
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
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    const waiter: Waiter = { caps, jobs: [], wake };
    this.waiters.add(waiter);
    try {
      this.dispatch();
      if (waiter.jobs.length === 0 && waitMs > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
        clearTimeout(timer);
      }
    } finally {
      this.waiters.delete(waiter);
    }
    if (waiter.jobs.length > 0) await this.schedule();
    return waiter.jobs;
  }

  /**
   * An agent is leaving (drain): its parked long-polls are dropped, and any job already handed to one of them (on
   * its way to a client that is gone) is put back without counting an attempt.
   */
  async forget(agentId: string): Promise<{ released: number }> {
    const released = this.dropWaiters(agentId);
    this.sql.exec(`DELETE FROM agents WHERE id = ?`, agentId);
    if (released) {
      this.dispatch();
      await this.schedule();
    }
    return { released };
  }

  /** Removes an agent's parked long-polls, putting back any job already handed to them. */
  private dropWaiters(agentId: string): number {
    let released = 0;
    for (const w of this.waiters) {
      if (w.caps.agent_id !== agentId) continue;
      for (const j of w.jobs) {
        const r = this.row(j.job_id);
        if (r && r.status === "PROCESSING" && r.lease_id === j.lease_id) {
          this.requeue(r, Math.max(0, r.attempt - 1));
          released++;
        }
      }
      w.jobs = [];
      this.waiters.delete(w);
      w.wake();
    }
    return released;
  }

  async heartbeat(
    agentId: string,
    leases: { job_id: string; lease_id: string; progress?: Progress }[],
  ): Promise<HeartbeatResponse> {
    const now = this.now();
    const ttl = this.cfg.LEASE_TTL_MS;
    const out: HeartbeatResponse = { extended: [], cancel: [], drain: false };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`UPDATE agents SET last_seen = ? WHERE id = ?`, now, agentId);
      for (const l of leases) {
        const r = this.row(l.job_id);
        if (!r || r.lease_id !== l.lease_id || r.agent_id !== agentId) {
          out.cancel.push({ job_id: l.job_id, reason: "lease_lost" });
        } else if (r.status === "PROCESSING") {
          const exp = now + ttl;
          this.sql.exec(`UPDATE jobs SET lease_expires_at = ? WHERE id = ?`, exp, r.id);
          if (l.progress) this.eventLog.progress(r.id, l.progress, now);
          out.extended.push({ job_id: r.id, lease_expires_at: exp });
        } else {
          out.cancel.push({
            job_id: r.id,
            reason: r.error_kind === "timeout" ? "timeout" : r.status === "CANCELLED" ? "cancelled" : "lease_lost",
          });
        }
      }
    });
    return out;
  }

  /** Validates a lease for output uploads and input downloads. */
  async checkLease(jobId: string, leaseId: string, agentId: string): Promise<LeaseCheck> {
    const r = this.row(jobId);
    if (!r) return { ok: false, error: "not_found" };
    if (r.status !== "PROCESSING" || r.lease_id !== leaseId || r.agent_id !== agentId)
      return { ok: false, error: "stale_lease" };
    return { ok: true, account_id: r.account_id, job: this.view(r) };
  }

  async complete(
    jobId: string,
    agentId: string,
    req: {
      lease_id: string;
      epoch: number;
      outputs: AgentOutput[];
      output_json?: unknown;
      gpu_ms: number;
      load_ms: number;
      gpu_class: string;
      gpu_count: number;
      busy_gpu_ms?: number;
    },
  ): Promise<Transition> {
    const r = this.row(jobId);
    const bad = this.fence(r, agentId, req.lease_id, req.epoch);
    if (bad) return bad;
    const now = this.now();
    // What the caller pays for comes from the registration (recorded on the lease), never from the completion: a
    // claim of another class or count is refused and the job goes back to the queue for another agent.
    const cls = r!.lease_gpu_class;
    const count = r!.lease_gpu_count ?? 1;
    if ((cls !== null && req.gpu_class !== cls) || req.gpu_count !== count) {
      const claim = `completion claimed ${req.gpu_count}× ${req.gpu_class}; the agent registered ${count}× ${cls}`;
      this.retryOrFail(r!, "runtime_error", claim);
      this.dispatch();
      await this.schedule();
      return { ok: false, error: "gpu_mismatch", registered: { gpu_class: cls, gpu_count: count } };
    }
    // The agent's clock is not trusted beyond what the broker saw: execution cannot outlast the lease window.
    const window = Math.max(0, now - (r!.leased_at ?? now));
    const gpuMs = Math.min(Math.round(req.gpu_ms * count), window * count);
    this.finish(r!, "COMPLETED", {
      outputs: JSON.stringify(req.outputs),
      output_json: req.output_json === undefined ? null : JSON.stringify(req.output_json),
      gpu_ms: gpuMs,
      load_ms: Math.min(req.load_ms, window),
      gpu_class: cls ?? req.gpu_class,
      busy_gpu_ms: req.busy_gpu_ms === undefined ? null : Math.min(req.busy_gpu_ms, window * count),
    });
    await this.schedule();
    return { ok: true, job: this.view(this.row(jobId)!) };
  }

  async fail(
    jobId: string,
    agentId: string,
    req: {
      lease_id: string;
      epoch: number;
      kind: JobErrorKind;
      message: string;
      retryable: boolean;
      metrics?: FailMetrics;
    },
  ): Promise<Transition> {
    const r = this.row(jobId);
    const bad = this.fence(r, agentId, req.lease_id, req.epoch);
    if (bad) return bad;
    if (req.kind === "invalid_input" && r!.input_rejected_by === null && r!.attempt < r!.max_attempts) {
      // The platform's own validation accepted this input, so one agent's word that it is invalid is not enough:
      // the job runs once more, preferably on another agent (dispatch ranks the rejecting agent last). A second
      // rejection fails it; the ledger voids it and gives a free call back either way.
      this.sql.exec(`UPDATE jobs SET input_rejected_by = ? WHERE id = ?`, agentId, r!.id);
      this.requeue(r!, r!.attempt);
    } else if (
      req.retryable &&
      req.kind !== "invalid_input" &&
      req.kind !== "content_moderated" &&
      r!.attempt < r!.max_attempts
    ) {
      // An output that moderation blocked is final whatever the agent says: the same model would be paid again.
      this.requeue(r!, r!.attempt);
    } else {
      const metered = req.kind === "content_moderated" && req.metrics ? this.meteredFail(r!, req.metrics) : {};
      this.finish(r!, "FAILED", { error_kind: req.kind, error_message: req.message, ...metered });
    }
    this.dispatch();
    await this.schedule();
    return { ok: true, job: this.view(this.row(jobId)!) };
  }

  /**
   * The compute of a run whose output moderation blocked: the provider's work was valid and the platform pays its
   * share, so it is capped as a completion's is (lease window × registered count, the registered class). A claim of
   * another class or count earns nothing.
   */
  private meteredFail(r: JobRow, m: FailMetrics): Partial<Pick<JobRow, "gpu_ms" | "load_ms" | "gpu_class">> {
    const count = r.lease_gpu_count ?? 1;
    if ((r.lease_gpu_class !== null && m.gpu_class !== r.lease_gpu_class) || m.gpu_count !== count) return {};
    const window = Math.max(0, this.now() - (r.leased_at ?? this.now()));
    return {
      gpu_ms: Math.min(Math.round(m.gpu_ms * count), window * count),
      load_ms: Math.min(m.load_ms, window),
      gpu_class: r.lease_gpu_class ?? m.gpu_class,
    };
  }

  /** Gives a job back without counting an attempt (draining, or never started). */
  async release(jobId: string, agentId: string, req: { lease_id: string; epoch: number }): Promise<Transition> {
    const r = this.row(jobId);
    const bad = this.fence(r, agentId, req.lease_id, req.epoch);
    if (bad) return bad;
    this.requeue(r!, Math.max(0, r!.attempt - 1));
    this.dispatch();
    await this.schedule();
    return { ok: true, job: this.view(this.row(jobId)!) };
  }

  /** A failed attempt: requeued while attempts remain, failed otherwise. */
  private retryOrFail(r: JobRow, kind: JobErrorKind, message: string): void {
    if (r.attempt < r.max_attempts) this.requeue(r, r.attempt);
    else this.finish(r, "FAILED", { error_kind: kind, error_message: message });
  }

  /** Which of these agents polled for work at or after `since` (the agent-registration bound asks this). */
  async seenSince(agentIds: string[], since: number): Promise<string[]> {
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

  /**
   * The ledger's reconciler asks, for holds whose submission never confirmed a job: is there a job with this id? A
   * missing one is written now as FAILED (`submission_interrupted`, with its event in the outbox), so a submission
   * that resumes after this finds the job already failed instead of queueing it, and the hold is voided exactly once.
   */
  async reconcile(items: { id: string; account_id: string; model: string }[]): Promise<ReconcileAnswer[]> {
    const now = this.now();
    const out = items.map((it) => {
      if (this.row(it.id)) return { id: it.id, present: true };
      this.ctx.storage.transactionSync(() => {
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
        const message = "the submission was interrupted before its job was queued";
        this.finish(this.row(it.id)!, "FAILED", { error_kind: "submission_interrupted", error_message: message });
      });
      return { id: it.id, present: false };
    });
    await this.schedule();
    return out;
  }

  private fence(r: JobRow | undefined, agentId: string, leaseId: string, epoch: number): Transition | null {
    if (!r) return { ok: false, error: "not_found" };
    if (r.status !== "PROCESSING" || r.lease_id !== leaseId || r.epoch !== epoch || r.agent_id !== agentId) {
      return { ok: false, error: "stale_lease", status: r.status };
    }
    return null;
  }

  /** Retention: drops jobs finished and agents last seen before the cutoff. Called by the alarm and by the cron. */
  async prune(before: number): Promise<{ jobs: number; agents: number }> {
    const jobs = this.sql.exec(
      `DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?`,
      before,
    ).rowsWritten;
    const agents = this.sql.exec(`DELETE FROM agents WHERE last_seen < ?`, before).rowsWritten;
    return { jobs, agents };
  }

  /** A dedicated endpoint's pool at a glance, for its scaler: queue depth and jobs running per agent. */
  async poolStats(): Promise<{ queued: number; running: Record<string, number> }> {
    const queued = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'QUEUED'`).one().n;
    const running: Record<string, number> = {};
    for (const r of this.sql.exec<{ agent_id: string; n: number }>(
      `SELECT agent_id, COUNT(*) AS n FROM jobs WHERE status = 'PROCESSING' GROUP BY agent_id`,
    )) {
      running[r.agent_id] = r.n;
    }
    return { queued, running };
  }

  /** A deleted endpoint's pool: every queued job ends now as cancelled (running ones finish on their agents). */
  async cancelQueued(reason: string): Promise<{ cancelled: number }> {
    const rows = this.sql.exec<JobRow>(`SELECT * FROM jobs WHERE status = 'QUEUED'`).toArray() as unknown as JobRow[];
    for (const r of rows) this.finish(r, "CANCELLED", { error_kind: "cancelled", error_message: reason });
    await this.schedule();
    return { cancelled: rows.length };
  }

  // ---- deadlines ----------------------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = this.now();
    const expired = this.sql
      .exec<JobRow>(
        `SELECT * FROM jobs WHERE (status = 'PROCESSING' AND (lease_expires_at <= ? OR exec_deadline <= ?)) OR (status = 'QUEUED' AND ttl_deadline <= ?)`,
        now,
        now,
        now,
      )
      .toArray() as unknown as JobRow[];
    for (const r of expired) {
      if (r.status === "QUEUED") {
        const kind = this.capable(r) ? "timeout" : "no_capacity";
        this.finish(r, "FAILED", {
          error_kind: kind,
          error_message:
            kind === "no_capacity" ? noCapacityMessage(r, this.agentOffers()) : "request TTL passed while queued",
        });
      } else if (r.exec_deadline !== null && r.exec_deadline <= now) {
        this.finish(r, "FAILED", {
          error_kind: "timeout",
          error_message: `execution exceeded ${r.exec_timeout_ms} ms`,
        });
      } else if (r.attempt >= r.max_attempts) {
        this.finish(r, "FAILED", {
          error_kind: "worker_lost",
          error_message: `agent lost the job ${r.attempt} times (lease expired)`,
        });
      } else {
        this.requeue(r, r.attempt);
      }
      // An agent that let a lease expire is presumed gone: a long-poll it left parked (a crashed agent's prefetch
      // poll, say) must not receive the job it just lost. A live agent simply polls again.
      if (r.status === "PROCESSING" && r.agent_id) this.dropWaiters(r.agent_id);
    }
    // Both prunes read every row (retention is counted in days, and the cron prunes too): at most once per
    // PRUNE_EVERY_MS, not on each of the alarms a busy outbox sets.
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      void this.prune(now - this.cfg.OUTPUT_RETENTION_DAYS * DAY_MS); // synchronous SQL; nothing to await
      this.eventLog.prune();
    }
    this.dispatch();
    await this.flushOutbox();
    await this.schedule();
  }

  /** Keeps one alarm at the earliest deadline (or soon, when the outbox still holds events). */
  private async schedule(): Promise<void> {
    const r = this.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (
         SELECT MIN(MIN(lease_expires_at, COALESCE(exec_deadline, lease_expires_at))) AS t FROM jobs WHERE status = 'PROCESSING'
         UNION ALL SELECT MIN(ttl_deadline) FROM jobs WHERE status = 'QUEUED'
         UNION ALL SELECT MIN(created_at) + ${OUTBOX_FIRST_SEND_MS} FROM outbox WHERE sent_at IS NULL
         UNION ALL SELECT MIN(sent_at) + ${RESEND_AFTER_MS} FROM outbox WHERE sent_at IS NOT NULL)`,
      )
      .one();
    const next = r.t;
    if (next === null) return;
    if (this.alarmAt === null || next < this.alarmAt) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private requeue(r: JobRow, attempt: number): void {
    this.sql.exec(
      `UPDATE jobs SET status = 'QUEUED', attempt = ?, lease_id = NULL, agent_id = NULL, lease_expires_at = NULL, leased_at = NULL, exec_deadline = NULL WHERE id = ?`,
      attempt,
      r.id,
    );
    this.eventLog.append(r.id, "requeued", { attempt }, this.now());
  }

  private finish(
    r: JobRow,
    status: "COMPLETED" | "FAILED" | "CANCELLED",
    f: Partial<
      Pick<
        JobRow,
        "outputs" | "output_json" | "gpu_ms" | "load_ms" | "gpu_class" | "busy_gpu_ms" | "error_kind" | "error_message"
      >
    >,
  ): void {
    const now = this.now();
    const event: EventMessage = {
      type: "request.finished",
      event_id: `${r.id}:finished`,
      request_id: r.id,
      account_id: r.account_id,
      model: r.model,
      status,
      error_kind: f.error_kind ?? null,
      gpu_ms: f.gpu_ms ?? null,
      load_ms: f.load_ms ?? null,
      gpu_class: f.gpu_class ?? null,
      started_at: r.started_at,
      completed_at: now,
      agent_id: r.agent_id,
    };
    this.ctx.storage.transactionSync(() => {
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
        r.id,
      );
      this.sql.exec(`INSERT INTO outbox (body, created_at) VALUES (?, ?)`, JSON.stringify(event), now);
      this.eventLog.append(
        r.id,
        status === "COMPLETED" ? "completed" : status === "FAILED" ? "failed" : "cancelled",
        f.error_kind ? { error_kind: f.error_kind } : {},
        now,
      );
    });
    for (const wake of this.syncWaiters.get(r.id) ?? []) wake();
    this.syncWaiters.delete(r.id);
    this.ctx.waitUntil(this.flushOutbox());
    // A workflow node's run hears at once; the outbox event repeats it durably (both idempotent).
    if (workflowRunOf(r.id)) this.ctx.waitUntil(notifyWorkflowRun(this.env, r.id).catch(() => undefined));
  }

  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Accepted-request events leave in batches (one queue send per ~50 ms of submissions, not one per submission);
   * if this object is evicted first, the outbox alarm sends them within seconds.
   */
  private flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flushOutbox();
    }, 50);
  }

  /** The accepted request's D1 row, as an outbox event written in the enqueue's own transaction. */
  private recordAccepted(job: EnqueueJob, record: NonNullable<EnqueueJob["record"]>): void {
    const event: RequestAcceptedEvent = {
      type: "request.accepted",
      event_id: `${job.id}:accepted`,
      request_id: job.id,
      account_id: job.account_id,
      model: job.model,
      ...record,
    };
    this.sql.exec(`INSERT INTO outbox (body, created_at) VALUES (?, ?)`, JSON.stringify(event), this.now());
  }

  /**
   * Events leave through an outbox written in the same transaction as the state change: none is lost on a crash.
   * Each event is handed to the queue twice, at once and again RESEND_AFTER_MS later, then dropped: a send that
   * returned can still be lost by a local runtime killed before it delivered (Miniflare's queues live in memory),
   * and every consumer step is idempotent (the projection moves once, billing resolves once, a webhook goes out only
   * from the delivery that moved the row), so the second copy costs a message and changes nothing else.
   */
  private async flushOutbox(): Promise<void> {
    const now = this.now();
    // New events and those due again, each through the outbox_sent index (one query with OR read the whole outbox,
    // which holds every event of the last RESEND_AFTER_MS), then the oldest 100 in order.
    type Row = { id: number; body: string; sent_at: number | null };
    const rows = [
      ...this.sql.exec<Row>(`SELECT id, body, sent_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 100`),
      ...this.sql.exec<Row>(
        `SELECT id, body, sent_at FROM outbox WHERE sent_at <= ? ORDER BY sent_at LIMIT 100`,
        now - RESEND_AFTER_MS,
      ),
    ]
      .sort((a, b) => a.id - b.id)
      .slice(0, 100);
    if (rows.length === 0) return;
    try {
      await this.env.EVENTS.sendBatch(rows.map((r) => ({ body: JSON.parse(r.body) as EventMessage })));
      const place = (ids: number[]) => ids.map(() => "?").join(",");
      const again = rows.filter((r) => r.sent_at !== null).map((r) => r.id);
      const first = rows.filter((r) => r.sent_at === null).map((r) => r.id);
      if (again.length) this.sql.exec(`DELETE FROM outbox WHERE id IN (${place(again)})`, ...again);
      if (first.length) this.sql.exec(`UPDATE outbox SET sent_at = ? WHERE id IN (${place(first)})`, now, ...first);
      if (first.length) await this.schedule();
    } catch (e) {
      console.error(
        JSON.stringify({ level: "warn", message: "outbox flush failed; the alarm retries", error: String(e) }),
      );
      await this.schedule();
    }
  }

  private agentOffers(): AgentOffer[] {
    return this.sql
      .exec<{ runtimes: string; models: string; gpu_class: string; comfy: string | null }>(
        `SELECT runtimes, models, gpu_class, comfy FROM agents WHERE last_seen >= ?`,
        this.now() - AGENT_SEEN_MS,
      )
      .toArray()
      .map((a) => ({
        runtimes: JSON.parse(a.runtimes),
        models: JSON.parse(a.models),
        gpu_class: a.gpu_class,
        comfy: a.comfy ? JSON.parse(a.comfy) : null,
      }));
  }

  private capable(r: JobRow): boolean {
    return this.agentOffers().some((a) => canRun(r, a));
  }

  /**
   * Matches queued jobs to waiting agents, highest priority first. For each job it prefers the waiting agent with the
   * model loaded in memory, then cached on disk, then any that fits, so warm agents get their models' work.
   */
  private dispatch(): void {
    if (this.waiters.size === 0) return;
    const queued = this.sql
      .exec<JobRow>(`SELECT * FROM jobs WHERE status = 'QUEUED' ORDER BY priority DESC, seq LIMIT 200`)
      .toArray() as unknown as JobRow[];
    const woken = new Set<Waiter>();
    for (const job of queued) {
      let best: Waiter | undefined;
      let bestScore = Infinity;
      for (const w of this.waiters) {
        if (w.jobs.length >= w.caps.slots_free) continue;
        if (!canRun(job, { ...w.caps, comfy: w.caps.comfyui ?? null })) continue;
        const warmth = w.caps.loaded_models.includes(job.model) ? 0 : w.caps.cached_models.includes(job.model) ? 1 : 2;
        const score = warmth * 2 + (w.caps.prefetch ? 1 : 0) + (job.input_rejected_by === w.caps.agent_id ? 10 : 0);
        if (score < bestScore) {
          best = w;
          bestScore = score;
        }
      }
      if (!best) continue;
      best.jobs.push(this.assign(job, best.caps));
      woken.add(best);
    }
    for (const w of woken) w.wake();
  }

  private assign(r: JobRow, caps: AgentCaps): LeasedJob {
    const agentId = caps.agent_id;
    const now = this.now();
    const leaseId = crypto.randomUUID();
    const epoch = r.epoch + 1;
    const attempt = r.attempt + 1;
    const expires = now + this.cfg.LEASE_TTL_MS;
    this.sql.exec(
      `UPDATE jobs SET status = 'PROCESSING', lease_id = ?, epoch = ?, attempt = ?, agent_id = ?, lease_expires_at = ?, leased_at = ?,
         started_at = COALESCE(started_at, ?), exec_deadline = ?, lease_gpu_class = ?, lease_gpu_count = ? WHERE id = ?`,
      leaseId,
      epoch,
      attempt,
      agentId,
      expires,
      now,
      now,
      now + r.exec_timeout_ms,
      caps.gpu_class,
      caps.gpu_count ?? 1,
      r.id,
    );
    this.eventLog.append(r.id, "started", { attempt }, now);
    return {
      job_id: r.id,
      lease_id: leaseId,
      epoch,
      attempt,
      model: r.model,
      runtime: r.runtime,
      input: JSON.parse(r.input) as Record<string, unknown>,
      lease_expires_at: expires,
      execution_timeout_ms: r.exec_timeout_ms,
    };
  }

  private view(r: JobRow): JobView {
    let position: number | null = null;
    let capacity: JobView["capacity"] = null;
    if (r.status === "QUEUED") {
      position = this.sql
        .exec<{ n: number }>(
          `SELECT COUNT(*) AS n FROM jobs WHERE status = 'QUEUED' AND (priority > ? OR (priority = ? AND seq < ?))`,
          r.priority,
          r.priority,
          r.seq,
        )
        .one().n;
      capacity = this.capable(r) ? "available" : "no_capacity";
    }
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
}
