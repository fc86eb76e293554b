import { and, eq, isNull } from "drizzle-orm";
import { CatalogSynced, CreateAccount, CreatedId, CreatedKey, CreateKey, Revoked } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { accounts, apiKeys } from "../../db/schema.ts";
import { ApiError, notFound } from "../../errors.ts";
import { requireAdmin } from "../../services/auth.ts";
import { D1Catalog } from "../../services/catalog.ts";
import { currentPeriod, ledger } from "../../services/billing.ts";
import { newId, randomToken, sha256Hex, webhookSecret } from "../../services/crypto.ts";
import { uniqueViolation } from "../../services/db-errors.ts";
import { invalidate } from "../../services/edge-cache.ts";
import { apiKeyCacheKey } from "../../services/auth.ts";

export function registerAdminAccounts(api: Api) {
  api.op(
    {
      method: "post",
      path: "/admin/v1/accounts",
      tag: "Admin",
      auth: "admin",
      summary: "Create an account",
      body: CreateAccount,
      responses: { 201: { description: "created", schema: CreatedId } },
      errors: [400, 401, 409],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateAccount);
      const id = newId("acct");
      try {
        await db(c.env).insert(accounts).values({
          id,
          email: body.email.toLowerCase(),
          plan: body.plan,
          webhookSecret: webhookSecret(),
          createdAt: Date.now(),
        });
      } catch (e) {
        if (uniqueViolation(e)?.includes("accounts.email"))
          throw new ApiError("conflict", "an account with this email exists");
        throw e;
      }
      // The ledger learns the plan now, and a paid plan gets this month's credit at once.
      await ledger(c.env, id).setPlan(id, body.plan);
      await ledger(c.env, id).grantMonthly(id, body.plan, currentPeriod());
      return reply(c, CreatedId, { id }, 201);
    },
  );

  api.op(
    {
      method: "post",
      path: "/admin/v1/accounts/{id}/keys",
      tag: "Admin",
      auth: "admin",
      summary: "Create an API key; the key is shown once",
      body: CreateKey,
      responses: { 201: { description: "created", schema: CreatedKey } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateKey);
      const accountId = c.req.param("id")!;
      const acct = await db(c.env).select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).get();
      if (!acct) throw notFound("account");
      const key = randomToken("sk_live_");
      const id = newId("key");
      const prefix = key.slice(0, 12);
      await db(c.env)
        .insert(apiKeys)
        .values({ id, accountId, name: body.name ?? null, hash: await sha256Hex(key), prefix, createdAt: Date.now() });
      return reply(c, CreatedKey, { id, key, prefix }, 201);
    },
  );

  api.op(
    {
      method: "delete",
      path: "/admin/v1/keys/{id}",
      tag: "Admin",
      auth: "admin",
      summary: "Revoke an API key",
      responses: { 200: { description: "revoked", schema: Revoked } },
      errors: [401, 404],
    },
    requireAdmin,
    async (c: Ctx) => {
      const id = c.req.param("id")!;
      const row = await db(c.env)
        .update(apiKeys)
        .set({ revokedAt: Date.now() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id, hash: apiKeys.hash })
        .get();
      if (row) await invalidate(apiKeyCacheKey(row.hash));
      if (!row) {
        const exists = await db(c.env).select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, id)).get();
        if (!exists) throw notFound("key");
      }
      return reply(c, Revoked, { id, revoked: true });
    },
  );

  api.op(
    {
      method: "post",
      path: "/admin/v1/models/sync",
      tag: "Admin",
      auth: "admin",
      summary: "Upsert the built-in model catalog into D1 (idempotent)",
      responses: { 200: { description: "synced", schema: CatalogSynced } },
      errors: [401],
    },
    requireAdmin,
    async (c: Ctx) => reply(c, CatalogSynced, { models: await new D1Catalog(c.env).sync() }),
  );
}
