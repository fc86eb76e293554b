import { RegisterRequest, RegisterResponse } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { agents } from "../../db/schema.ts";
import { requireAgentToken } from "../../services/auth.ts";
import { newId } from "../../services/crypto.ts";
import { AGENT_POOL } from "./context.ts";

export const MAX_LEASE_WAIT_MS = 25_000;

export function registerAgentRegister(api: Api) {
  api.op(
    { method: "post", path: "/agent/v1/register", tag: "Agent", auth: "agent", summary: "Register an agent: GPU inventory, runtimes, models, slots", body: RegisterRequest, responses: { 200: { description: "registered", schema: RegisterResponse } }, errors: [400, 401] },
    requireAgentToken,
    async (c: Ctx) => {
      const body = await jsonBody(c, RegisterRequest);
      const id = newId("agent");
      const { tokenId, providerId } = c.get("agent");
      await db(c.env).insert(agents).values({
        id, providerId, tokenId, name: body.name, version: body.version, gpuClass: body.gpu_class, gpus: { devices: body.gpus, driver: body.driver ?? null, cuda: body.cuda ?? null },
        runtimes: body.runtimes, models: body.models, slots: body.slots, registeredAt: Date.now(),
      });
      const ttl = c.get("cfg").LEASE_TTL_MS;
      return reply(c, RegisterResponse, { agent_id: id, pool: AGENT_POOL, heartbeat_interval_ms: Math.max(250, Math.floor(ttl / 3)), lease_ttl_ms: ttl, max_lease_wait_ms: MAX_LEASE_WAIT_MS });
    },
  );
}
