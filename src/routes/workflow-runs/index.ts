import { RunEventsQuery, RunOutputQuery, WorkflowRunView } from "../../../schemas/index.ts";
import { reply, type Api } from "../../app.ts";
import { servingHeaders } from "../../services/files.ts";

export function registerWorkflowRuns(api: Api) {
  api.route({
    method: "get",
    path: "/v2/workflow-runs/{id}",
    tag: "Workflows",
    auth: "api_key",
    summary:
      "A run: status (QUEUED, PROCESSING, COMPLETED, FAILED, CANCELLED), outputs, cost, and per node status, model, request id, timings, cost, error",
    responses: { 200: { description: "the run", schema: WorkflowRunView } },
    errors: [401, 404],
    async handler(c, { params }) {
      const runs = c.var.services.workflowRuns;
      const run = await runs.owned(c.var.account, params.id);
      return reply(c, WorkflowRunView, await runs.view(await run.snapshot()));
    },
  });

  api.route({
    method: "post",
    path: "/v2/workflow-runs/{id}/cancel",
    tag: "Workflows",
    auth: "api_key",
    summary: "Cancel a run: completed nodes are charged, running ones are cancelled and not charged",
    responses: { 200: { description: "the run", schema: WorkflowRunView } },
    errors: [401, 404],
    async handler(c, { params }) {
      const runs = c.var.services.workflowRuns;
      const run = await runs.owned(c.var.account, params.id);
      return reply(c, WorkflowRunView, await runs.view(await run.cancel()));
    },
  });

  api.route({
    method: "get",
    path: "/v2/workflow-runs/{id}/events",
    tag: "Workflows",
    auth: "api_key",
    summary:
      "Server-Sent Events: run.created, node.queued/started/completed/failed/cancelled, run.completed/failed/cancelled; resumable with Last-Event-ID",
    query: RunEventsQuery,
    responses: { 200: { description: "event stream", content: "text/event-stream" } },
    errors: [401, 404],
    async handler(c, { params, query }) {
      let after = Number(c.req.header("last-event-id") ?? query.after ?? 0);
      if (!Number.isSafeInteger(after) || after < 0) after = 0;
      const stream = await c.var.services.workflowRuns.eventStream(c.var.account, params.id, after);
      return new Response(stream, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": c.var.requestId },
      });
    },
  });

  api.route({
    method: "get",
    path: "/v2/workflow-runs/{id}/outputs/{name}",
    tag: "Workflows",
    auth: "none",
    summary: "Download a mapped output of a completed run through its signed, expiring URL",
    query: RunOutputQuery,
    responses: { 200: { description: "the file", content: "application/octet-stream" } },
    errors: [403, 404],
    async handler(c, { params, query }) {
      const { id, name } = params;
      const out = await c.var.services.workflowRuns.signedOutput(id, name, Number(query.expires), query.sig ?? "");
      const headers = { ...servingHeaders(out.content_type, name), "cache-control": "private, max-age=3600" };
      return new Response(out.body, { headers });
    },
  });
}
