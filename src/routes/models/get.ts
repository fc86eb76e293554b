import { ModelView } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { D1Catalog } from "../../services/catalog.ts";

export function registerGetModel(api: Api) {
  api.op(
    { method: "get", path: "/v1/models/{model}", tag: "Models", auth: "none", summary: "One model of the catalog", responses: { 200: { description: "model", schema: ModelView } }, errors: [404] },
    async (c: Ctx) => {
      const m = await new D1Catalog(c.env).get(c.req.param("model")!);
      if (!m) throw new ApiError("not_found", `model '${c.req.param("model")}' not found`);
      return reply(c, ModelView, m.view);
    },
  );
}
