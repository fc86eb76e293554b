import { EventsQuery } from "../../../schemas/index.ts";
import type { Api } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerRequestEvents(api: Api) {
  api.route({
    method: "get",
    path: "/v2/requests/{id}/events",
    tag: "Requests",
    auth: "api_key",
    summary:
      "Progress as Server-Sent Events: queued, queue (position), started, progress (step of total), requeued, " +
      "then completed/failed/cancelled with the result. " +
      "Resume with Last-Event-ID (header, or last_event_id in the query).",
    query: EventsQuery,
    responses: { 200: { description: "an event stream", content: "text/event-stream" } },
    errors: [400, 401, 404],
    async handler(c, { params, query }) {
      // The header wins over the query (an EventSource sends it on reconnect), so each is checked only when used.
      const raw = c.req.header("last-event-id") ?? query.last_event_id ?? "0";
      if (!/^\d{1,9}$/.test(raw))
        throw new ApiError("invalid_input", "Last-Event-ID must be an event id from this stream", {
          fields: [{ path: "last_event_id", message: "not an event id" }],
        });
      const { requestEvents, cfg } = c.var.services;
      const base = baseUrl(cfg.PUBLIC_BASE_URL, c.req.url);
      const stream = await requestEvents.open(c.var.account, params.id, Number(raw), base);
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          "x-request-id": c.var.requestId,
        },
      });
    },
  });
}
