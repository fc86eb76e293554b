import { AsyncSubmitted, isTerminal, RequestStatusView, SyncJsonOutput } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { baseUrl, requestUrls } from "../../services/urls.ts";
import { syncAnswer } from "../inference/answer.ts";
import { idempotencyKey, inferenceBody, preferWait, takeWebhook } from "../inference/parse.ts";

/**
 * Requests to a dedicated endpoint: the model's normal input, queued in the endpoint's private pool, no per-request
 * hold or charge. A scaled-to-zero endpoint wakes and the request waits in its queue (the sync call answers 202 with
 * the request when the wake outlasts Prefer: wait).
 */
export function registerEndpointRun(api: Api) {
  api.route({
    method: "post",
    path: "/v1/endpoints/{id}/run",
    tag: "Endpoints",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary:
      "Run the endpoint's model and wait for the output, answered as /v1/{model} answers (image bytes, the model's JSON, or the JSON envelope with Accept: application/json); 202 with the request when it is not done within Prefer: wait=N",
    responses: {
      200: { description: "the output", schema: SyncJsonOutput },
      202: { description: "still queued or running", schema: RequestStatusView },
    },
    errors: [400, 401, 402, 404, 409, 413, 422],
    async handler(c, { params }) {
      const { svc, id, pool, base, model, raw } = await submit(c, params.id, "sync");
      const job = await svc.wait(pool, id, preferWait(c, 60, 300) * 1000);
      // A dedicated endpoint's requests carry no per-request charge: its instances are billed by the second.
      const headers: Record<string, string> = { "x-inference-request-id": id };
      if (isTerminal(job.status)) headers["x-request-cost"] = "0";
      if (job.gpu_ms !== null) headers["x-gpu-ms"] = String(job.gpu_ms);
      return syncAnswer(c, { job, model, raw, base, cost: 0, headers });
    },
  });
  api.route({
    method: "post",
    path: "/v2/endpoints/{id}/run",
    tag: "Endpoints",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary: "Queue a request on the endpoint; status, result, cancel and webhook work as for models",
    responses: { 202: { description: "queued", schema: AsyncSubmitted } },
    errors: [400, 401, 402, 404, 409, 413, 422],
    async handler(c, { params }) {
      const { id, job, base } = await submit(c, params.id, "async");
      return reply(
        c,
        AsyncSubmitted,
        { request_id: id, status: job.status, queue_position: job.queue_position, ...requestUrls(base, id) },
        202,
      );
    },
  });
}

/** Reads and checks the request (the endpoint's model parses the body), then hands it to the endpoint. */
async function submit(c: Ctx, id: string, mode: "sync" | "async") {
  const { endpoints, requests, cfg } = c.var.services;
  const account = c.var.account;
  const target = await endpoints.target(account, id);
  const raw = await inferenceBody(c, target.model);
  const webhook = takeWebhook(c, raw);
  const key = idempotencyKey(c);
  const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
  const r = await endpoints.submit(account, target, raw, { mode, webhook, base, idempotencyKey: key });
  return { svc: requests, id: r.id, job: r.job, pool: r.pool, base, model: target.model, raw };
}
