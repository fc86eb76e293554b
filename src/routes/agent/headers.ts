import type { Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import type { JobCall } from "../../services/agent-jobs.ts";

/** A job-scoped call: the agent it names in `x-agent-id` (the token must own it) and the job in the path. */
export function jobCall(c: Ctx, jobId: string): JobCall {
  const agentId = c.req.header("x-agent-id");
  if (!agentId) throw new ApiError("invalid_input", "x-agent-id header is required");
  return { agent: c.var.agent, agentId, jobId };
}

/** The lease a file call acts under; a missing one fails the broker's lease check like a stale one. */
export const leaseHeader = (c: Ctx) => c.req.header("x-lease-id") ?? "";
