import { DeregisterRequest, DeregisterResponse, HeartbeatRequest, HeartbeatResponse } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { broker } from "../../services/broker.ts";
import { AgentService } from "../../services/agents.ts";
import { AGENT_POOL, ownAgent } from "./context.ts";
import { heartbeatDedicated } from "../../services/endpoints/agents.ts";

export function registerAgentHeartbeat(api: Api) {
  api.op(
    {
      method: "post",
      path: "/agent/v1/heartbeat",
      tag: "Agent",
      auth: "agent",
      summary: "Extend leases; returns jobs to stop (cancelled, timed out, lost)",
      body: HeartbeatRequest,
      responses: { 200: { description: "extended", schema: HeartbeatResponse } },
      errors: [400, 401, 403],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, HeartbeatRequest);
      await ownAgent(c, body.agent_id);
      const pool = body.dedicated ? await heartbeatDedicated(c.env, body.agent_id) : null;
      if (!pool)
        return reply(c, HeartbeatResponse, await broker(c.env, AGENT_POOL).heartbeat(body.agent_id, body.leases));
      // A reserved agent's leases are its endpoint's; a public job it was finishing when reserved is still public.
      const out = await broker(c.env, pool).heartbeat(body.agent_id, body.leases);
      const lost = new Set(out.cancel.filter((x) => x.reason === "lease_lost").map((x) => x.job_id));
      if (lost.size) {
        const pub = await broker(c.env, AGENT_POOL).heartbeat(
          body.agent_id,
          body.leases.filter((l) => lost.has(l.job_id)),
        );
        out.extended.push(...pub.extended);
        out.cancel = out.cancel.filter((x) => !lost.has(x.job_id)).concat(pub.cancel);
      }
      return reply(c, HeartbeatResponse, out);
    },
  );
  api.op(
    {
      method: "post",
      path: "/agent/v1/deregister",
      tag: "Agent",
      auth: "agent",
      summary: "An agent leaving (drain): drops its parked long-polls and puts back any job handed to them",
      body: DeregisterRequest,
      responses: { 200: { description: "deregistered", schema: DeregisterResponse } },
      errors: [400, 401, 403],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, DeregisterRequest);
      await ownAgent(c, body.agent_id);
      const released = await broker(c.env, AGENT_POOL).forget(body.agent_id);
      await new AgentService(c.env).deregister(body.agent_id);
      return reply(c, DeregisterResponse, released);
    },
  );
}
