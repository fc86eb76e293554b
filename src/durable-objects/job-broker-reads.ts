import { DurableObject } from "cloudflare:workers";
import { INLINE_INPUTS_KEY, isTerminal } from "../../schemas/index.ts";
import type { Env } from "../env.ts";
import { config } from "../env.ts";
import { Deadlines } from "./job-broker-deadlines.ts";
import { Dispatcher } from "./job-broker-dispatch.ts";
import { Outbox } from "./job-broker-outbox.ts";
import { JOB_BROKER_MIGRATIONS, type JobRow } from "./job-broker-sql.ts";
import { BrokerStore, jobView } from "./job-broker-store.ts";
import type * as T from "./job-broker-types.ts";
import { SyncWaiters } from "./job-broker-waiters.ts";
import { type JobEvent, JobEventLog } from "./job-events.ts";
import { runMigrations } from "./migrations.ts";

/**
 * The JobBroker's parts and its read-only calls: what it composes (rows, matching, the outbox, the alarm, the sync
 * waiters), its migration on wake, and every call that changes nothing. The transitions are in job-broker.ts.
 */
export abstract class JobBrokerReads extends DurableObject<Env> {
  protected store = new BrokerStore(this.ctx.storage.sql);
  protected eventLog = new JobEventLog(this.ctx.storage.sql);
  protected dispatch = new Dispatcher(this.store, this.eventLog, () => config(this.env).LEASE_TTL_MS);
  protected deadlines = new Deadlines(this.ctx.storage);
  protected outbox = new Outbox(this.ctx.storage.sql, this.env.EVENTS, () => this.deadlines.schedule());
  protected syncWaiters = new SyncWaiters();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      runMigrations(ctx.storage, JOB_BROKER_MIGRATIONS);
      this.deadlines.reset();
      await this.deadlines.schedule();
    });
  }

  async get(id: string): Promise<T.JobView | null> {
    const r = this.store.row(id);
    return r ? this.view(r) : null;
  }

  /**
   * The small image inputs a job carries inside it (`INLINE_INPUTS_KEY`), while it has not ended: the console and an
   * agent's input download read them here, so a submission writes no R2 copy. None once it has ended, as R2 inputs
   * are deleted then.
   */
  async inlineInputs(id: string): Promise<Record<string, { content_type: string; data: string }> | null> {
    const r = this.store.row(id);
    if (!r || isTerminal(r.status)) return null;
    const inline = (JSON.parse(r.input) as Record<string, unknown>)[INLINE_INPUTS_KEY];
    return (inline as Record<string, { content_type: string; data: string }> | undefined) ?? null;
  }

  /** Returns when the job reaches a terminal state or after `timeoutMs`, whichever is first. */
  async waitFor(id: string, timeoutMs: number): Promise<T.JobView | null> {
    const r = this.store.row(id);
    if (!r) return null;
    if (isTerminal(r.status)) return this.view(r);
    await this.syncWaiters.wait(id, timeoutMs);
    return this.view(this.store.row(id)!);
  }

  /**
   * Progress events of a job after `after` (its SSE ids), with the job; when there are none yet it waits up to
   * `waitMs` for one (or for the queue to move), so a reader can long-poll in a loop.
   */
  async events(id: string, after: number, waitMs: number): Promise<{ events: JobEvent[]; job: T.JobView } | null> {
    const r = this.store.row(id);
    if (!r) return null;
    const events = await this.eventLog.read(id, after, isTerminal(r.status) ? 0 : waitMs);
    return { events, job: this.view(this.store.row(id)!) };
  }

  /** Validates a lease for output uploads and input downloads. */
  async checkLease(jobId: string, leaseId: string, agentId: string): Promise<T.LeaseCheck> {
    const r = this.store.row(jobId);
    if (!r) return { ok: false, error: "not_found" };
    if (r.status !== "PROCESSING" || r.lease_id !== leaseId || r.agent_id !== agentId)
      return { ok: false, error: "stale_lease" };
    return { ok: true, account_id: r.account_id, job: this.view(r) };
  }

  /** Which of these agents polled for work at or after `since` (the agent-registration bound asks this). */
  async seenSince(agentIds: string[], since: number): Promise<string[]> {
    return this.store.seenSince(agentIds, since);
  }

  /** Retention: drops jobs finished and agents last seen before the cutoff. Called by the alarm and by the cron. */
  async prune(before: number): Promise<{ jobs: number; agents: number }> {
    return this.store.prune(before);
  }

  /** A dedicated endpoint's pool at a glance, for its scaler: queue depth and jobs running per agent. */
  async poolStats(): Promise<{ queued: number; running: Record<string, number> }> {
    return this.store.poolStats();
  }

  /** `newest`: the job was just enqueued, so its position comes from the queue counts (no scan of the queue). */
  protected view(r: JobRow, newest = false): T.JobView {
    if (r.status !== "QUEUED") return jobView(r, null, null);
    const position = newest ? this.store.newestPosition(r) : this.store.queuePosition(r);
    return jobView(r, position, this.dispatch.capable(r) ? "available" : "no_capacity");
  }
}
