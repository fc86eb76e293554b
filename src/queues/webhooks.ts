import { eq } from "drizzle-orm";
import { WebhookDelivery } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import { config, type Env } from "../env.ts";
import { broker } from "../services/broker.ts";
import { checkUrl, outboundFetch, outboundPolicy, type Fetcher } from "../services/outbound.ts";
import { RequestService } from "../services/requests.ts";
import { WEBHOOK_MAX_ATTEMPTS, WebhookDeliveries, retryDelaySeconds } from "../services/webhook-deliveries.ts";
import { WebhookSecrets, signatureHeader } from "../services/webhooks.ts";

/**
 * Signed webhook deliveries (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) under the outbound
 * policy. Redirects are not followed; a non-2xx answer (a 3xx included) retries with exponential backoff until
 * max_retries, then the message goes to the DLQ. Every attempt is recorded in the delivery log (D1), which the
 * account reads at GET /v1/webhooks/deliveries.
 */
export async function handleWebhooks(batch: MessageBatch<unknown>, env: Env, fetcher?: Fetcher): Promise<void> {
  const log = new WebhookDeliveries(env);
  for (const msg of batch.messages) {
    const parsed = WebhookDelivery.safeParse(msg.body);
    if (!parsed.success) {
      msg.ack();
      continue;
    }
    const d = parsed.data;
    try {
      const req = await db(env).select().from(requests).where(eq(requests.id, d.request_id)).get();
      const secrets = await new WebhookSecrets(env).signing(d.account_id);
      const job = req ? await broker(env, req.pool).get(d.request_id) : null;
      if (!req || !secrets.length || !job) {
        msg.ack();
        continue;
      }
      const svc = new RequestService(env, config(env));
      const body = JSON.stringify(await svc.resultView(job, req.baseUrl));
      const ts = Math.floor(Date.now() / 1000);
      // Checked again at delivery (the policy may have tightened since submission); a refused URL is dropped.
      const policy = outboundPolicy(config(env));
      const verdict = checkUrl(d.url, policy);
      if (!verdict.ok) {
        const warn = {
          level: "warn",
          message: "webhook refused by outbound policy",
          request_id: d.request_id,
          reason: verdict.reason,
        };
        console.error(JSON.stringify(warn));
        msg.ack();
        continue;
      }
      const deliveryId = await log.begin(d);
      const startedAt = Date.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const headers = {
          "content-type": "application/json",
          "webhook-id": d.webhook_id,
          "webhook-timestamp": String(ts),
          "webhook-signature": await signatureHeader(secrets, d.webhook_id, ts, body),
        };
        const opts = { policy, field: "webhook", maxRedirects: 0, timeoutMs: 15_000, fetcher };
        const res = await outboundFetch(d.url, { method: "POST", headers, body }, opts);
        statusCode = res.status;
        if (res.status < 200 || res.status >= 300)
          error = `receiver answered ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`;
        await res.body?.cancel();
      } catch (e) {
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      const delivered = error === null;
      const delay = retryDelaySeconds(msg.attempts);
      const last = msg.attempts >= WEBHOOK_MAX_ATTEMPTS;
      const latencyMs = Date.now() - startedAt;
      const nextRetryAt = delivered || last ? null : startedAt + latencyMs + delay * 1000;
      // The log is a record, not a gate: failing to write it never changes whether the receiver gets its delivery.
      await log
        .record(deliveryId, { startedAt, latencyMs, statusCode, error, nextRetryAt, redelivery: d.redelivery ?? false })
        .catch((e) =>
          console.error(
            JSON.stringify({
              level: "warn",
              message: "webhook attempt not recorded",
              delivery: deliveryId,
              error: String(e),
            }),
          ),
        );
      if (delivered) msg.ack();
      else msg.retry({ delaySeconds: delay });
    } catch {
      msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
    }
  }
}
