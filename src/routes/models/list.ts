import { ModelList } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { D1Catalog } from "../../services/catalog.ts";

export function registerListModels(api: Api) {
  api.op(
    { method: "get", path: "/v1/models", tag: "Models", auth: "none", summary: "The model catalog: input JSON Schema, output type, GPU classes and pricing", responses: { 200: { description: "models", schema: ModelList } } },
    async (c: Ctx) => reply(c, ModelList, { data: await new D1Catalog(c.env).list() }),
  );
}
