import { AsyncSubmitted } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { checkOutbound, outboundPolicy } from "../../services/outbound.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl, requestUrls } from "../../services/urls.ts";
import { deferrer, inferenceBody, loadModel } from "./parse.ts";

export function registerAsyncInference(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v2/{model}",
      tag: "Inference",
      auth: "api_key",
      maxBody: LIMITS.inference,
      summary:
        "Queue a request and return at once with its status, result and cancel URLs. Optional Idempotency-Key header and webhook field.",
      responses: { 202: { description: "queued", schema: AsyncSubmitted } },
      errors: [400, 401, 402, 403, 404, 409, 413, 429],
    },
    requireApiKey,
    async (c: Ctx) => {
      const model = await loadModel(c);
      const raw = await inferenceBody(c, model);
      const webhook = typeof raw.webhook === "string" ? raw.webhook : undefined;
      if (raw.webhook !== undefined && !webhook)
        throw new ApiError("invalid_input", "webhook must be an http(s) URL", {
          fields: [{ path: "webhook", message: "invalid URL" }],
        });
      if (webhook) checkOutbound(webhook, "webhook", outboundPolicy(c.get("cfg")));
      delete raw.webhook;
      const key = c.req.header("idempotency-key");
      if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
        throw new ApiError("invalid_input", "Idempotency-Key must be 1-255 printable characters");
      const base = baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
      const { id, job, headers } = await new RequestService(c.env, c.get("cfg")).submit(c.get("account"), model, raw, {
        mode: "async",
        idempotencyKey: key,
        webhook,
        base,
        defer: deferrer(c),
      });
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      return reply(
        c,
        AsyncSubmitted,
        { request_id: id, status: job.status, queue_position: job.queue_position, ...requestUrls(base, id) },
        202,
      );
    },
  );
}
