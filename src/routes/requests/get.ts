import { RequestResult } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerGetRequest(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v2/requests/{id}",
      tag: "Requests",
      auth: "api_key",
      summary: "A request with its outputs as signed, expiring URLs",
      responses: { 200: { description: "result", schema: RequestResult } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const svc = new RequestService(c.env, c.get("cfg"));
      const job = await svc.job(c.get("account"), c.req.param("id")!);
      return reply(c, RequestResult, await svc.resultView(job, baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url)));
    },
  );
}
