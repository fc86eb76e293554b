import { CreateCustomModel, CustomModelList, CustomModelView, Deleted } from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { CustomModels } from "../../services/custom-models.ts";

/** Private ComfyUI models: each is visible to, and callable at /v1/{slug} and /v2/{slug} by, its own account only. */
export function registerCustomModels(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/custom-models",
      tag: "Models",
      auth: "api_key",
      summary: "Turn a ComfyUI workflow (API format) into a private model: inputs map request fields to node inputs",
      body: CreateCustomModel,
      responses: { 201: { description: "created", schema: CustomModelView } },
      errors: [400, 401, 409],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, CreateCustomModel);
      return reply(c, CustomModelView, await new CustomModels(c.env).create(c.get("account").id, body), 201);
    },
  );
  api.op(
    {
      method: "get",
      path: "/v1/custom-models",
      tag: "Models",
      auth: "api_key",
      summary: "Your private models",
      responses: { 200: { description: "models", schema: CustomModelList } },
      errors: [401],
    },
    requireApiKey,
    async (c: Ctx) => reply(c, CustomModelList, { data: await new CustomModels(c.env).list(c.get("account").id) }),
  );
  api.op(
    {
      method: "get",
      path: "/v1/custom-models/{slug}",
      tag: "Models",
      auth: "api_key",
      summary: "One of your private models",
      responses: { 200: { description: "model", schema: CustomModelView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const model = await new CustomModels(c.env).get(c.get("account").id, c.req.param("slug")!);
      return reply(c, CustomModelView, model);
    },
  );
  api.op(
    {
      method: "delete",
      path: "/v1/custom-models/{slug}",
      tag: "Models",
      auth: "api_key",
      summary: "Delete one of your private models",
      responses: { 200: { description: "deleted", schema: Deleted } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const slug = c.req.param("slug")!;
      await new CustomModels(c.env).delete(c.get("account").id, slug);
      return reply(c, Deleted, { slug, deleted: true });
    },
  );
}
