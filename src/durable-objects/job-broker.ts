import { JobBrokerReads } from "./job-broker-reads.ts";
import {
  failurePolicy,
  type HeartbeatResponse,
  isTerminal,
  type JobErrorKind,
  type LeasedJob,
} from "../../schemas/index.ts";
import { config } from "../env.ts";
import { notifyWorkflowRun, workflowRunOf } from "../services/workflows/notify.ts";
import { onExpiry, retentionCutoff } from "./job-broker-deadlines.ts";
import { afterFailure, billedCompute, fence, gpuMismatch, renewLeases } from "./job-broker-leases.ts";
import { acceptedEvent, finishedEvent, OUTBOX_FIRST_SEND_MS } from "./job-broker-outbox.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type * as T from "./job-broker-types.ts";

/** How often at most the alarm prunes finished jobs and their event logs. */
const PRUNE_EVERY_MS = 10 * 60_000;

export type { AgentCaps, EnqueueJob, JobView, LeaseCheck, ReconcileAnswer, Transition } from "./job-broker-types.ts";

/**
 * One durable job queue per pool. Leases carry a lease id and a fencing epoch; every transition checks both, so an
 * agent whose lease expired can never complete a job that was re-leased. Deadlines (lease expiry, execution timeout,
 * TTL) are enforced here by one alarm, not trusted to agents. This class holds the transitions; rows, matching, the
 * outbox and the alarm are the modules it composes.
 */
export class JobBroker extends JobBrokerReads {
  private prunedAt = 0;

  async enqueue(job: T.EnqueueJob): Promise<T.JobView> {
    const now = Date.now();
    const existing = this.store.row(job.id);
    if (existing) return this.view(existing);
    this.ctx.storage.transactionSync(() => {
      this.store.insertJob(job, config(this.env).MAX_ATTEMPTS, now);
      this.eventLog.append(job.id, "queued", {}, now);
      if (job.record) this.outbox.record(acceptedEvent(job, job.record), Date.now());
    });
    if (job.record) this.outbox.flushSoon();
    this.dispatch.run();
    const r = this.store.row(job.id)!;
    // A job left queued adds two deadlines (its TTL, its outbox event's first send): an alarm already set no later
    // than both stays right, and the deadline query is skipped on the hot path.
    const due = Math.min(now + job.ttl_ms, job.record ? now + OUTBOX_FIRST_SEND_MS : Number.POSITIVE_INFINITY);
    // The view is taken before any await: another enqueue during it would count as ahead of this job.
    const view = this.view(r, true);
    if (r.status !== "QUEUED" || !this.deadlines.coveredBy(due)) await this.deadlines.schedule();
    return view;
  }

  /** Cancel: a queued job ends at once; a running one ends at once too and its agent is told on its next heartbeat. */
  async cancel(id: string): Promise<{ outcome: "cancelled" | "already_completed"; job: T.JobView } | null> {
    const r = this.store.row(id);
    if (!r) return null;
    if (isTerminal(r.status)) return { outcome: "already_completed", job: this.view(r) };
    this.finish(r, "CANCELLED", { error_kind: "cancelled", error_message: "cancelled by the caller" });
    await this.deadlines.schedule();
    return { outcome: "cancelled", job: this.view(this.store.row(id)!) };
  }

  /** Long-poll lease: returns at once when a job is queued for this agent, or after waitMs with none. */
  async lease(caps: T.AgentCaps, waitMs: number): Promise<LeasedJob[]> {
    this.store.upsertAgent(caps, Date.now());
    const jobs = await this.dispatch.park(caps, waitMs);
    if (jobs.length > 0) await this.deadlines.schedule();
    return jobs;
  }

  /**
   * An agent is leaving (drain): its parked long-polls are dropped, and any job already handed to one of them (on
   * its way to a client that is gone) is released to the queue without counting an attempt.
   */
  async forget(agentId: string): Promise<{ released: number }> {
    const released = this.dropWaiters(agentId);
    this.store.deleteAgent(agentId);
    if (released) await this.rematch();
    return { released };
  }

  async heartbeat(agentId: string, leases: T.HeartbeatLease[]): Promise<HeartbeatResponse> {
    const ttl = config(this.env).LEASE_TTL_MS;
    const renew = () => renewLeases(this.store, this.eventLog, agentId, leases, Date.now(), ttl);
    return this.ctx.storage.transactionSync(renew);
  }

  async complete(jobId: string, agentId: string, req: T.LeaseCompletion): Promise<T.Transition> {
    const r = fence(this.store.row(jobId), agentId, req);
    if ("error" in r) return r;
    const billed = billedCompute(r, req, Date.now());
    if (!billed) {
      // a claim of another GPU class or count is refused and the job goes back to the queue for another agent
      const mismatch = gpuMismatch(r, req);
      this.retryOrFail(r, "runtime_error", mismatch.message);
      await this.rematch();
      return mismatch.transition;
    }
    const output_json = req.output_json === undefined ? null : JSON.stringify(req.output_json);
    this.finish(r, "COMPLETED", { outputs: JSON.stringify(req.outputs), output_json, ...billed });
    await this.deadlines.schedule();
    return { ok: true, job: this.view(this.store.row(jobId)!) };
  }

  async fail(jobId: string, agentId: string, req: T.LeaseFailure): Promise<T.Transition> {
    const r = fence(this.store.row(jobId), agentId, req);
    if ("error" in r) return r;
    const next = afterFailure(r, req);
    if (next === "retry_elsewhere") this.store.setInputRejectedBy(r.id, agentId);
    if (next !== "fail") this.requeue(r, r.attempt);
    else {
      // A blocked run's compute was valid work and the platform pays its share, capped as a completion's is.
      const metered =
        failurePolicy(req.kind).platformPaysProvider && req.metrics ? billedCompute(r, req.metrics, Date.now()) : null;
      this.finish(r, "FAILED", { error_kind: req.kind, error_message: req.message, ...metered });
    }
    await this.rematch();
    return { ok: true, job: this.view(this.store.row(jobId)!) };
  }

  /** Releases a leased job back to the queue without counting an attempt (draining, or never started). */
  async release(jobId: string, agentId: string, req: T.LeaseProof): Promise<T.Transition> {
    const r = fence(this.store.row(jobId), agentId, req);
    if ("error" in r) return r;
    this.requeue(r, Math.max(0, r.attempt - 1));
    await this.rematch();
    return { ok: true, job: this.view(this.store.row(jobId)!) };
  }

  /**
   * The ledger's reconciler asks, for holds whose submission never confirmed a job: is there a job with this id? A
   * missing one is written now as FAILED (`submission_interrupted`, with its event in the outbox), so a submission
   * that resumes after this finds the job already failed instead of queueing it, and the hold is voided exactly once.
   */
  async reconcile(items: { id: string; account_id: string; model: string }[]): Promise<T.ReconcileAnswer[]> {
    const now = Date.now();
    const out = items.map((it) => {
      if (this.store.row(it.id)) return { id: it.id, present: true };
      this.ctx.storage.transactionSync(() => {
        this.store.insertPlaceholder(it, now);
        const message = "the submission was interrupted before its job was queued";
        this.finish(this.store.row(it.id)!, "FAILED", { error_kind: "submission_interrupted", error_message: message });
      });
      return { id: it.id, present: false };
    });
    await this.deadlines.schedule();
    return out;
  }

  /** A deleted endpoint's pool: every queued job ends now as cancelled (running ones finish on their agents). */
  async cancelQueued(reason: string): Promise<{ cancelled: number }> {
    const rows = this.store.allQueued();
    for (const r of rows) this.finish(r, "CANCELLED", { error_kind: "cancelled", error_message: reason });
    await this.deadlines.schedule();
    return { cancelled: rows.length };
  }

  override async alarm(): Promise<void> {
    this.deadlines.reset();
    const now = Date.now();
    for (const r of this.store.expired(now)) {
      const expiry = onExpiry(r, now, () => this.dispatch.offers());
      if (expiry.requeue) this.requeue(r, r.attempt);
      else this.finish(r, "FAILED", expiry.fields);
      // An agent that let a lease expire is presumed gone: a long-poll it left parked (a crashed agent's prefetch
      // poll, say) must not receive the job it just lost. A live agent simply polls again.
      if (r.status === "PROCESSING" && r.agent_id) this.dropWaiters(r.agent_id);
    }
    // Both prunes read every row (retention is counted in days, and the cron prunes too): at most once per
    // PRUNE_EVERY_MS, not on each of the alarms a busy outbox sets.
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      this.store.prune(retentionCutoff(now, config(this.env).OUTPUT_RETENTION_DAYS));
      this.eventLog.prune();
    }
    this.dispatch.run();
    await this.outbox.flush();
    await this.deadlines.schedule();
  }

  /** After the queue changed: hands queued jobs to waiting agents and moves the alarm to the new deadlines. */
  private async rematch(): Promise<void> {
    this.dispatch.run();
    await this.deadlines.schedule();
  }

  private requeue(r: JobRow, attempt: number): void {
    this.store.setQueued(r.id, attempt);
    this.eventLog.append(r.id, "requeued", { attempt }, Date.now());
  }

  /** A failed attempt: requeued while attempts remain, failed otherwise. */
  private retryOrFail(r: JobRow, kind: JobErrorKind, message: string): void {
    if (r.attempt < r.max_attempts) this.requeue(r, r.attempt);
    else this.finish(r, "FAILED", { error_kind: kind, error_message: message });
  }

  /** Ends an agent's parked long-polls, releasing any job already handed to them without counting an attempt. */
  private dropWaiters(agentId: string): number {
    const handed = this.dispatch.drop(agentId);
    for (const r of handed) this.requeue(r, Math.max(0, r.attempt - 1));
    return handed.length;
  }

  private finish(r: JobRow, status: T.FinalStatus, f: T.FinishFields): void {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.store.setFinished(r.id, status, f, now);
      this.outbox.record(finishedEvent(r, status, f, now), now);
      this.eventLog.finished(r.id, status, f.error_kind, now);
    });
    this.syncWaiters.wake(r.id);
    this.ctx.waitUntil(this.outbox.flush());
    // A workflow node's run hears at once; the outbox event repeats it durably (both idempotent).
    if (workflowRunOf(r.id)) this.ctx.waitUntil(notifyWorkflowRun(this.env, r.id).catch(() => undefined));
  }
}
