import type { Api, Ctx } from "../../app.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";
import { RequestEvents } from "../../services/request-events.ts";
import { baseUrl } from "../../services/urls.ts";

export function registerRequestEvents(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v2/requests/{id}/events",
      tag: "Requests",
      auth: "api_key",
      summary:
        "Progress as Server-Sent Events: queued, queue (position), started, progress (step of total), requeued, " +
        "then completed/failed/cancelled with the result. " +
        "Resume with Last-Event-ID (header, or last_event_id in the query).",
      responses: { 200: { description: "an event stream", content: "text/event-stream" } },
      errors: [400, 401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      const raw = c.req.header("last-event-id") ?? c.req.query("last_event_id") ?? "0";
      if (!/^\d{1,9}$/.test(raw))
        throw new ApiError("invalid_input", "Last-Event-ID must be an event id from this stream", {
          fields: [{ path: "last_event_id", message: "not an event id" }],
        });
      const stream = await new RequestEvents(c.env, c.get("cfg")).open(
        c.get("account"),
        c.req.param("id") ?? "",
        Number(raw),
        baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url),
      );
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          "x-request-id": c.get("requestId"),
        },
      });
    },
  );
}
