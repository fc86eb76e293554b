import { z } from "zod";
import { DedicatedReady } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

const Ready = z.object({ ok: z.literal(true) });

/** A reserved agent reports its endpoint's model loaded: the instance is ready and its billed session starts. */
export function registerEndpointAgent(api: Api) {
  api.route({
    method: "post",
    path: "/agent/v1/dedicated/ready",
    tag: "Agent",
    auth: "agent",
    summary: "A dedicated agent loaded its endpoint's model (409 when the reservation has ended)",
    body: DedicatedReady,
    responses: { 200: { description: "ready", schema: Ready } },
    errors: [400, 401, 403, 409],
    async handler(c, { body }) {
      await c.var.services.agentLeases.dedicatedReady(c.var.agent, body);
      return reply(c, Ready, { ok: true as const });
    },
  });
}
