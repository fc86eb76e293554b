import { BillingReturnQuery, BillingView, WebhookAck } from "../../../schemas/index.ts";
import { LIMITS, reply, type Api, type Ctx } from "../../app.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The account's billing as GET /v1/billing shows it; the writes answer with it too. */
export async function billingView(c: Ctx): Promise<Response> {
  const v = await c.var.services.payments.view(c.var.account);
  const b = v.billing;
  const sub = b.subscription && !b.ended.includes(b.subscription.id) ? b.subscription : null;
  return reply(c, BillingView, {
    plan: v.plan,
    renews_at: iso(sub?.period_end ?? null),
    subscription: sub
      ? { id: sub.id, plan: sub.plan, status: sub.status, cancel_at_period_end: sub.cancel_at_period_end }
      : null,
    card: b.card ? { brand: b.card.brand, last4: b.card.last4 } : null,
    available: v.available,
    auto_recharge: {
      enabled: b.auto.enabled,
      threshold: Math.floor(b.auto.threshold / 10_000),
      amount: Math.floor(b.auto.amount / 10_000),
      in_flight: b.auto.in_flight !== null,
      consecutive_failures: b.auto.failures,
      last_error: b.auto.last_error,
      disabled_reason: b.auto.disabled_reason,
      paused_reason: b.auto.paused_reason,
    },
    flagged: b.flagged,
    owed: b.receivable,
    payments: v.payments.map((p) => ({
      object_id: p.object_id,
      kind: p.kind,
      amount: p.amount,
      status: p.status,
      receipt_url: p.receipt_url,
      ledger_op_id: p.op_id,
      created_at: new Date(p.created_at).toISOString(),
    })),
  });
}

export function registerBillingView(api: Api) {
  api.route({
    method: "get",
    path: "/v1/billing",
    tag: "Billing",
    auth: "api_key",
    summary:
      "Plan and renewal date, saved card, auto-recharge settings and state, payment history (auto-recharge amounts in cents, the rest micro-USD)",
    responses: { 200: { description: "billing", schema: BillingView } },
    errors: [401],
    handler: (c) => billingView(c),
  });

  api.route({
    method: "get",
    path: "/v1/billing/return",
    tag: "Billing",
    auth: "none",
    summary: "Where Checkout sends the browser back; credit arrives with Stripe's webhook, not with this page",
    query: BillingReturnQuery,
    responses: { 200: { description: "HTML", content: "text/html" } },
    handler: (c, { query }) =>
      c.html(
        query.cancelled
          ? "<!doctype html><title>Payment cancelled</title><p>Payment cancelled. Nothing was charged.</p>"
          : "<!doctype html><title>Payment received</title><p>Thank you. Your credit appears on your account as soon as Stripe confirms the payment (usually seconds).</p>",
      ),
  });

  api.route({
    method: "post",
    path: "/v1/billing/stripe-webhook",
    tag: "Billing",
    auth: "none",
    summary: "Stripe's webhook endpoint: Stripe-Signature verified (400 if not), each event applied once",
    responses: { 200: { description: "received", schema: WebhookAck } },
    errors: [400],
    maxBody: LIMITS.json * 4,
    async handler(c) {
      // The signature covers the raw bytes: read them as text, untouched.
      const r = await c.var.services.payments.webhook(await c.req.text(), c.req.header("stripe-signature"));
      return reply(c, WebhookAck, { received: true, event_id: r.event_id, applied: r.applied });
    },
  });
}
