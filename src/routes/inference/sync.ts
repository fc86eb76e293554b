import { isTerminal, ModelInput, RequestStatusView } from "../../../schemas/index.ts";
import { LIMITS, type Api } from "../../app.ts";
import { toSchema } from "../../openapi.ts";
import { baseUrl } from "../../services/urls.ts";
import { syncAnswer } from "./answer.ts";
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
      const { requests: svc, cfg } = c.var.services;
      const model = await loadModel(c, params.model);
      const raw = await inferenceBody(c, model);
      const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
      const { id, pool, headers } = await svc.submit(c.var.account, model, raw, {
        mode: "sync",
        base,
      });
      const out: Record<string, string> = { ...headers, "x-inference-request-id": id };
      const job = await svc.wait(pool, id, preferWait(c, DEFAULT_WAIT_S, MAX_WAIT_S) * 1000);
      // One settle per job: the agent's completion settled it; this returns that outcome (idempotent).
      const settled = isTerminal(job.status) ? await svc.settle(job) : null;
      if (settled) {
        out["x-request-cost"] = String(settled.cost);
        out["x-remaining-credits"] = String(settled.available);
      }
      if (job.gpu_ms !== null) out["x-gpu-ms"] = String(job.gpu_ms);
      return syncAnswer(c, { job, model, raw, base, cost: settled?.cost ?? null, headers: out });
    },
  });
}
