import { ModelPage } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { modelPage } from "../../services/model-page.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetModel(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/models/{model}",
      tag: "Models",
      auth: "none",
      summary:
        "A model's page: input JSON Schema, price per GPU class or unit, GPU classes, measured p50 speed " +
        "per class, example, curl/JS/Python snippets",
      responses: { 200: { description: "model", schema: ModelPage } },
      errors: [404],
    },
    async (c: Ctx) => {
      const base = baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
      return reply(c, ModelPage, await modelPage(c.env, c.req.param("model")!, base));
    },
  );
}
