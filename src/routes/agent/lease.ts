import { LeaseRequest, LeaseResponse } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerAgentLease(api: Api) {
  api.route({
    method: "post",
    path: "/agent/v1/lease",
    tag: "Agent",
    auth: "agent",
    summary: "Long-poll for jobs (204 when none arrived within wait_ms)",
    body: LeaseRequest,
    responses: { 200: { description: "leased jobs", schema: LeaseResponse }, 204: { description: "no job" } },
    errors: [400, 401, 403],
    async handler(c, { body }) {
      const leased = await c.var.services.agentLeases.lease(c.var.agent, body);
      return leased ? reply(c, LeaseResponse, leased) : c.body(null, 204);
    },
  });
}
