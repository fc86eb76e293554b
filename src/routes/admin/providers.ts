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
import { reply, type Api } from "../../app.ts";

export function registerAdminProviders(api: Api) {
  api.route({
    method: "post",
    path: "/admin/v1/providers",
    tag: "Admin",
    auth: "admin",
    summary: "Create a GPU provider (optionally with the email it signs in to the console with)",
    body: CreateProvider,
    responses: { 201: { description: "created", schema: CreatedId } },
    errors: [400, 401, 409],
    async handler(c, { body }) {
      const id = await c.var.services.providerAccounts.create(body.name, body.email, body.gpu_classes);
      return reply(c, CreatedId, { id }, 201);
    },
  });

  api.route({
    method: "put",
    path: "/admin/v1/providers/{id}/gpu-classes",
    tag: "Admin",
    auth: "admin",
    summary:
      "Set the GPU classes this provider's agents may register with (agents registered before keep their class until they register again)",
    body: SetProviderGpuClasses,
    responses: { 200: { description: "set", schema: ProviderView } },
    errors: [400, 401, 404],
    handler: async (c, { params, body }) =>
      reply(c, ProviderView, await c.var.services.providerAccounts.setGpuClasses(params.id, body.gpu_classes)),
  });

  api.route({
    method: "put",
    path: "/admin/v1/providers/{id}/email",
    tag: "Admin",
    auth: "admin",
    summary: "Set (or clear, with null) the email a provider signs in to the console with",
    body: UpdateProvider,
    responses: { 200: { description: "updated", schema: ProviderEmailView } },
    errors: [400, 401, 404, 409],
    handler: async (c, { params, body }) =>
      reply(c, ProviderEmailView, await c.var.services.providerAccounts.setEmail(params.id, body.email)),
  });

  api.route({
    method: "get",
    path: "/admin/v1/providers/{id}",
    tag: "Admin",
    auth: "admin",
    summary:
      "A provider, its allowed GPU classes, and its agents with the strikes counted against each (completions refused for claiming another GPU class or count; inputs called invalid that the platform had accepted)",
    responses: { 200: { description: "the provider", schema: ProviderView } },
    errors: [401, 404],
    handler: async (c, { params }) => reply(c, ProviderView, await c.var.services.providerAccounts.view(params.id)),
  });

  api.route({
    method: "post",
    path: "/admin/v1/providers/{id}/agent-tokens",
    tag: "Admin",
    auth: "admin",
    summary: "Issue an agent token for a provider; shown once",
    responses: { 201: { description: "created", schema: CreatedToken } },
    errors: [401, 404],
    handler: async (c, { params }) =>
      reply(c, CreatedToken, await c.var.services.providerAccounts.issueAgentToken(params.id), 201),
  });

  api.route({
    method: "delete",
    path: "/admin/v1/agent-tokens/{id}",
    tag: "Admin",
    auth: "admin",
    summary: "Revoke an agent token",
    responses: { 200: { description: "revoked", schema: Revoked } },
    errors: [401, 404],
    async handler(c, { params }) {
      await c.var.services.providerAccounts.revokeAgentToken(params.id);
      return reply(c, Revoked, { id: params.id, revoked: true });
    },
  });
}
