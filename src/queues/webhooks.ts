import { eq } from "drizzle-orm";
import { WebhookDelivery } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { accounts, requests } from "../db/schema.ts";
import { config, type Env } from "../env.ts";
import { broker } from "../services/broker.ts";
import { signWebhook } from "../services/crypto.ts";
import { checkUrl, outboundFetch, outboundPolicy, type Fetcher } from "../services/outbound.ts";
import { RequestService } from "../services/requests.ts";

/**
 * Signed webhook deliveries (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) under the outbound
 * policy. Redirects are not followed; a non-2xx answer (a 3xx included) retries with exponential backoff until
 * max_retries, then the message goes to the DLQ.
 */
export async function handleWebhooks(batch: MessageBatch<unknown>, env: Env, fetcher?: Fetcher): Promise<void> {
  for (const msg of batch.messages) {
    const parsed = WebhookDelivery.safeParse(msg.body);
    if (!parsed.success) {
      msg.ack();
      continue;
    }
    const d = parsed.data;
    try {
      const req = await db(env).select().from(requests).where(eq(requests.id, d.request_id)).get();
      const acct = await db(env).select({ secret: accounts.webhookSecret }).from(accounts).where(eq(accounts.id, d.account_id)).get();
      const job = req ? await broker(env, req.pool).get(d.request_id) : null;
      if (!req || !acct || !job) {
        msg.ack();
        continue;
      }
      const svc = new RequestService(env, config(env));
      const body = JSON.stringify(await svc.resultView(job, req.baseUrl));
      const ts = Math.floor(Date.now() / 1000);
      const headers = {
        "content-type": "application/json", "webhook-id": d.webhook_id, "webhook-timestamp": String(ts),
        "webhook-signature": await signWebhook(acct.secret, d.webhook_id, ts, body),
      };
      // Checked again at delivery (the policy may have tightened since submission); a refused URL is dropped.
      const policy = outboundPolicy(config(env));
      const verdict = checkUrl(d.url, policy);
      if (!verdict.ok) {
        const log = { level: "warn", message: "webhook refused by outbound policy", request_id: d.request_id, reason: verdict.reason };
        console.error(JSON.stringify(log));
        msg.ack();
        continue;
      }
      const opts = { policy, field: "webhook", maxRedirects: 0, timeoutMs: 15_000, fetcher };
      const res = await outboundFetch(d.url, { method: "POST", headers, body }, opts);
      if (res.status >= 200 && res.status < 300) msg.ack();
      else msg.retry({ delaySeconds: Math.min(3600, 5 * 2 ** msg.attempts) });
    } catch {
      msg.retry({ delaySeconds: Math.min(3600, 5 * 2 ** msg.attempts) });
    }
  }
}
