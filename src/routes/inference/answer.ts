import { RequestStatusView, SyncJsonOutput } from "../../../schemas/index.ts";
import { reply, type Ctx } from "../../app.ts";
import type { JobView } from "../../durable-objects/job-broker-types.ts";
import type { CatalogModel } from "../../services/catalog-types.ts";
import { RequestService } from "../../services/requests.ts";

/** What a finished or timed-out sync call answers with, for `/v1/{model}` and a dedicated endpoint's `/run`. */
export interface SyncOutcome {
  job: JobView;
  model: CatalogModel;
  /** the caller's input: `base64: true` asks for the outputs inline */
  raw: Record<string, unknown>;
  base: string;
  /** what the request cost (null when the ledger has no outcome) */
  cost: number | null;
  /** headers every answer carries (request id, rate limits, cost, GPU time) */
  headers: Record<string, string>;
}

/**
 * The sync answer: 202 with the request while the job still runs (it keeps running; nothing is lost to the client's
 * timeout); the failure as its error; a JSON model's own JSON; the JSON envelope (Accept: application/json, or
 * `base64: true` with the outputs inline); otherwise the first output's bytes.
 */
export async function syncAnswer(c: Ctx, o: SyncOutcome): Promise<Response> {
  const svc = c.var.services.requests;
  const { job, model, base, cost, headers } = o;
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  if (job.status === "QUEUED" || job.status === "PROCESSING") {
    c.header("location", `${base}/v2/requests/${job.id}`);
    return reply(c, RequestStatusView, svc.statusView(job, base), 202);
  }
  if (job.status !== "COMPLETED") throw RequestService.failure(job, headers);
  const accept = c.req.header("accept") ?? "";
  const wantsBase64 = o.raw.base64 === true;
  if (model.view.output_type === "json" && !wantsBase64 && !accept.includes("application/json"))
    return c.json(job.output_json as object);
  if (wantsBase64 || accept.includes("application/json") || model.view.output_type === "json") {
    const output_base64 = wantsBase64 ? await svc.outputsBase64(job) : undefined;
    return reply(c, SyncJsonOutput, {
      request_id: job.id,
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
      ...headers,
      "content-type": content_type,
      "content-length": String(obj.size),
      "x-request-id": c.var.requestId,
    },
  });
}
