import { z } from "zod";

/** The webhook delivery log and signing secrets (`/v1/webhooks/*`). */

export const DeliveryStatus = z.enum(["pending", "retrying", "succeeded", "failed"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const DeliveryAttempt = z.object({
  attempt: z.number().int().positive(),
  /** true for an attempt made because of `POST /v1/webhooks/deliveries/{id}/redeliver` */
  redelivery: z.boolean(),
  at: z.iso.datetime(),
  /** the receiver's HTTP status; null when no answer came (timeout, connection refused, refused by policy) */
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int().nonnegative(),
  error: z.string().nullable(),
  /** when the queue retries this delivery; null when it succeeded or no retry is left */
  next_retry_at: z.iso.datetime().nullable(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const WebhookDeliveryView = z.object({
  id: z.string(),
  request_id: z.string(),
  /** the `webhook-id` header: the same on every attempt and redelivery, so receivers can deduplicate */
  webhook_id: z.string(),
  url: z.url(),
  event: z.literal("request.finished"),
  status: DeliveryStatus,
  attempts: z.number().int().nonnegative(),
  last_status_code: z.number().int().nullable(),
  next_retry_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  /** every attempt, oldest first */
  attempt_log: z.array(DeliveryAttempt),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryView>;

export const DeliveryPage = z.object({ data: z.array(WebhookDeliveryView), next_cursor: z.string().nullable() });
export type DeliveryPage = z.infer<typeof DeliveryPage>;

export const DeliveryQuery = z.strictObject({
  request_id: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ examples: ["req_5f0c1d2e3a4b"] }),
  status: DeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "next_cursor of the previous page", examples: ["1733059200000:dlv_9a8b7c"] }),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuery>;

export const Redelivered = z.object({ id: z.string(), webhook_id: z.string(), status: DeliveryStatus });

/** Seconds during which deliveries carry signatures from both the new and the previous secret. */
export const RotateSecret = z.strictObject({
  overlap_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
});
export type RotateSecret = z.input<typeof RotateSecret>;

export const WebhookSecretView = z.object({
  /** `whsec_…`: verify `webhook-signature` with it (Standard Webhooks) */
  secret: z.string(),
  /** until when deliveries also carry a signature from the previous secret; null outside an overlap */
  previous_secret_expires_at: z.iso.datetime().nullable(),
});
export type WebhookSecretView = z.infer<typeof WebhookSecretView>;
