import { RequestStatusView } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetStatus(api: Api) {
  api.route({
    method: "get",
    path: "/v2/requests/{id}/status",
    tag: "Requests",
    auth: "api_key",
    summary: "Status, queue position and metrics of a request",
    responses: { 200: { description: "status", schema: RequestStatusView } },
    errors: [401, 404],
    async handler(c, { params }) {
      const { requests, cfg } = c.var.services;
      const job = await requests.job(c.var.account, params.id);
      const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
      return reply(c, RequestStatusView, requests.statusView(job, base, await requests.cost(job)));
    },
  });
}
