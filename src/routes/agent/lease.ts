import { LeaseRequest, LeaseResponse, liftInlineInputs, liftModeration } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { broker } from "../../services/broker.ts";
import { AGENT_POOL, ownAgent } from "./context.ts";
import { routeDedicated } from "../../services/endpoints/agents.ts";

export function registerAgentLease(api: Api) {
  api.op(
    {
      method: "post",
      path: "/agent/v1/lease",
      tag: "Agent",
      auth: "agent",
      summary: "Long-poll for jobs (204 when none arrived within wait_ms)",
      body: LeaseRequest,
      responses: { 200: { description: "leased jobs", schema: LeaseResponse }, 204: { description: "no job" } },
      errors: [400, 401, 403],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, LeaseRequest);
      const agent = await ownAgent(c, body.agent_id);
      // An opted-in agent reserved for a dedicated endpoint leases only from that endpoint's pool, once it is ready.
      const ded = body.dedicated ? await routeDedicated(c.env, agent) : { pool: null };
      if ("assignment" in ded && !ded.ready) {
        // A draining instance takes no new job: its poll is held like an empty long-poll, so the agent does not spin.
        if (ded.draining) await new Promise((r) => setTimeout(r, Math.min(body.wait_ms ?? 0, 5000)));
        return reply(c, LeaseResponse, { jobs: [], assignment: ded.assignment });
      }
      const jobs = await broker(c.env, ded.pool ?? AGENT_POOL).lease(
        {
          agent_id: agent.id,
          runtimes: agent.runtimes,
          models: agent.models,
          gpu_class: agent.gpuClass,
          gpu_count: agent.gpuCount,
          slots_free: body.slots_free,
          loaded_models: body.loaded_models,
          cached_models: body.cached_models,
          prefetch: body.prefetch,
          ...(body.comfyui ? { comfyui: body.comfyui } : {}),
        },
        body.wait_ms,
      );
      if ("assignment" in ded) return reply(c, LeaseResponse, { jobs, assignment: ded.assignment });
      if (jobs.length === 0) return c.body(null, 204);
      return reply(c, LeaseResponse, { jobs: jobs.map((j) => liftInlineInputs(liftModeration(j))) });
    },
  );
}
