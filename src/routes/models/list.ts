import type { MiddlewareHandler } from "hono";
import { ModelList } from "../../../schemas/index.ts";
import { reply, type Api, type AppEnv } from "../../app.ts";
import { requireApiKey } from "../../middleware/auth.ts";
import { baseUrl } from "../../services/urls.ts";

const presentsKey = (c: { req: { header(name: string): string | undefined } }) =>
  Boolean(c.req.header("x-api-key") || c.req.header("authorization"));

/** A public route that also knows the caller when a key comes with the request (an invalid key is still 401). */
const optionalApiKey: MiddlewareHandler<AppEnv> = (c, next) => (presentsKey(c) ? requireApiKey(c, next) : next());

export function registerListModels(api: Api) {
  api.route({
    method: "get",
    path: "/v1/models",
    tag: "Models",
    auth: "none",
    summary: "The model catalog: input JSON Schema, output type, GPU classes and pricing",
    responses: { 200: { description: "models", schema: ModelList } },
    use: [optionalApiKey],
    async handler(c) {
      const { catalog, workflows, cfg } = c.var.services;
      const data = await catalog.list();
      // With an API key, the account's published workflows are listed too: each is callable like a model.
      if (!presentsKey(c)) return reply(c, ModelList, { data });
      const listed = await workflows.catalog(c.var.account, baseUrl(cfg.PUBLIC_BASE_URL, c.req.url));
      return reply(c, ModelList, { data, workflows: listed });
    },
  });
}
