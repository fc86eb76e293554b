import { RegisterRequest, RegisterResponse } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { AGENT_POOL } from "../../services/agent-jobs.ts";

export const MAX_LEASE_WAIT_MS = 25_000;

export function registerAgentRegister(api: Api) {
  api.route({
    method: "post",
    path: "/agent/v1/register",
    tag: "Agent",
    auth: "agent",
    summary:
      "Register an agent: GPU inventory, runtimes, models, slots. The GPU class must be one the provider is allowed; at most 64 live registrations per token",
    body: RegisterRequest,
    responses: { 200: { description: "registered", schema: RegisterResponse } },
    errors: [400, 401, 403, 429],
    async handler(c, { body }) {
      const { tokenId, providerId } = c.var.agent;
      const id = await c.var.services.agents.register(tokenId, providerId, body);
      const ttl = c.var.services.cfg.LEASE_TTL_MS;
      return reply(c, RegisterResponse, {
        agent_id: id,
        pool: AGENT_POOL,
        heartbeat_interval_ms: Math.max(250, Math.floor(ttl / 3)),
        lease_ttl_ms: ttl,
        max_lease_wait_ms: MAX_LEASE_WAIT_MS,
      });
    },
  });
}
