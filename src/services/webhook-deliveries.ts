import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import type {
  DeliveryPage,
  DeliveryQuery,
  DeliveryStatus,
  WebhookDelivery,
  WebhookDeliveryView,
} from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { webhookAttempts, webhookDeliveries } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { newId } from "./crypto.ts";

/** Deliveries per message: the first and wrangler.toml's `max_retries = 8` for the webhooks queue. */
export const WEBHOOK_MAX_ATTEMPTS = 9;

/** The queue's backoff for a failed delivery, in seconds. */
export const retryDelaySeconds = (attempt: number) => Math.min(3600, 5 * 2 ** attempt);

export interface AttemptOutcome {
  startedAt: number;
  latencyMs: number;
  /** the receiver's status; null when none came back */
  statusCode: number | null;
  error: string | null;
  /** when the queue delivers again; null after a success or the last attempt */
  nextRetryAt: number | null;
  redelivery: boolean;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function cursorOf(createdAt: number, id: string): string {
  return btoa(`${createdAt}|${id}`).replaceAll("+", "-").replaceAll("/", "_");
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [t, id] = atob(cursor.replaceAll("-", "+").replaceAll("_", "/")).split("|");
    if (!t || !id || !/^\d+$/.test(t)) throw new Error("malformed");
    return { createdAt: Number(t), id };
  } catch {
    throw new ApiError("invalid_input", "invalid cursor", {
      fields: [{ path: "cursor", message: "not a cursor from this API" }],
    });
  }
}

/** The webhook delivery log (D1): written by the webhooks queue consumer, read and replayed by the account. */
export class WebhookDeliveries {
  constructor(private env: Pick<Env, "DB" | "WEBHOOKS">) {}

  /** The delivery row for a queue message, made on its first attempt (webhook-id is unique, so retries find it). */
  async begin(d: WebhookDelivery, now = Date.now()): Promise<string> {
    const id = newId("whd");
    const row = await db(this.env)
      .insert(webhookDeliveries)
      .values({
        id,
        accountId: d.account_id,
        requestId: d.request_id,
        webhookId: d.webhook_id,
        url: d.url,
        status: "pending",
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({ target: webhookDeliveries.webhookId, set: { updatedAt: now } })
      .returning({ id: webhookDeliveries.id })
      .get();
    return row.id;
  }

  /** Appends an attempt and updates the delivery's summary, in one D1 batch (a transaction). */
  async record(deliveryId: string, o: AttemptOutcome): Promise<void> {
    const ok = o.statusCode !== null && o.statusCode >= 200 && o.statusCode < 300;
    const status: DeliveryStatus = ok ? "succeeded" : o.nextRetryAt === null ? "failed" : "retrying";
    // One batch is one transaction: the attempt's number comes from the row it increments.
    await this.env.DB.batch([
      this.env.DB.prepare(
        `INSERT INTO webhook_attempts
           (id, delivery_id, attempt, redelivery, started_at, latency_ms, status_code, error, next_retry_at)
         SELECT ?, id, attempts + 1, ?, ?, ?, ?, ?, ? FROM webhook_deliveries WHERE id = ?`,
      ).bind(
        newId("wha"),
        o.redelivery ? 1 : 0,
        o.startedAt,
        o.latencyMs,
        o.statusCode,
        o.error,
        o.nextRetryAt,
        deliveryId,
      ),
      this.env.DB.prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status_code = ?, next_retry_at = ?,
           updated_at = ? WHERE id = ?`,
      ).bind(status, o.statusCode, o.nextRetryAt, o.startedAt + o.latencyMs, deliveryId),
    ]);
  }

  /** Newest first, filtered by request and status, cursor-paged; each delivery with its attempts. */
  async list(accountId: string, q: DeliveryQuery): Promise<DeliveryPage> {
    const after = q.cursor ? decodeCursor(q.cursor) : null;
    const rows = await db(this.env)
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.accountId, accountId),
          q.request_id ? eq(webhookDeliveries.requestId, q.request_id) : undefined,
          q.status ? eq(webhookDeliveries.status, q.status) : undefined,
          after
            ? or(
                lt(webhookDeliveries.createdAt, after.createdAt),
                and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(q.limit + 1)
      .all();
    const page = rows.slice(0, q.limit);
    const attempts = page.length
      ? await db(this.env)
          .select()
          .from(webhookAttempts)
          .where(
            inArray(
              webhookAttempts.deliveryId,
              page.map((r) => r.id),
            ),
          )
          .orderBy(webhookAttempts.attempt)
          .all()
      : [];
    const last = page[page.length - 1];
    return {
      data: page.map((r) =>
        this.view(
          r,
          attempts.filter((a) => a.deliveryId === r.id),
        ),
      ),
      next_cursor: rows.length > q.limit && last ? cursorOf(last.createdAt, last.id) : null,
    };
  }

  /**
   * Sends a finished delivery again, under the same webhook-id (receivers deduplicate on it). One whose retries are
   * still scheduled is refused: the queue will try it at `next_retry_at`, and two copies in flight help nobody.
   */
  async redeliver(
    accountId: string,
    id: string,
    now = Date.now(),
  ): Promise<{ id: string; webhook_id: string; status: DeliveryStatus }> {
    const d = db(this.env);
    const row = await d
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.accountId, accountId)))
      .get();
    if (!row) throw notFound("webhook delivery");
    const moved = await d
      .update(webhookDeliveries)
      .set({ status: "pending", nextRetryAt: now, updatedAt: now })
      .where(and(eq(webhookDeliveries.id, id), inArray(webhookDeliveries.status, ["succeeded", "failed"])))
      .returning({ id: webhookDeliveries.id })
      .get();
    if (!moved)
      throw new ApiError("conflict", `delivery is ${row.status}; the queue retries it at next_retry_at`, {
        status: row.status,
      });
    try {
      await this.env.WEBHOOKS.send({
        webhook_id: row.webhookId,
        request_id: row.requestId,
        account_id: accountId,
        url: row.url,
        redelivery: true,
      });
    } catch (e) {
      await d
        .update(webhookDeliveries)
        .set({ status: row.status, nextRetryAt: row.nextRetryAt })
        .where(eq(webhookDeliveries.id, id));
      throw e;
    }
    return { id, webhook_id: row.webhookId, status: "pending" };
  }

  private view(
    r: typeof webhookDeliveries.$inferSelect,
    attempts: (typeof webhookAttempts.$inferSelect)[],
  ): WebhookDeliveryView {
    return {
      id: r.id,
      request_id: r.requestId,
      webhook_id: r.webhookId,
      url: r.url,
      event: "request.finished",
      status: r.status as DeliveryStatus,
      attempts: r.attempts,
      last_status_code: r.lastStatusCode,
      next_retry_at: iso(r.nextRetryAt),
      created_at: iso(r.createdAt)!,
      updated_at: iso(r.updatedAt)!,
      attempt_log: attempts.map((a) => ({
        attempt: a.attempt,
        redelivery: a.redelivery,
        at: iso(a.startedAt)!,
        status_code: a.statusCode,
        latency_ms: a.latencyMs,
        error: a.error,
        next_retry_at: iso(a.nextRetryAt),
      })),
    };
  }
}
