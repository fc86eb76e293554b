import { z } from "zod";
import { RequestStatus } from "./status.ts";

/** A request reached a terminal state; consumed by the usage projection (D1) and webhook fan-out. */
export const RequestFinishedEvent = z.object({
  type: z.literal("request.finished"),
  event_id: z.string(),
  request_id: z.string(),
  account_id: z.string(),
  model: z.string(),
  status: RequestStatus,
  error_kind: z.string().nullable(),
  gpu_ms: z.number().int().nullable(),
  load_ms: z.number().int().nullable(),
  gpu_class: z.string().nullable(),
  started_at: z.number().int().nullable(),
  completed_at: z.number().int(),
  /** the agent that held the last lease (its provider earns from the charge); absent in events written before it */
  agent_id: z.string().nullable().optional(),
});
export type RequestFinishedEvent = z.infer<typeof RequestFinishedEvent>;

/**
 * A request accepted without a D1 write on its path: the broker's outbox carries the row's fields, written in the
 * same transaction as the job, and the events queue projects them into D1.
 */
export const RequestAcceptedEvent = z.object({
  type: z.literal("request.accepted"),
  event_id: z.string(),
  request_id: z.string(),
  account_id: z.string(),
  model: z.string(),
  pool: z.string(),
  mode: z.enum(["sync", "async"]),
  webhook_url: z.string().nullable(),
  base_url: z.string(),
  created_at: z.number().int(),
});
export type RequestAcceptedEvent = z.infer<typeof RequestAcceptedEvent>;

export const EventMessage = z.discriminatedUnion("type", [RequestFinishedEvent, RequestAcceptedEvent]);
export type EventMessage = z.infer<typeof EventMessage>;

export const WebhookDelivery = z.object({
  webhook_id: z.string(),
  request_id: z.string(),
  account_id: z.string(),
  url: z.url(),
  /** set when the account asked for it again (`POST /v1/webhooks/deliveries/{id}/redeliver`) */
  redelivery: z.boolean().optional(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
