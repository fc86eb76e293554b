import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { COMFY_SPEC_KEY, MODEL_BY_SLUG, type AgentOutput } from "../../schemas/index.ts";
import { checkModelInput } from "../../schemas/model-input.ts";
import { dependencies, topoOrder } from "../../schemas/workflow.ts";
import { broker } from "../services/broker.ts";
import { withModeration } from "../services/requests.ts";
import type { JobView } from "./job-broker.ts";
import {
  RUN_MIGRATIONS,
  TERMINAL_RUN,
  type EventRow,
  type NodeRow,
  type RunRow,
  type RunStatus,
} from "./workflow-run-sql.ts";
import { FileValue, inputKey, nodeInput, type RunSpec, type Upstream } from "./workflow-run-values.ts";
import { finalizeRun, deliverWebhooks } from "./workflow-run-finish.ts";

/** How often a live run checks its nodes' jobs itself, in case an event was lost. */
export const RECONCILE_MS = 5_000;
const NODE_DONE = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export interface RunSnapshot {
  run: Omit<RunRow, "spec">;
  spec: RunSpec;
  nodes: NodeRow[];
}

/**
 * One per workflow run: the run's state machine over SQLite. Each node becomes a broker job `{run}:{node}`, queued as
 * soon as every node it reads from has completed (so independent branches run side by side). Job events (the broker
 * notifies on every terminal state) move it on; an alarm re-reads the jobs in case an event was lost, queues what a
 * crash left unqueued, finishes what a crash left unfinished, and fails the run at its deadline. Every step is
 * idempotent: the broker dedupes by job id, the ledger settles once per (run, node), and each transition is checked
 * and written synchronously, so no interleaving of events, alarms and cancels does anything twice.
 */
export class WorkflowRun extends DurableObject<Env> {
  private sql: SqlStorage;
  private waiters = new Set<() => void>();
  private specCache: RunSpec | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      for (const q of RUN_MIGRATIONS) this.sql.exec(q);
    });
  }

  private run(): RunRow | undefined {
    return this.sql.exec<RunRow>(`SELECT * FROM run WHERE id = 1`).toArray()[0] as RunRow | undefined;
  }
  private node(id: string): NodeRow {
    return this.sql.exec<NodeRow>(`SELECT * FROM nodes WHERE id = ?`, id).one() as NodeRow;
  }
  private nodes(): NodeRow[] {
    return this.sql.exec<NodeRow>(`SELECT * FROM nodes`).toArray() as NodeRow[];
  }
  private spec(): RunSpec {
    return (this.specCache ??= JSON.parse(this.run()!.spec) as RunSpec);
  }
  /** Appends to the run's event log (inside the caller's transaction); SSE streams and webhooks read it. */
  emit(type: string, node: string | null, data: Record<string, unknown>): void {
    this.sql.exec(
      `INSERT INTO events (type, node, data, at) VALUES (?, ?, ?, ?)`,
      type,
      node,
      JSON.stringify(data),
      Date.now(),
    );
  }

  // ---- RPC --------------------------------------------------------------------------------------------------------

  async start(spec: RunSpec, held: number): Promise<RunSnapshot> {
    if (!this.run()) {
      const now = Date.now();
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `INSERT INTO run (id, run_id, account_id, spec, status, created_at, deadline, held) VALUES (1, ?, ?, ?, 'QUEUED', ?, ?, ?)`,
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
    // The alarm is set before any outside call, so a failure part-way (a broker or R2 error) is retried, not stuck.
    await this.schedule();
    try {
      await this.advance();
    } catch (e) {
      console.error(
        JSON.stringify({
          level: "warn",
          message: "queueing a workflow node failed; the alarm retries",
          run: spec.run_id,
          error: String(e),
        }),
      );
    }
    await this.schedule();
    return this.snapshot();
  }

  /** A node's job changed (the broker's notification or the events queue): read the job and move the run on. */
  async onJob(jobId: string): Promise<void> {
    const n = this.sql.exec<NodeRow>(`SELECT * FROM nodes WHERE job_id = ?`, jobId).toArray()[0] as NodeRow | undefined;
    if (!n || !this.run()) return;
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
    const run = this.run();
    if (run && !TERMINAL_RUN.has(run.status)) await this.end("CANCELLED", null, "cancelled", "cancelled by the caller");
    return this.snapshot();
  }

  async snapshot(): Promise<RunSnapshot> {
    const { spec: _s, ...run } = this.run()!;
    return { run, spec: this.spec(), nodes: this.nodes() };
  }

  async events(after: number): Promise<EventRow[]> {
    return this.sql
      .exec<EventRow>(`SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT 200`, after)
      .toArray() as EventRow[];
  }

  /** Resolves when the run has ended and settled, or after `ms`. */
  async waitFor(ms: number): Promise<RunSnapshot> {
    const r = this.run();
    if (r && !(TERMINAL_RUN.has(r.status) && r.finalized)) {
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
    const n = this.sql.exec<NodeRow>(`SELECT * FROM nodes WHERE job_id = ?`, jobId).toArray()[0] as NodeRow | undefined;
    return n ? { account_id: this.run()!.account_id, pool: n.pool, model: n.model } : null;
  }

  // ---- transitions ------------------------------------------------------------------------------------------------

  private async apply(id: string, job: JobView): Promise<void> {
    const run = this.run()!;
    let n = this.node(id);
    if (TERMINAL_RUN.has(run.status) || NODE_DONE.has(n.status)) return;
    if (n.status === "QUEUED" && job.started_at !== null) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `UPDATE nodes SET status = 'PROCESSING', started_at = ?, attempts = ? WHERE id = ?`,
          job.started_at,
          job.attempt,
          id,
        );
        if (run.status === "QUEUED")
          this.sql.exec(`UPDATE run SET status = 'PROCESSING', started_at = ? WHERE id = 1`, job.started_at);
        this.emit("node.started", id, { request_id: job.id, model: job.model, started_at: job.started_at });
      });
    }
    if (job.status === "COMPLETED") {
      // Settle the node's share first: if the object dies before the node is marked, the next look at the job settles
      // again and the ledger answers with the first outcome.
      const c = await this.ledger().settleNode(run.run_id, id, Math.max(0, Math.round(job.gpu_ms ?? 0)), job.gpu_class);
      n = this.node(id);
      if (!c.ok || TERMINAL_RUN.has(this.run()!.status) || NODE_DONE.has(n.status)) return;
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `UPDATE nodes SET status = 'COMPLETED', charge = ?, ended_at = ?, gpu_ms = ?, attempts = ?, outputs = ?, output_json = ? WHERE id = ?`,
          c.charge,
          job.finished_at,
          job.gpu_ms,
          job.attempt,
          JSON.stringify(job.outputs ?? []),
          job.output_json === undefined ? null : JSON.stringify(job.output_json),
          id,
        );
        this.emit("node.completed", id, {
          request_id: job.id,
          cost: c.charge,
          released: c.returned,
          ended_at: job.finished_at,
        });
      });
      if (this.nodes().every((x) => x.status === "COMPLETED")) await this.end("COMPLETED", null, null, null);
    } else if (job.status === "FAILED" || job.status === "CANCELLED") {
      const kind = job.error_kind ?? "runtime_error";
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `UPDATE nodes SET status = 'FAILED', ended_at = ?, attempts = ?, error_kind = ?, error_message = ? WHERE id = ?`,
          job.finished_at,
          job.attempt,
          kind,
          job.error_message,
          id,
        );
        this.emit("node.failed", id, { request_id: job.id, kind, message: job.error_message });
      });
      await this.end("FAILED", id, kind, job.error_message ?? kind);
    }
  }

  /** Queues every pending node whose upstream nodes have all completed. */
  private async advance(): Promise<void> {
    const spec = this.spec();
    for (const id of topoOrder(spec.definition).order) {
      if (TERMINAL_RUN.has(this.run()!.status)) return;
      const n = this.node(id);
      if (n.status !== "PENDING") continue;
      const done = new Map(
        this.nodes()
          .filter((x) => x.status === "COMPLETED")
          .map((x) => [x.id, x]),
      );
      if (!dependencies(spec.definition.nodes[id]!).every((d) => done.has(d))) continue;
      const upstream = (d: string): Upstream | undefined => {
        const u = done.get(d);
        return u
          ? {
              job_id: u.job_id,
              outputs: JSON.parse(u.outputs ?? "[]") as AgentOutput[],
              output_json: u.output_json ? JSON.parse(u.output_json) : null,
            }
          : undefined;
      };
      const r = nodeInput(spec, id, upstream);
      const prepared = r.ok ? this.prepare(id, n.job_id, r.input) : r;
      if (!prepared.ok) {
        this.ctx.storage.transactionSync(() => {
          this.sql.exec(
            `UPDATE nodes SET status = 'FAILED', error_kind = 'invalid_input', error_message = ? WHERE id = ?`,
            prepared.message,
            id,
          );
          this.emit("node.failed", id, { kind: "invalid_input", message: prepared.message });
        });
        await this.end("FAILED", id, "invalid_input", prepared.message);
        return;
      }
      // Marked before the job exists, in one synchronous step, so a concurrent advance never queues it twice; a crash
      // before the enqueue is repaired by the alarm, which finds no job and enqueues it.
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `UPDATE nodes SET status = 'QUEUED', input = ?, queued_at = ? WHERE id = ?`,
          JSON.stringify(prepared),
          Date.now(),
          id,
        );
        this.emit("node.queued", id, { request_id: n.job_id, model: n.model });
      });
      await this.enqueue(this.node(id));
    }
  }

  /** The job's input: files become agent paths (copied into place at enqueue), the rest is checked by the model. */
  private prepare(
    id: string,
    job: string,
    input: Record<string, unknown>,
  ): { ok: true; input: Record<string, unknown>; copies: [string, string][] } | { ok: false; message: string } {
    const spec = this.spec();
    const copies: [string, string][] = [];
    const out: Record<string, unknown> = {};
    for (const [field, v] of Object.entries(input)) {
      if (v instanceof FileValue) {
        copies.push([v.file, inputKey(spec.account_id, job, field)]);
        out[field] = `/agent/v1/jobs/${job}/inputs/${field}`;
      } else out[field] = v;
    }
    // The same validator and defaults as a request to the model; a spec stored before schemas travelled in it
    // falls back to the catalog's manifest.
    const node = spec.nodes[id]!;
    const schema = node.input_schema ?? MODEL_BY_SLUG.get(node.model)?.input_schema;
    const checked = schema ? checkModelInput(schema, out) : { ok: true as const, input: out };
    if (!checked.ok) {
      const said = checked.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
      return { ok: false, message: `node '${id}': ${said.join("; ")}` };
    }
    const data = checked.input;
    delete data.base64;
    return { ok: true, input: data, copies };
  }

  private async enqueue(n: NodeRow): Promise<void> {
    const spec = this.spec();
    const m = spec.nodes[n.id]!;
    const { input, copies } = JSON.parse(n.input!) as { input: Record<string, unknown>; copies: [string, string][] };
    for (const [from, to] of copies) {
      const obj = await this.env.BLOBS.get(from);
      if (!obj)
        return void (await this.end("FAILED", n.id, "runtime_error", `an upstream file of node '${n.id}' is missing`));
      await this.env.BLOBS.put(to, await obj.arrayBuffer(), { httpMetadata: obj.httpMetadata });
    }
    await broker(this.env, m.pool).enqueue({
      id: n.job_id,
      account_id: spec.account_id,
      model: m.model,
      runtime: m.runtime,
      gpu_classes: m.gpu_classes,
      // the model's moderation policy and a private model's graph travel with the job, as a request's do
      input: withModeration(m.comfy ? { ...input, [COMFY_SPEC_KEY]: m.comfy.spec } : input, {
        moderation: m.moderation ?? "none",
      }),
      priority: spec.priority,
      exec_timeout_ms: m.exec_timeout_ms,
      ttl_ms: spec.job_ttl_ms,
      ...(m.comfy ? { requires: m.comfy.requires } : {}),
    });
  }

  /**
   * Ends the run: the terminal state is written first (synchronously, so only one ending wins), then jobs still
   * running are cancelled, then the ledger, D1 and the webhook are told (finalizeRun; the alarm retries it).
   */
  private async end(
    status: Exclude<RunStatus, "QUEUED" | "PROCESSING">,
    node: string | null,
    kind: string | null,
    message: string | null,
  ): Promise<void> {
    const active = this.nodes().filter((x) => x.status === "QUEUED" || x.status === "PROCESSING");
    let won = false;
    this.ctx.storage.transactionSync(() => {
      if (TERMINAL_RUN.has(this.run()!.status)) return;
      won = true;
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
    });
    if (!won) return;
    await Promise.all(
      active.map((a) =>
        broker(this.env, a.pool)
          .cancel(a.job_id)
          .catch(() => null),
      ),
    );
    await this.finalize();
  }

  private async finalize(): Promise<void> {
    await finalizeRun(this.env, this.ctx.storage, this);
    for (const w of [...this.waiters]) w();
    await deliverWebhooks(this.env, this.sql, this);
    await this.schedule();
  }

  private ledger() {
    return this.env.ACCOUNT_LEDGER.get(this.env.ACCOUNT_LEDGER.idFromName(this.run()!.account_id));
  }

  // ---- the alarm ----------------------------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    const run = this.run();
    if (!run) return;
    if (!TERMINAL_RUN.has(run.status)) {
      if (Date.now() >= run.deadline) {
        await this.end("FAILED", null, "timeout", "the run passed its deadline");
        return;
      }
      // Lost events: read every live node's job; a node marked queued whose job does not exist is queued again.
      for (const n of this.nodes().filter((x) => x.status === "QUEUED" || x.status === "PROCESSING")) {
        const job = await broker(this.env, n.pool).get(n.job_id);
        if (!job) await this.enqueue(n);
        else await this.apply(n.id, job);
      }
      await this.advance();
    } else if (!run.finalized) await this.finalize();
    else await deliverWebhooks(this.env, this.sql, this);
    await this.schedule();
  }

  private async schedule(): Promise<void> {
    const run = this.run();
    if (!run) return;
    const pendingHooks = this.sql
      .exec<{ t: number | null }>(`SELECT MIN(next_at) AS t FROM webhooks WHERE done = 0`)
      .one().t;
    let at: number | null = null;
    if (!TERMINAL_RUN.has(run.status)) at = Math.min(run.deadline, Date.now() + RECONCILE_MS);
    else if (!run.finalized) at = Date.now() + RECONCILE_MS;
    if (pendingHooks !== null) at = Math.min(at ?? Infinity, pendingHooks);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }
}
