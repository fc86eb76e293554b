import { eq } from "drizzle-orm";
import type { Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { agents, dedicatedAgents, requests } from "../../db/schema.ts";
import { ApiError, notFound } from "../../errors.ts";
import { agentRowCacheKey } from "../../services/auth.ts";
import { broker } from "../../services/broker.ts";
import { cached } from "../../services/edge-cache.ts";

export const AGENT_POOL = "public";

/**
 * The agent row for an id, checked against the token that presents it. Served from the edge cache: what the routes
 * read from it (token, runtimes, models, GPU class and count) is fixed at registration, and a revoked token is refused
 * before this is asked.
 */
export async function ownAgent(c: Ctx, agentId: string) {
  const row = await cached(agentRowCacheKey(agentId), () =>
    db(c.env)
      .select()
      .from(agents)
      .where(eq(agents.id, agentId))
      .get()
      .then((r) => r ?? null),
  );
  if (!row || row.tokenId !== c.get("agent").tokenId)
    throw new ApiError("forbidden", "agent_id does not belong to this token");
  return row;
}

/**
 * A job-scoped call: the agent id from `x-agent-id` and the broker of the pool agents lease from (every job an agent
 * holds was leased there). The broker's own lease check is the authority on the job; nothing is read from D1.
 */
export async function jobScope(c: Ctx) {
  const agentId = c.req.header("x-agent-id");
  if (!agentId) throw new ApiError("invalid_input", "x-agent-id header is required");
  await ownAgent(c, agentId);
  const jobId = c.req.param("id") ?? "";
  return { agentId, jobId, broker: broker(c.env, await poolOf(c, agentId, jobId)) };
}

/**
 * Jobs live in the shared pool, except a dedicated endpoint's, in its private pool; such a request's row is written
 * before its job and names the pool. Only agents opted in to dedicated work (their first lease says so and writes
 * their `dedicated_agents` row, before any job call) can hold those jobs, so only their calls read the row; whether an
 * agent is opted in is cached, so the shared pool's calls make no D1 read.
 */
async function poolOf(c: Ctx, agentId: string, jobId: string): Promise<string> {
  const opted = await cached(`dedicated-agent:${agentId}`, () =>
    db(c.env)
      .select({ id: dedicatedAgents.agentId })
      .from(dedicatedAgents)
      .where(eq(dedicatedAgents.agentId, agentId))
      .get()
      .then((r) => ({ dedicated: r !== undefined })),
  );
  if (!opted?.dedicated) return AGENT_POOL;
  const row = await db(c.env).select({ pool: requests.pool }).from(requests).where(eq(requests.id, jobId)).get();
  return row?.pool ?? AGENT_POOL;
}

/** A job-scoped call that needs the job's owner (its files live under the account): one lease check at the broker. */
export async function leasedScope(c: Ctx, leaseId: string) {
  const s = await jobScope(c);
  const check = await s.broker.checkLease(s.jobId, leaseId, s.agentId);
  if (!check.ok) throw check.error === "not_found" ? notFound("job") : staleLease();
  return { ...s, accountId: check.account_id, model: check.job.model };
}

export function staleLease(status?: string): ApiError {
  return new ApiError(
    "stale_lease",
    "lease is no longer valid for this job (expired, re-leased, cancelled or finished)",
    status ? { status } : undefined,
  );
}
