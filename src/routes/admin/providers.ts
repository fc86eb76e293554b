import { and, desc, eq, isNull } from "drizzle-orm";
import {
  CreatedId,
  CreatedToken,
  CreateProvider,
  ProviderEmailView,
  ProviderView,
  Revoked,
  SetProviderGpuClasses,
  UpdateProvider,
} from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { agents, agentTokens, providers } from "../../db/schema.ts";
import { notFound } from "../../errors.ts";
import { requireAdmin } from "../../services/auth.ts";
import { newId, randomToken, sha256Hex } from "../../services/crypto.ts";
import { ProviderAccounts } from "../../services/provider-accounts.ts";
import { invalidate } from "../../services/edge-cache.ts";
import { agentTokenCacheKey } from "../../services/auth.ts";

export function registerAdminProviders(api: Api) {
  api.op(
    {
      method: "post",
      path: "/admin/v1/providers",
      tag: "Admin",
      auth: "admin",
      summary: "Create a GPU provider (optionally with the email it signs in to the console with)",
      body: CreateProvider,
      responses: { 201: { description: "created", schema: CreatedId } },
      errors: [400, 401, 409],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateProvider);
      const id = await new ProviderAccounts(c.env).create(body.name, body.email, body.gpu_classes);
      return reply(c, CreatedId, { id }, 201);
    },
  );

  api.op(
    {
      method: "put",
      path: "/admin/v1/providers/{id}/gpu-classes",
      tag: "Admin",
      auth: "admin",
      summary:
        "Set the GPU classes this provider's agents may register with (agents registered before keep their class until they register again)",
      body: SetProviderGpuClasses,
      responses: { 200: { description: "set", schema: ProviderView } },
      errors: [400, 401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, SetProviderGpuClasses);
      const row = await db(c.env)
        .update(providers)
        .set({ gpuClasses: body.gpu_classes })
        .where(eq(providers.id, c.req.param("id")!))
        .returning({ id: providers.id })
        .get();
      if (!row) throw notFound("provider");
      return reply(c, ProviderView, await providerView(c, row.id));
    },
  );

  api.op(
    {
      method: "put",
      path: "/admin/v1/providers/{id}/email",
      tag: "Admin",
      auth: "admin",
      summary: "Set (or clear, with null) the email a provider signs in to the console with",
      body: UpdateProvider,
      responses: { 200: { description: "updated", schema: ProviderEmailView } },
      errors: [400, 401, 404, 409],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, UpdateProvider);
      return reply(c, ProviderEmailView, await new ProviderAccounts(c.env).setEmail(c.req.param("id")!, body.email));
    },
  );

  api.op(
    {
      method: "get",
      path: "/admin/v1/providers/{id}",
      tag: "Admin",
      auth: "admin",
      summary:
        "A provider, its allowed GPU classes, and its agents with the strikes counted against each (completions refused for claiming another GPU class or count; inputs called invalid that the platform had accepted)",
      responses: { 200: { description: "the provider", schema: ProviderView } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => reply(c, ProviderView, await providerView(c, c.req.param("id")!)),
  );

  api.op(
    {
      method: "post",
      path: "/admin/v1/providers/{id}/agent-tokens",
      tag: "Admin",
      auth: "admin",
      summary: "Issue an agent token for a provider; shown once",
      responses: { 201: { description: "created", schema: CreatedToken } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const providerId = c.req.param("id")!;
      const p = await db(c.env).select({ id: providers.id }).from(providers).where(eq(providers.id, providerId)).get();
      if (!p) throw notFound("provider");
      const token = randomToken("agt_");
      const id = newId("atok");
      const prefix = token.slice(0, 10);
      await db(c.env)
        .insert(agentTokens)
        .values({ id, providerId, hash: await sha256Hex(token), prefix, createdAt: Date.now() });
      return reply(c, CreatedToken, { id, token, prefix }, 201);
    },
  );

  api.op(
    {
      method: "delete",
      path: "/admin/v1/agent-tokens/{id}",
      tag: "Admin",
      auth: "admin",
      summary: "Revoke an agent token",
      responses: { 200: { description: "revoked", schema: Revoked } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const id = c.req.param("id")!;
      const row = await db(c.env)
        .update(agentTokens)
        .set({ revokedAt: Date.now() })
        .where(and(eq(agentTokens.id, id), isNull(agentTokens.revokedAt)))
        .returning({ id: agentTokens.id, hash: agentTokens.hash })
        .get();
      if (row) await invalidate(agentTokenCacheKey(row.hash));
      if (
        !row &&
        !(await db(c.env).select({ id: agentTokens.id }).from(agentTokens).where(eq(agentTokens.id, id)).get())
      )
        throw notFound("agent token");
      return reply(c, Revoked, { id, revoked: true });
    },
  );
}

async function providerView(c: Ctx, id: string): Promise<ProviderView> {
  const p = await db(c.env).select().from(providers).where(eq(providers.id, id)).get();
  if (!p) throw notFound("provider");
  const rows = await db(c.env)
    .select()
    .from(agents)
    .where(eq(agents.providerId, id))
    .orderBy(desc(agents.registeredAt))
    .limit(500)
    .all();
  return {
    id: p.id,
    name: p.name,
    gpu_classes: p.gpuClasses ?? ["cpu"],
    agents: rows.map((a) => ({
      id: a.id,
      name: a.name,
      gpu_class: a.gpuClass,
      gpu_count: a.gpuCount,
      registered_at: new Date(a.registeredAt).toISOString(),
      deregistered_at: a.deregisteredAt ? new Date(a.deregisteredAt).toISOString() : null,
      rejected_completions: a.rejectedCompletions,
      input_rejections: a.inputRejections,
    })),
  };
}
