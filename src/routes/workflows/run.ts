import { RunSubmitted, WorkflowRunView } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { MAX_IMAGE_BYTES } from "../../services/inputs.ts";
import { baseUrl } from "../../services/urls.ts";
import { runUrls } from "../../services/workflows/views.ts";
import { parseJson } from "../../validation.ts";
import { idempotencyKey, preferWait } from "../inference/parse.ts";

const DEFAULT_WAIT_S = 60;
const MAX_WAIT_S = 300;

/** The run's body: the workflow's inputs as JSON, or raw image bytes for a workflow with one image input. */
async function runBody(c: Ctx): Promise<Record<string, unknown> | Uint8Array> {
  const type = (c.req.header("content-type") ?? "application/json").split(";")[0]!.trim().toLowerCase();
  if (type.startsWith("image/") || type === "application/octet-stream") {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0) throw new ApiError("invalid_input", "empty image body");
    if (bytes.byteLength > MAX_IMAGE_BYTES)
      throw new ApiError("payload_too_large", `image exceeds ${MAX_IMAGE_BYTES} bytes`);
    return bytes;
  }
  if (type !== "application/json")
    throw new ApiError("unsupported_media_type", "send application/json or an image/* body");
  const raw = parseJson(await c.req.text());
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ApiError("invalid_input", "request body must be a JSON object");
  return raw as Record<string, unknown>;
}

const base = (c: Ctx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);

/** A run that ended without completing, as the error a waiting caller gets. */
function runFailed(view: WorkflowRunView, runId: string, headers: Record<string, string>): ApiError {
  const code =
    view.status === "CANCELLED"
      ? "conflict"
      : view.error?.kind === "timeout"
        ? "timeout"
        : view.error?.kind === "invalid_input"
          ? "unprocessable"
          : "internal";
  return new ApiError(
    code,
    view.error?.message ?? `run ${view.status.toLowerCase()}`,
    { run_id: runId, error: view.error },
    headers,
  );
}

export function registerWorkflowRun(api: Api) {
  api.route({
    method: "post",
    path: "/v2/workflows/{slug}",
    tag: "Workflows",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary:
      "Start a run of a published version (slug, slug@N, slug@production|staging|latest; bare slug = production, else latest). 202 with the run id and its status (poll_url), events and cancel URLs. Optional webhook field and Idempotency-Key.",
    responses: { 202: { description: "started", schema: RunSubmitted } },
    errors: [400, 401, 402, 403, 404, 409, 413, 415, 422, 429],
    async handler(c, { params }) {
      const r = await c.var.services.workflowRuns.submit(c.var.account, params.slug, await runBody(c), {
        mode: "async",
        idempotencyKey: idempotencyKey(c),
        base: base(c),
      });
      for (const [k, v] of Object.entries(r.headers)) c.header(k, v);
      const { run, spec } = r.snapshot;
      return reply(
        c,
        RunSubmitted,
        {
          run_id: r.id,
          status: run.status,
          workflow: spec.workflow,
          version: spec.version,
          held: run.held,
          ...runUrls(base(c), r.id),
        },
        202,
      );
    },
  });

  api.route({
    method: "post",
    path: "/v1/workflows/{slug}",
    tag: "Workflows",
    auth: "api_key",
    maxBody: LIMITS.inference,
    summary:
      "Run and wait: the first output as the body (its bytes, or its JSON), or the whole run with Accept: application/json. Waits up to Prefer: wait=N seconds, then 202 with the run.",
    responses: {
      200: { description: "the first output", content: "image/png" },
      202: { description: "still running", schema: WorkflowRunView },
    },
    errors: [400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 503, 504],
    async handler(c, { params }) {
      const svc = c.var.services.workflowRuns;
      const r = await svc.submit(c.var.account, params.slug, await runBody(c), {
        mode: "sync",
        idempotencyKey: idempotencyKey(c),
        base: base(c),
      });
      const headers: Record<string, string> = { ...r.headers, "x-workflow-run-id": r.id };
      const snap = await svc.wait(r.id, preferWait(c, DEFAULT_WAIT_S, MAX_WAIT_S) * 1000);
      const view = await svc.view(snap);
      if (view.cost !== null) headers["x-request-cost"] = String(view.cost);
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      if (view.status === "QUEUED" || view.status === "PROCESSING" || !snap.run.finalized) {
        c.header("location", view.status_url);
        return reply(c, WorkflowRunView, view, 202);
      }
      if (view.status !== "COMPLETED") throw runFailed(view, r.id, headers);
      if ((c.req.header("accept") ?? "").includes("application/json")) return reply(c, WorkflowRunView, view);
      const first = await svc.firstOutput(snap);
      if (!first) return c.json(null);
      if (first.type === "json") return c.json(first.value as object);
      return new Response(first.body, {
        headers: { ...headers, "content-type": first.content_type, "x-request-id": c.var.requestId },
      });
    },
  });
}
