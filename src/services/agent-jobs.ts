import { eq } from "drizzle-orm";
import type { z } from "zod";
import {
  type CompleteRequest,
  type FailRequest,
  isTerminal,
  type JobAck,
  type ReleaseRequest,
} from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { dedicatedAgents, requests } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { type AgentRow, agentRow } from "./agent-rows.ts";
import { AgentService } from "./agents.ts";
import type { AuthedAgent } from "./auth-types.ts";
import { billing } from "./billing.ts";
import { type BrokerApi, broker, DEFAULT_POOL } from "./broker.ts";
import { cached } from "./edge-cache.ts";
import { storeOutput } from "./files.ts";
import { readJobInput } from "./job-inputs.ts";
import { r2Keys } from "./urls.ts";

/** The pool agents register in and lease public jobs from. */
export const AGENT_POOL = DEFAULT_POOL;

/** A job-scoped agent call: the token that made it, the agent it names (`x-agent-id`) and the job. */
export interface JobCall {
  agent: AuthedAgent;
  agentId: string;
  jobId: string;
}

type Transition = Awaited<ReturnType<BrokerApi["complete"]>>;
export type { AgentRow } from "./agent-rows.ts";

function staleLease(status?: string): ApiError {
  return new ApiError(
    "stale_lease",
    "lease is no longer valid for this job (expired, re-leased, cancelled or finished)",
    status ? { status } : undefined,
  );
}

/**
 * The agent row for an id, checked against the token that presents it. Served from the edge cache: what the routes
 * read from it (token, runtimes, models, GPU class and count) is fixed at registration, and a revoked token is refused
 * before this is asked.
 */
export async function ownAgent(env: Env, agent: AuthedAgent, agentId: string): Promise<AgentRow> {
  const row = await agentRow(env, agentId);
  if (!row || row.tokenId !== agent.tokenId) throw new ApiError("forbidden", "agent_id does not belong to this token");
  return row;
}

/**
 * What an agent does with the jobs it holds: read inputs, upload outputs, complete, fail or release (hand back). The
 * broker's lease check is the authority on each job; D1 is read only for the agent's own row (edge-cached) and, for
 * an agent opted in to dedicated work, the request's pool. A finished job's hold is settled or voided at once.
 */
export class AgentJobs {
  constructor(private env: Env) {}

  async input(call: JobCall, leaseId: string, name: string) {
    const s = await this.leased(call, leaseId);
    // large inputs from R2, small ones from the job its broker holds (services/job-inputs.ts)
    const input = await readJobInput(this.env, s.broker, s.accountId, s.jobId, name);
    if (!input) throw notFound("input");
    return input;
  }

  /** The body is read only once the lease is known good. */
  async output(
    call: JobCall,
    leaseId: string,
    name: string,
    declared: string | undefined,
    read: () => Promise<ArrayBuffer>,
  ) {
    const s = await this.leased(call, leaseId);
    const bytes = new Uint8Array(await read());
    // Tagged with the lease it was uploaded under: a completion attaches only its own lease's files.
    return storeOutput(this.env, s, name, declared, bytes, leaseId);
  }

  async complete(call: JobCall, body: z.output<typeof CompleteRequest>): Promise<JobAck> {
    // The owner is needed only to find uploaded files: a JSON-only completion goes straight to the broker, whose
    // complete checks the lease itself.
    const s = body.outputs.length
      ? await this.leased(call, body.lease_id)
      : { ...(await this.scope(call)), accountId: "" };
    // The outputs' R2 heads in parallel: one round trip whatever their number.
    const heads = await Promise.all(
      body.outputs.map((o) => this.env.BLOBS.head(r2Keys.output(s.accountId, s.jobId, o.name))),
    );
    body.outputs.forEach((o, i) => {
      const head = heads[i];
      // Only files uploaded under this very lease: an earlier attempt's outputs are never attached to a later one.
      if (!head || head.customMetadata?.lease_id !== body.lease_id)
        throw new ApiError("invalid_input", `output '${o.name}' was not uploaded under this lease`, {
          fields: [{ path: "outputs", message: `${o.name}: not uploaded under this lease` }],
        });
      o.size = head.size;
    });
    const t = await s.broker.complete(s.jobId, s.agentId, {
      lease_id: body.lease_id,
      epoch: body.epoch,
      outputs: body.outputs,
      output_json: body.output_json,
      gpu_ms: body.metrics.gpu_ms,
      load_ms: body.metrics.load_ms,
      gpu_class: body.metrics.gpu_class,
      gpu_count: body.metrics.gpu_count,
      ...(body.metrics.evidence ? { busy_gpu_ms: body.metrics.evidence.busy_gpu_ms } : {}),
    });
    if (!t.ok && t.error === "gpu_mismatch") await new AgentService(this.env).strike(s.agentId, "rejected_completion");
    return this.ack(t, s.agentId);
  }

  async fail(call: JobCall, body: FailRequest): Promise<JobAck> {
    const s = await this.scope(call);
    const t = await s.broker.fail(s.jobId, s.agentId, body);
    if (t.ok && body.kind === "invalid_input") await new AgentService(this.env).strike(s.agentId, "input_rejection");
    return this.ack(t, s.agentId);
  }

  async release(call: JobCall, body: ReleaseRequest): Promise<JobAck> {
    const s = await this.scope(call);
    return this.ack(await s.broker.release(s.jobId, s.agentId, body), s.agentId);
  }

  /** The broker of the pool the agent leased the job from (every job an agent holds was leased there). */
  private async scope(call: JobCall) {
    await ownAgent(this.env, call.agent, call.agentId);
    return { agentId: call.agentId, jobId: call.jobId, broker: broker(this.env, await this.poolOf(call)) };
  }

  /** A job-scoped call that needs the job's owner (its files live under the account): one lease check at the broker. */
  private async leased(call: JobCall, leaseId: string) {
    const s = await this.scope(call);
    const check = await s.broker.checkLease(s.jobId, leaseId, s.agentId);
    if (!check.ok) throw check.error === "not_found" ? notFound("job") : staleLease();
    return { ...s, accountId: check.account_id, model: check.job.model };
  }

  /**
   * Jobs live in the shared pool, except a dedicated endpoint's, in its private pool; such a request's row is written
   * before its job and names the pool. Only agents opted in to dedicated work (their first lease says so and writes
   * their `dedicated_agents` row, before any job call) can hold those jobs, so only their calls read the row; whether
   * an agent is opted in is cached, so the shared pool's calls make no D1 read.
   */
  private async poolOf({ agentId, jobId }: JobCall): Promise<string> {
    const opted = await cached(`dedicated-agent:${agentId}`, () =>
      db(this.env)
        .select({ id: dedicatedAgents.agentId })
        .from(dedicatedAgents)
        .where(eq(dedicatedAgents.agentId, agentId))
        .get()
        .then((r) => ({ dedicated: r !== undefined })),
    );
    if (!opted?.dedicated) return AGENT_POOL;
    const row = await db(this.env).select({ pool: requests.pool }).from(requests).where(eq(requests.id, jobId)).get();
    return row?.pool ?? AGENT_POOL;
  }

  /** Acknowledges a transition; a finished job's hold is settled or voided at once (the events queue repeats it, idempotently). */
  private async ack(t: Transition, agentId: string): Promise<JobAck> {
    if (!t.ok) {
      if (t.error === "gpu_mismatch") {
        throw new ApiError(
          "gpu_class_mismatch",
          "the completion claims a GPU class or count other than the agent registered with; the job was put back",
          t.registered,
        );
      }
      throw t.error === "not_found" ? notFound("job") : staleLease(t.status);
    }
    if (isTerminal(t.job.status)) {
      await billing(this.env).closeHold(t.job.account_id, t.job.id, {
        status: t.job.status,
        gpu_ms: t.job.gpu_ms,
        gpu_class: t.job.gpu_class,
        reason: t.job.error_kind,
        agent_id: agentId,
        model: t.job.model,
      });
    }
    return { job_id: t.job.id, status: t.job.status };
  }
}
