import { ModelList } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { D1Catalog } from "../../services/catalog.ts";
import { requireApiKey } from "../../services/auth.ts";
import { baseUrl } from "../../services/urls.ts";
import { WorkflowStore } from "../../services/workflows/store.ts";

export function registerListModels(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/models",
      tag: "Models",
      auth: "none",
      summary: "The model catalog: input JSON Schema, output type, GPU classes and pricing",
      responses: { 200: { description: "models", schema: ModelList } },
    },
    async (c: Ctx) => {
      const data = await new D1Catalog(c.env).list();
      // With an API key, the account's published workflows are listed too: each is callable like a model.
      if (!c.req.header("x-api-key") && !c.req.header("authorization")) return reply(c, ModelList, { data });
      await requireApiKey(c, async () => {});
      const workflows = await new WorkflowStore(c.env).catalog(
        c.get("account"),
        baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url),
      );
      return reply(c, ModelList, { data, workflows });
    },
  );
}
