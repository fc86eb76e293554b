import { ModelInput, RequestStatusView, SyncJsonOutput } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api } from "../../app.ts";
import { toSchema } from "../../openapi.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl } from "../../services/urls.ts";
import { inferenceBody, loadModel, preferWait } from "./parse.ts";

const DEFAULT_WAIT_S = 60;
const MAX_WAIT_S = 300;

export function registerSyncInference(api: Api) {
  api.route({
    method: "post",
    path: "/v1/{model}",
    tag: "Inference",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary:
      "Run a model and return its output (image bytes by default; JSON with Accept: application/json or base64: true). Waits up to Prefer: wait=N seconds, then answers 202 with the request object.",
    // The body is the model's own input (JSON or raw image bytes): documented here, read and checked in the handler.
    bodyContent: {
      "application/json": { schema: toSchema(ModelInput, "input") },
      "image/*": { schema: { type: "string", format: "binary" } },
    },
    responses: {
      200: { description: "the output", content: "image/png" },
      202: { description: "still running", schema: RequestStatusView },
    },
    errors: [400, 401, 402, 403, 404, 413, 422, 429, 500, 503, 504],
    async handler(c, { params }) {
      const { requests: svc, cfg, background } = c.var.services;
      const model = await loadModel(c, params.model);
      const raw = await inferenceBody(c, model);
      const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
      const { id, pool, headers } = await svc.submit(c.var.account, model, raw, {
        mode: "sync",
        base,
        defer: background,
      });
      const out: Record<string, string> = { ...headers, "x-inference-request-id": id };
      for (const [k, v] of Object.entries(out)) c.header(k, v);
      const job = await svc.wait(pool, id, preferWait(c, DEFAULT_WAIT_S, MAX_WAIT_S) * 1000);

      if (job.status === "QUEUED" || job.status === "PROCESSING") {
        // Not done in time: the job keeps running and the caller polls; nothing is lost to the client's timeout.
        c.header("location", `${base}/v2/requests/${id}`);
        return reply(c, RequestStatusView, svc.statusView(job, base), 202);
      }
      const settled = await svc.settle(job);
      const cost = settled?.cost ?? null;
      if (settled)
        Object.assign(out, {
          "x-request-cost": String(settled.cost),
          "x-remaining-credits": String(settled.available),
        });
      if (job.gpu_ms !== null) out["x-gpu-ms"] = String(job.gpu_ms);
      for (const [k, v] of Object.entries(out)) c.header(k, v);
      if (job.status !== "COMPLETED") throw RequestService.failure(job, out);

      const accept = c.req.header("accept") ?? "";
      const wantsBase64 = raw.base64 === true;
      // A JSON model's output is the JSON itself; an image model answers bytes unless JSON or base64 is asked for.
      if (model.view.output_type === "json" && !wantsBase64 && !accept.includes("application/json"))
        return c.json(job.output_json as object);
      if (wantsBase64 || accept.includes("application/json") || model.view.output_type === "json") {
        const output_base64 = wantsBase64 ? await svc.outputsBase64(job) : undefined;
        return reply(c, SyncJsonOutput, {
          request_id: id,
          status: job.status,
          output: await svc.outputs(job, base),
          output_json: job.output_json ?? null,
          metrics: svc.statusView(job, base, cost).metrics,
          cost,
          ...(output_base64 ? { output_base64 } : {}),
        });
      }
      const { content_type, obj } = await svc.firstOutput(job);
      return new Response(obj.body, {
        headers: {
          ...out,
          "content-type": content_type,
          "content-length": String(obj.size),
          "x-request-id": c.var.requestId,
        },
      });
    },
  });
}
