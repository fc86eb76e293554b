import { ID, servingHeaders, validName } from "../../services/files.ts";
import { WorkflowRunView } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { ApiError, notFound } from "../../errors.ts";
import { signingSecret } from "../../env.ts";
import { db } from "../../db/client.ts";
import { workflowRuns } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { requireApiKey } from "../../services/auth.ts";
import { WorkflowRunService, runStub } from "../../services/workflows/runs.ts";
import { verifyRunOutput } from "../../services/workflows/views.ts";

const svc = (c: Ctx) => new WorkflowRunService(c.env, c.get("cfg"));
const POLL_MS = 250;
const STREAM_MS = 10 * 60_000;

export function registerWorkflowRuns(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v2/workflow-runs/{id}",
      tag: "Workflows",
      auth: "api_key",
      summary:
        "A run: status (QUEUED, PROCESSING, COMPLETED, FAILED, CANCELLED), outputs, cost, and per node status, model, request id, timings, cost, error",
      responses: { 200: { description: "the run", schema: WorkflowRunView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const run = await svc(c).owned(c.get("account"), c.req.param("id")!);
      return reply(c, WorkflowRunView, await svc(c).view(await run.snapshot()));
    },
  );

  api.op(
    {
      method: "post",
      path: "/v2/workflow-runs/{id}/cancel",
      tag: "Workflows",
      auth: "api_key",
      summary: "Cancel a run: completed nodes are charged, running ones are cancelled and not charged",
      responses: { 200: { description: "the run", schema: WorkflowRunView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const run = await svc(c).owned(c.get("account"), c.req.param("id")!);
      return reply(c, WorkflowRunView, await svc(c).view(await run.cancel()));
    },
  );

  api.op(
    {
      method: "get",
      path: "/v2/workflow-runs/{id}/events",
      tag: "Workflows",
      auth: "api_key",
      summary:
        "Server-Sent Events: run.created, node.queued/started/completed/failed/cancelled, run.completed/failed/cancelled; resumable with Last-Event-ID",
      responses: { 200: { description: "event stream", content: "text/event-stream" } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const run = await svc(c).owned(c.get("account"), c.req.param("id")!);
      let after = Number(c.req.header("last-event-id") ?? c.req.query("after") ?? 0);
      if (!Number.isSafeInteger(after) || after < 0) after = 0;
      const enc = new TextEncoder();
      const until = Date.now() + STREAM_MS;
      let closed = false;
      const stream = new ReadableStream<Uint8Array>({
        cancel() {
          closed = true;
        },
        async pull(ctrl) {
          // Polls the run's event log; ends after the run's final event, or after STREAM_MS (the client resumes with
          // Last-Event-ID), or when the client goes away.
          for (;;) {
            if (closed) return;
            if (Date.now() > until) return ctrl.close();
            const evs = await run.events(after);
            for (const e of evs) {
              ctrl.enqueue(
                enc.encode(
                  `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...JSON.parse(e.data), type: e.type, node: e.node, at: new Date(e.at).toISOString() })}\n\n`,
                ),
              );
              after = e.seq;
              if (e.type.startsWith("run.") && e.type !== "run.created") return ctrl.close();
            }
            if (evs.length) return;
            await new Promise((r) => setTimeout(r, POLL_MS));
          }
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          "x-request-id": c.get("requestId"),
        },
      });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v2/workflow-runs/{id}/outputs/{name}",
      tag: "Workflows",
      auth: "none",
      summary: "Download a mapped output of a completed run through its signed, expiring URL",
      responses: { 200: { description: "the file", content: "application/octet-stream" } },
      errors: [403, 404],
    },
    async (c: Ctx) => {
      // The router decoded the path once; names and ids are checked, never decoded again (issue 9, §3).
      const id = c.req.param("id") ?? "";
      const name = c.req.param("name") ?? "";
      if (!ID.test(id) || !validName(name)) throw notFound("output");
      const ok = await verifyRunOutput(
        signingSecret(c.get("cfg")),
        id,
        name,
        Number(c.req.query("expires")),
        c.req.query("sig") ?? "",
        Date.now(),
      );
      if (!ok) throw new ApiError("forbidden", "missing, invalid or expired signature");
      const row = await db(c.env)
        .select({ id: workflowRuns.id })
        .from(workflowRuns)
        .where(eq(workflowRuns.id, id))
        .get();
      if (!row) throw notFound("output");
      const out = await svc(c).output(await runStub(c.env, id).snapshot(), name);
      if (out?.type !== "file") throw notFound("output");
      const headers = { ...servingHeaders(out.content_type, name), "cache-control": "private, max-age=3600" };
      return new Response(out.body, { headers });
    },
  );
}
