import { CancelResult } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { RequestService } from "../../services/requests.ts";

export function registerCancelRequest(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v2/requests/{id}/cancel",
      tag: "Requests",
      auth: "api_key",
      summary: "Cancel a queued or running request",
      responses: { 200: { description: "outcome", schema: CancelResult } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const svc = new RequestService(c.env, c.get("cfg"));
      const r = await svc.cancel(c.get("account"), c.req.param("id")!);
      // a cancelled request is refunded in full right away
      await svc.settle(r.job);
      return reply(c, CancelResult, { request_id: r.job.id, status: r.job.status, outcome: r.outcome });
    },
  );
}
