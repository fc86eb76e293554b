import { SyncJsonOutput, RequestStatusView, ModelInput } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { RequestService } from "../../services/requests.ts";
import { baseUrl } from "../../services/urls.ts";
import { deferrer, inferenceBody, loadModel, preferWait } from "./parse.ts";
import { ApiError } from "../../errors.ts";

const DEFAULT_WAIT_S = 60;
const MAX_WAIT_S = 300;

export function registerSyncInference(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/{model}",
      tag: "Inference",
      auth: "api_key",
      maxBody: LIMITS.inference,
      summary:
        "Run a model and return its output (image bytes by default; JSON with Accept: application/json or base64: true). Waits up to Prefer: wait=N seconds, then answers 202 with the request object.",
      body: ModelInput,
      bodyContent: { "image/*": { schema: { type: "string", format: "binary" } } },
      responses: {
        200: { description: "the output", content: "image/png" },
        202: { description: "still running", schema: RequestStatusView },
      },
      errors: [400, 401, 402, 403, 404, 413, 422, 429, 500, 503, 504],
    },
    requireApiKey,
    async (c: Ctx) => {
      const model = await loadModel(c);
      const raw = await inferenceBody(c, model);
      const base = baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
      const svc = new RequestService(c.env, c.get("cfg"));
      const { id, pool, headers } = await svc.submit(c.get("account"), model, raw, {
        mode: "sync",
        base,
        defer: deferrer(c),
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
        const account = c.get("account").id;
        const output_base64 = wantsBase64
          ? await Promise.all(
              (job.outputs ?? []).map(async (o) => {
                const obj = await svc.readOutput(account, id, o.name);
                if (!obj) throw new ApiError("internal", `output ${o.name} is missing`);
                return {
                  name: o.name,
                  content_type: o.content_type,
                  data: toBase64(new Uint8Array(await obj.arrayBuffer())),
                };
              }),
            )
          : undefined;
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
      const first = job.outputs?.[0];
      const obj = first ? await svc.readOutput(c.get("account").id, id, first.name) : null;
      if (!first || !obj) throw new ApiError("internal", "the job completed without an output");
      return new Response(obj.body, {
        headers: {
          ...out,
          "content-type": first.content_type,
          "content-length": String(obj.size),
          "x-request-id": c.get("requestId"),
        },
      });
    },
  );
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}
