import { ledger } from "../services/billing.ts";
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { dependencies, topoOrder } from "../../schemas/workflow.ts";
import { broker } from "../services/broker.ts";
import type { JobView } from "./job-broker.ts";
import { runMigrations } from "./migrations.ts";
import { finalizeRun, deliverWebhooks } from "./workflow-run-finish.ts";
import { cancelJobs, enqueueNode } from "./workflow-run-jobs.ts";
import {
  RunSql,
  WORKFLOW_RUN_MIGRATIONS,
  isTerminal,
  type EndStatus,
  type EventRow,
  type NodeRow,
  type RunSnapshot,
} from "./workflow-run-sql.ts";
import { nodeInput, prepareInput, upstreamOf, type RunSpec } from "./workflow-run-values.ts";

/** How often a live run checks its nodes' jobs itself, in case an event was lost. */
export const RECONCILE_MS = 5_000;

/**
 * One per workflow run: the run's state machine over SQLite. Each node becomes a broker job `{run}:{node}`, queued as
 * soon as every node it reads from has completed (so independent branches run side by side). Job events (the broker
 * notifies on every terminal state) move it on; an alarm re-reads the jobs in case an event was lost, queues what a
 * crash left unqueued, finishes what a crash left unfinished, and fails the run at its deadline. Every step is
 * idempotent: the broker dedupes by job id, the ledger captures once per (run, node), and each transition is checked
 * and written synchronously (workflow-run-sql.ts), so no interleaving of events, alarms and cancels does anything
 * twice. Node inputs are built in workflow-run-values.ts, jobs queued in workflow-run-jobs.ts, and the end told to
 * the ledger, D1 and the webhook in workflow-run-finish.ts.
 */
export class WorkflowRun extends DurableObject<Env> {
  private db = new RunSql(this.ctx.storage);
  private waiters = new Set<() => void>();
  private specCache: RunSpec | null = null;
  /** what finishing a run needs from the object */
  private host = { emit: this.db.emit, snapshot: () => this.snapshot() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => void runMigrations(ctx.storage, WORKFLOW_RUN_MIGRATIONS));
  }

  private spec(): RunSpec {
    return (this.specCache ??= JSON.parse(this.db.run()!.spec) as RunSpec);
  }

  // ---- RPC --------------------------------------------------------------------------------------------------------

  async start(spec: RunSpec, held: number): Promise<RunSnapshot> {
    if (!this.db.run()) this.db.create(spec, held, Date.now());
    // The alarm is set before any outside call, so a failure part-way (a broker or R2 error) is retried, not stuck.
    await this.schedule();
    try {
      await this.advance();
    } catch (e) {
      const message = "queueing a workflow node failed; the alarm retries";
      console.error(JSON.stringify({ level: "warn", message, run: spec.run_id, error: String(e) }));
    }
    await this.schedule();
    return this.snapshot();
  }

  /** A node's job changed (the broker's notification or the events queue): read the job and move the run on. */
  async onJob(jobId: string): Promise<void> {
    const n = this.db.nodeByJob(jobId);
    if (!n || !this.db.run()) return;
    try {
      const job = await broker(this.env, n.pool).get(jobId);
      if (job) await this.apply(n.id, job);
      await this.advance();
    } finally {
      await this.schedule();
    }
  }

  /** The caller's cancel: completed nodes are charged, running jobs are cancelled and not charged. */
  async cancel(): Promise<RunSnapshot> {
    const run = this.db.run();
    if (run && !isTerminal(run.status)) await this.end("CANCELLED", null, "cancelled", "cancelled by the caller");
    return this.snapshot();
  }

  async snapshot(): Promise<RunSnapshot> {
    const { spec: _s, ...run } = this.db.run()!;
    return { run, spec: this.spec(), nodes: this.db.nodes() };
  }

  async events(after: number): Promise<EventRow[]> {
    return this.db.events(after);
  }

  /** Resolves when the run has ended and settled, or after `ms`. */
  async waitFor(ms: number): Promise<RunSnapshot> {
    const r = this.db.run();
    if (r && !(isTerminal(r.status) && r.finalized)) {
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(t), this.waiters.delete(done), resolve());
        const t = setTimeout(done, Math.max(0, ms));
        this.waiters.add(done);
      });
    }
    return this.snapshot();
  }

  /** Who owns a node's job and where it is queued (the agent API's lookup for workflow jobs). */
  async jobOwner(jobId: string): Promise<{ account_id: string; pool: string; model: string } | null> {
    const n = this.db.nodeByJob(jobId);
    return n ? { account_id: this.db.run()!.account_id, pool: n.pool, model: n.model } : null;
  }

  // ---- transitions ------------------------------------------------------------------------------------------------

  private async apply(id: string, job: JobView): Promise<void> {
    const run = this.db.run()!;
    const n = this.db.node(id);
    if (isTerminal(run.status) || isTerminal(n.status)) return;
    if (n.status === "QUEUED" && job.started_at !== null) this.db.started(id, { ...job, started_at: job.started_at });
    if (job.status === "COMPLETED") {
      // Settle the node's share first: if the object dies before the node is marked, the next look at the job settles
      // again and the ledger answers with the first outcome.
      const gpuMs = Math.max(0, Math.round(job.gpu_ms ?? 0));
      const c = await this.ledger().settleNode(run.run_id, id, gpuMs, job.gpu_class);
      if (!c.ok || isTerminal(this.db.run()!.status) || isTerminal(this.db.node(id).status)) return;
      this.db.completed(id, job, c.charge, c.returned);
      if (this.db.nodes().every((x) => x.status === "COMPLETED")) await this.end("COMPLETED", null, null, null);
    } else if (job.status === "FAILED" || job.status === "CANCELLED") {
      const kind = job.error_kind ?? "runtime_error";
      this.db.failed(id, kind, job.error_message, job);
      await this.end("FAILED", id, kind, job.error_message ?? kind);
    }
  }

  /** Queues every pending node whose upstream nodes have all completed. */
  private async advance(): Promise<void> {
    const spec = this.spec();
    for (const id of topoOrder(spec.definition).order) {
      if (isTerminal(this.db.run()!.status)) return;
      const n = this.db.node(id);
      if (n.status !== "PENDING") continue;
      const done = new Map(
        this.db
          .nodes()
          .filter((x) => x.status === "COMPLETED")
          .map((x) => [x.id, x]),
      );
      if (!dependencies(spec.definition.nodes[id]!).every((d) => done.has(d))) continue;
      const r = nodeInput(spec, id, upstreamOf(done));
      const prepared = r.ok ? prepareInput(spec, id, n.job_id, r.input) : r;
      if (!prepared.ok) {
        this.db.failed(id, "invalid_input", prepared.message);
        await this.end("FAILED", id, "invalid_input", prepared.message);
        return;
      }
      // Marked before the job exists, in one synchronous step, so a concurrent advance never queues it twice; a crash
      // before the enqueue is repaired by the alarm, which finds no job and enqueues it.
      this.db.queued(n, JSON.stringify(prepared), Date.now());
      await this.enqueue(this.db.node(id));
    }
  }

  private async enqueue(n: NodeRow): Promise<void> {
    const missing = await enqueueNode(this.env, this.spec(), n);
    if (missing) await this.end("FAILED", n.id, "runtime_error", missing);
  }

  /**
   * Ends the run: the terminal state is written first (synchronously, so only one ending wins), then jobs still
   * running are cancelled, then the ledger, D1 and the webhook are told (finalizeRun; the alarm retries it).
   */
  private async end(
    status: EndStatus,
    node: string | null,
    kind: string | null,
    message: string | null,
  ): Promise<void> {
    const active = this.db.nodes().filter((x) => x.status === "QUEUED" || x.status === "PROCESSING");
    if (!this.db.ended(status, node, kind, message, active)) return;
    await cancelJobs(this.env, active);
    await this.finalize();
  }

  private async finalize(): Promise<void> {
    await finalizeRun(this.env, this.ctx.storage, this.host);
    for (const w of [...this.waiters]) w();
    await deliverWebhooks(this.env, this.ctx.storage.sql, this.host);
    await this.schedule();
  }

  private ledger() {
    return ledger(this.env, this.db.run()!.account_id);
  }

  // ---- the alarm ----------------------------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    const run = this.db.run();
    if (!run) return;
    if (!isTerminal(run.status)) {
      if (Date.now() >= run.deadline) {
        await this.end("FAILED", null, "timeout", "the run passed its deadline");
        return;
      }
      // Lost events: read every live node's job; a node marked queued whose job does not exist is queued again.
      for (const n of this.db.nodes().filter((x) => x.status === "QUEUED" || x.status === "PROCESSING")) {
        const job = await broker(this.env, n.pool).get(n.job_id);
        if (!job) await this.enqueue(n);
        else await this.apply(n.id, job);
      }
      await this.advance();
    } else if (!run.finalized) await this.finalize();
    else await deliverWebhooks(this.env, this.ctx.storage.sql, this.host);
    await this.schedule();
  }

  private async schedule(): Promise<void> {
    const run = this.db.run();
    if (!run) return;
    const pendingHooks = this.db.nextWebhookAt();
    let at: number | null = null;
    if (!isTerminal(run.status)) at = Math.min(run.deadline, Date.now() + RECONCILE_MS);
    else if (!run.finalized) at = Date.now() + RECONCILE_MS;
    if (pendingHooks !== null) at = Math.min(at ?? Infinity, pendingHooks);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }
}
