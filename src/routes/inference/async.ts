import { AsyncSubmitted } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { checkOutbound, outboundPolicy } from "../../services/outbound.ts";
import { baseUrl, requestUrls } from "../../services/urls.ts";
import { inferenceBody, loadModel } from "./parse.ts";

export function registerAsyncInference(api: Api) {
  api.route({
    method: "post",
    path: "/v2/{model}",
    tag: "Inference",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary:
      "Queue a request and return at once with its status, result and cancel URLs. Optional Idempotency-Key header and webhook field.",
    responses: { 202: { description: "queued", schema: AsyncSubmitted } },
    errors: [400, 401, 402, 403, 404, 409, 413, 429],
    async handler(c, { params }) {
      const { requests, cfg } = c.var.services;
      // The body is the model's own input (JSON or raw image bytes), so it is read and checked against the model.
      const model = await loadModel(c, params.model);
      const raw = await inferenceBody(c, model);
      const webhook = typeof raw.webhook === "string" ? raw.webhook : undefined;
      if (raw.webhook !== undefined && !webhook)
        throw new ApiError("invalid_input", "webhook must be an http(s) URL", {
          fields: [{ path: "webhook", message: "invalid URL" }],
        });
      if (webhook) checkOutbound(webhook, "webhook", outboundPolicy(cfg));
      delete raw.webhook;
      const key = c.req.header("idempotency-key");
      if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
        throw new ApiError("invalid_input", "Idempotency-Key must be 1-255 printable characters");
      const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
      const { id, job, headers } = await requests.submit(c.var.account, model, raw, {
        mode: "async",
        idempotencyKey: key,
        webhook,
        base,
      });
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      return reply(
        c,
        AsyncSubmitted,
        { request_id: id, status: job.status, queue_position: job.queue_position, ...requestUrls(base, id) },
        202,
      );
    },
  });
}
