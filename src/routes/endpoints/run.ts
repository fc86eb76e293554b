import { AsyncSubmitted, RequestStatusView, SyncJsonOutput } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { checkOutbound, outboundPolicy } from "../../services/outbound.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl, requestUrls } from "../../services/urls.ts";
import { inferenceBody, preferWait } from "../inference/parse.ts";

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
      c.header("x-inference-request-id", id);
      const job = await svc.wait(pool, id, preferWait(c, 60, 300) * 1000);
      if (job.status === "QUEUED" || job.status === "PROCESSING") {
        c.header("location", `${base}/v2/requests/${id}`);
        return reply(c, RequestStatusView, svc.statusView(job, base), 202);
      }
      if (job.gpu_ms !== null) c.header("x-gpu-ms", String(job.gpu_ms));
      c.header("x-request-cost", "0");
      if (job.status !== "COMPLETED") throw RequestService.failure(job);
      // The same answers as /v1/{model}: a JSON model's output as is, an image model's bytes, or the JSON envelope
      // (Accept: application/json) with base64 outputs when `base64: true`.
      const accept = c.req.header("accept") ?? "";
      const wantsBase64 = raw.base64 === true;
      if (model.view.output_type === "json" && !wantsBase64 && !accept.includes("application/json"))
        return c.json(job.output_json as object);
      const account = c.var.account.id;
      if (wantsBase64 || accept.includes("application/json") || model.view.output_type === "json") {
        const output_base64 = wantsBase64
          ? await Promise.all(
              (job.outputs ?? []).map(async (o) => {
                const obj = await svc.readOutput(account, id, o.name);
                if (!obj) throw new ApiError("internal", `output ${o.name} is missing`);
                return {
                  name: o.name,
                  content_type: o.content_type,
                  data: Buffer.from(await obj.arrayBuffer()).toString("base64"),
                };
              }),
            )
          : undefined;
        return reply(c, SyncJsonOutput, {
          request_id: id,
          status: job.status,
          output: await svc.outputs(job, base),
          output_json: job.output_json ?? null,
          metrics: svc.statusView(job, base, 0).metrics,
          cost: 0,
          ...(output_base64 ? { output_base64 } : {}),
        });
      }
      const first = job.outputs?.[0];
      const obj = first ? await svc.readOutput(account, id, first.name) : null;
      if (!first || !obj) throw new ApiError("internal", "the job completed without an output");
      return new Response(obj.body, {
        headers: {
          "content-type": first.content_type,
          "content-length": String(obj.size),
          "x-request-id": c.var.requestId,
          "x-inference-request-id": id,
          "x-request-cost": "0",
          ...(job.gpu_ms !== null ? { "x-gpu-ms": String(job.gpu_ms) } : {}),
        },
      });
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
  const r = await endpoints.submit(account, target, raw, { mode, webhook, base, idempotencyKey: key });
  return { svc: requests, id: r.id, job: r.job, pool: r.pool, base, model: target.model, raw };
}
