import { eq } from "drizzle-orm";
import type { Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { agents } from "../../db/schema.ts";
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
    db(c.env).select().from(agents).where(eq(agents.id, agentId)).get().then((r) => r ?? null));
  if (!row || row.tokenId !== c.get("agent").tokenId) throw new ApiError("forbidden", "agent_id does not belong to this token");
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
  return { agentId, jobId: c.req.param("id")!, broker: broker(c.env, AGENT_POOL) };
}

/** A job-scoped call that needs the job's owner (its files live under the account): one lease check at the broker. */
export async function leasedScope(c: Ctx, leaseId: string) {
  const s = await jobScope(c);
  const check = await s.broker.checkLease(s.jobId, leaseId, s.agentId);
  if (!check.ok) throw check.error === "not_found" ? notFound("job") : staleLease();
  return { ...s, accountId: check.account_id, model: check.job.model };
}

export function staleLease(status?: string): ApiError {
  return new ApiError("stale_lease", "lease is no longer valid for this job (expired, re-leased, cancelled or finished)", status ? { status } : undefined);
}
