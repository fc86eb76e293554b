import { z } from "zod";
import { DedicatedReady } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { dedicatedReady } from "../../services/endpoints/agents.ts";
import { ownAgent } from "../agent/context.ts";

const Ready = z.object({ ok: z.literal(true) });

/** A reserved agent reports its endpoint's model loaded: the instance is ready and its billed session starts. */
export function registerEndpointAgent(api: Api) {
  api.op(
    {
      method: "post",
      path: "/agent/v1/dedicated/ready",
      tag: "Agent",
      auth: "agent",
      summary: "A dedicated agent loaded its endpoint's model (409 when the reservation has ended)",
      body: DedicatedReady,
      responses: { 200: { description: "ready", schema: Ready } },
      errors: [400, 401, 403, 409],
    },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, DedicatedReady);
      await ownAgent(c, body.agent_id);
      if (!(await dedicatedReady(c.env, body.agent_id, body.endpoint_id, body.epoch)))
        throw new ApiError("conflict", "this reservation has ended");
      return reply(c, Ready, { ok: true as const });
    },
  );
}
