import { z } from "zod";

/**
 * The Server-Sent Events of `GET /v2/requests/{id}/events`. Each event's `data` is JSON; events from the request's
 * history carry an `id` (resume with Last-Event-ID); `queue` (the current position) has none, as it is state, sent
 * again on every connection. The terminal event (`completed`, `failed`, `cancelled`) carries the full result and ends
 * the stream.
 */
export const RequestEventType = z.enum([
  "queued",
  "queue",
  "started",
  "progress",
  "requeued",
  "completed",
  "failed",
  "cancelled",
]);
export type RequestEventType = z.infer<typeof RequestEventType>;

/** The events named after a terminal status (`isTerminal` in schemas/status.ts): each carries the result and ends. */
export function isTerminalEvent(type: string): type is "completed" | "failed" | "cancelled" {
  return type === "completed" || type === "failed" || type === "cancelled";
}

export const QueueEventData = z.object({
  request_id: z.string(),
  queue_position: z.number().int().nonnegative().nullable(),
  capacity: z.enum(["available", "no_capacity"]).nullable(),
});

export const ProgressEventData = z.object({
  request_id: z.string(),
  step: z.number().int().nonnegative(),
  total: z.number().int().positive(),
  /** step / total, 0-100 */
  percent: z.number().min(0).max(100),
  message: z.string().optional(),
  at: z.iso.datetime(),
});

export const LifecycleEventData = z.object({
  request_id: z.string(),
  attempt: z.number().int().nonnegative().optional(),
  at: z.iso.datetime(),
});

/**
 * `GET /v2/requests/{id}/events`: where to resume when the client cannot send a Last-Event-ID header. Checked by the
 * route only when used (the header wins), so a stale query next to a good header is not an error.
 */
export const EventsQuery = z.object({
  last_event_id: z
    .string()
    .optional()
    .meta({ description: "the id of the last event received; the header Last-Event-ID wins", examples: ["2"] }),
});
