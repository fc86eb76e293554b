import { ModelPage } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetModel(api: Api) {
  api.route({
    method: "get",
    path: "/v1/models/{model}",
    tag: "Models",
    auth: "none",
    summary:
      "A model's page: input JSON Schema, price per GPU class or unit, GPU classes, measured p50 speed " +
      "per class, example, curl/JS/Python snippets",
    responses: { 200: { description: "model", schema: ModelPage } },
    errors: [404],
    async handler(c, { params }) {
      const { modelPages, cfg } = c.var.services;
      return reply(c, ModelPage, await modelPages.page(params.model, baseUrl(cfg.PUBLIC_BASE_URL, c.req.url)));
    },
  });
}
