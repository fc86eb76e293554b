import { eq } from "drizzle-orm";
import type { Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { agents, requests } from "../../db/schema.ts";
import { ApiError, notFound } from "../../errors.ts";
import { broker } from "../../services/broker.ts";
import { workflowRunOf } from "../../services/workflows/notify.ts";

export const AGENT_POOL = "public";

/** The agent row for an id, checked against the token that presents it. */
export async function ownAgent(c: Ctx, agentId: string) {
  const row = await db(c.env).select().from(agents).where(eq(agents.id, agentId)).get();
  if (!row || row.tokenId !== c.get("agent").tokenId) throw new ApiError("forbidden", "agent_id does not belong to this token");
  return row;
}

/** A job-scoped call: the agent id from `x-agent-id`, the job's pool and owner from D1, and its broker. */
export async function jobScope(c: Ctx) {
  const agentId = c.req.header("x-agent-id");
  if (!agentId) throw new ApiError("invalid_input", "x-agent-id header is required");
  await ownAgent(c, agentId);
  const jobId = c.req.param("id")!;
  let req = await db(c.env).select({ pool: requests.pool, accountId: requests.accountId, model: requests.model })
    .from(requests).where(eq(requests.id, jobId)).get();
  // A workflow node's job has no request row: its run knows the owner and the pool.
  const run = req ? null : workflowRunOf(jobId);
  if (run) {
    const o = await c.env.WORKFLOW_RUN.get(c.env.WORKFLOW_RUN.idFromName(run)).jobOwner(jobId);
    if (o) req = { pool: o.pool, accountId: o.account_id, model: o.model };
  }
  if (!req) throw notFound("job");
  return { agentId, jobId, accountId: req.accountId, model: req.model, broker: broker(c.env, req.pool) };
}

export function staleLease(status?: string): ApiError {
  return new ApiError("stale_lease", "lease is no longer valid for this job (expired, re-leased, cancelled or finished)", status ? { status } : undefined);
}
