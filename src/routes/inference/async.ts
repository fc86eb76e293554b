import { AsyncSubmitted } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api } from "../../app.ts";
import { baseUrl, requestUrls } from "../../services/urls.ts";
import { idempotencyKey, inferenceBody, loadModel, takeWebhook } from "./parse.ts";

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
      const webhook = takeWebhook(c, raw);
      const key = idempotencyKey(c);
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
