import { CatalogSynced, CreateAccount, CreatedId, CreatedKey, CreateKey, Revoked } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerAdminAccounts(api: Api) {
  api.route({
    method: "post",
    path: "/admin/v1/accounts",
    tag: "Admin",
    auth: "admin",
    summary: "Create an account",
    body: CreateAccount,
    responses: { 201: { description: "created", schema: CreatedId } },
    errors: [400, 401, 409],
    handler: async (c, { body }) => reply(c, CreatedId, { id: await c.var.services.admin.createAccount(body) }, 201),
  });

  api.route({
    method: "post",
    path: "/admin/v1/accounts/{id}/keys",
    tag: "Admin",
    auth: "admin",
    summary: "Create an API key; the key is shown once",
    body: CreateKey,
    responses: { 201: { description: "created", schema: CreatedKey } },
    errors: [401, 404],
    handler: async (c, { params, body }) =>
      reply(c, CreatedKey, await c.var.services.admin.createKey(params.id, body), 201),
  });

  api.route({
    method: "delete",
    path: "/admin/v1/keys/{id}",
    tag: "Admin",
    auth: "admin",
    summary: "Revoke an API key",
    responses: { 200: { description: "revoked", schema: Revoked } },
    errors: [401, 404],
    async handler(c, { params }) {
      await c.var.services.admin.revokeKey(params.id);
      return reply(c, Revoked, { id: params.id, revoked: true });
    },
  });

  api.route({
    method: "post",
    path: "/admin/v1/models/sync",
    tag: "Admin",
    auth: "admin",
    summary: "Upsert the built-in model catalog into D1 (idempotent)",
    responses: { 200: { description: "synced", schema: CatalogSynced } },
    errors: [401],
    handler: async (c) => reply(c, CatalogSynced, { models: await c.var.services.catalog.sync() }),
  });
}
