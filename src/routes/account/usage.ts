import { UsagePage, UsageQuery } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerUsage(api: Api) {
  api.route({
    method: "get",
    path: "/v1/usage",
    tag: "Account",
    auth: "api_key",
    summary: "Requests newest first with model, status, GPU seconds, GPU class and cost (cursor-paginated)",
    query: UsageQuery,
    responses: { 200: { description: "page", schema: UsagePage } },
    errors: [400, 401],
    handler: async (c, { query }) => reply(c, UsagePage, await c.var.services.usage.page(c.var.account.id, query)),
  });
}
