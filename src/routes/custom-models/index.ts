import { CreateCustomModel, CustomModelList, CustomModelView, Deleted } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

/** Private ComfyUI models: each is visible to, and callable at /v1/{slug} and /v2/{slug} by, its own account only. */
export function registerCustomModels(api: Api) {
  api.route({
    method: "post",
    path: "/v1/custom-models",
    tag: "Models",
    auth: "api_key",
    summary: "Turn a ComfyUI workflow (API format) into a private model: inputs map request fields to node inputs",
    body: CreateCustomModel,
    responses: { 201: { description: "created", schema: CustomModelView } },
    errors: [400, 401, 409],
    handler: async (c, { body }) =>
      reply(c, CustomModelView, await c.var.services.customModels.create(c.var.account.id, body), 201),
  });
  api.route({
    method: "get",
    path: "/v1/custom-models",
    tag: "Models",
    auth: "api_key",
    summary: "Your private models",
    responses: { 200: { description: "models", schema: CustomModelList } },
    errors: [401],
    handler: async (c) => reply(c, CustomModelList, { data: await c.var.services.customModels.list(c.var.account.id) }),
  });
  api.route({
    method: "get",
    path: "/v1/custom-models/{slug}",
    tag: "Models",
    auth: "api_key",
    summary: "One of your private models",
    responses: { 200: { description: "model", schema: CustomModelView } },
    errors: [401, 404],
    handler: async (c, { params }) =>
      reply(c, CustomModelView, await c.var.services.customModels.get(c.var.account.id, params.slug)),
  });
  api.route({
    method: "delete",
    path: "/v1/custom-models/{slug}",
    tag: "Models",
    auth: "api_key",
    summary: "Delete one of your private models",
    responses: { 200: { description: "deleted", schema: Deleted } },
    errors: [401, 404],
    async handler(c, { params }) {
      await c.var.services.customModels.delete(c.var.account.id, params.slug);
      return reply(c, Deleted, { slug: params.slug, deleted: true });
    },
  });
}
