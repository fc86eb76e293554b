import { DeregisterRequest, DeregisterResponse, HeartbeatRequest, HeartbeatResponse } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerAgentHeartbeat(api: Api) {
  api.route({
    method: "post",
    path: "/agent/v1/heartbeat",
    tag: "Agent",
    auth: "agent",
    summary: "Extend leases; returns jobs to stop (cancelled, timed out, lost)",
    body: HeartbeatRequest,
    responses: { 200: { description: "extended", schema: HeartbeatResponse } },
    errors: [400, 401, 403],
    handler: async (c, { body }) =>
      reply(c, HeartbeatResponse, await c.var.services.agentLeases.heartbeat(c.var.agent, body)),
  });
  api.route({
    method: "post",
    path: "/agent/v1/deregister",
    tag: "Agent",
    auth: "agent",
    summary: "An agent leaving (drain): drops its parked long-polls and puts back any job handed to them",
    body: DeregisterRequest,
    responses: { 200: { description: "deregistered", schema: DeregisterResponse } },
    errors: [400, 401, 403],
    handler: async (c, { body }) =>
      reply(c, DeregisterResponse, await c.var.services.agentLeases.deregister(c.var.agent, body)),
  });
}
