import { RequestResult } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetRequest(api: Api) {
  api.route({
    method: "get",
    path: "/v2/requests/{id}",
    tag: "Requests",
    auth: "api_key",
    summary: "A request with its outputs as signed, expiring URLs",
    responses: { 200: { description: "result", schema: RequestResult } },
    errors: [401, 404],
    async handler(c, { params }) {
      const { requests, cfg } = c.var.services;
      const job = await requests.job(c.var.account, params.id);
      return reply(c, RequestResult, await requests.resultView(job, baseUrl(cfg.PUBLIC_BASE_URL, c.req.url)));
    },
  });
}
