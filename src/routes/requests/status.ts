import { RequestStatusView } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetStatus(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v2/requests/{id}/status",
      tag: "Requests",
      auth: "api_key",
      summary: "Status, queue position and metrics of a request",
      responses: { 200: { description: "status", schema: RequestStatusView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const svc = new RequestService(c.env, c.get("cfg"));
      const job = await svc.job(c.get("account"), c.req.param("id")!);
      return reply(
        c,
        RequestStatusView,
        svc.statusView(job, baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url), await svc.cost(job)),
      );
    },
  );
}
