import { CancelResult } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";

export function registerCancelRequest(api: Api) {
  api.route({
    method: "post",
    path: "/v2/requests/{id}/cancel",
    tag: "Requests",
    auth: "api_key",
    summary: "Cancel a queued or running request",
    responses: { 200: { description: "outcome", schema: CancelResult } },
    errors: [401, 404],
    async handler(c, { params }) {
      const r = await c.var.services.requests.cancel(c.var.account, params.id);
      return reply(c, CancelResult, { request_id: r.job.id, status: r.job.status, outcome: r.outcome });
    },
  });
}
