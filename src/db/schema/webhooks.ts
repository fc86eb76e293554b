import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** The webhook delivery log: one row per webhook message (webhook-id), with a summary of its latest attempt. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    requestId: text("request_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    url: text("url").notNull(),
    /** pending | retrying | succeeded | failed (retries exhausted) */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    nextRetryAt: integer("next_retry_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_webhook_id").on(t.webhookId),
    index("webhook_deliveries_account_created").on(t.accountId, t.createdAt, t.id),
    index("webhook_deliveries_account_request").on(t.accountId, t.requestId),
  ],
);

/** Each attempt at a delivery: what the receiver answered (or the error), how long it took, when the next one is. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: integer("attempt").notNull(),
    redelivery: integer("redelivery", { mode: "boolean" }).notNull().default(false),
    startedAt: integer("started_at").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    nextRetryAt: integer("next_retry_at"),
  },
  (t) => [uniqueIndex("webhook_attempts_delivery_attempt").on(t.deliveryId, t.attempt)],
);

/** The signing secret an account rotated away from; deliveries are signed with it too until `expiresAt`. */
export const webhookPreviousSecrets = sqliteTable("webhook_previous_secrets", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id),
  secret: text("secret").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
