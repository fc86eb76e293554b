import {
  AutoRechargeRequest,
  BillingView,
  CheckoutRequest,
  CheckoutSession,
  SubscriptionRequest,
} from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";
import { billingView } from "./view.ts";

const base = (c: Ctx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const key = (c: Ctx) => c.req.header("idempotency-key")?.slice(0, 200) || undefined;

export function registerBillingPay(api: Api) {
  api.route({
    method: "post",
    path: "/v1/billing/checkout",
    tag: "Billing",
    auth: "api_key",
    summary:
      "Top up credit: a Stripe Checkout Session for `amount` USD cents ($10–$1,000); the card is saved for auto-recharge. Credit is posted when Stripe's webhook confirms the payment",
    body: CheckoutRequest,
    responses: { 200: { description: "open the url to pay", schema: CheckoutSession } },
    errors: [400, 401],
    handler: async (c, { body }) =>
      reply(c, CheckoutSession, await c.var.services.payments.checkout(c.var.account, body.amount, base(c), key(c))),
  });

  api.route({
    method: "post",
    path: "/v1/billing/subscription",
    tag: "Billing",
    auth: "api_key",
    summary:
      "Subscribe to Pro ($39/month) or Business ($99/month) through Stripe Checkout; each paid invoice credits the month and sets the plan",
    body: SubscriptionRequest,
    responses: { 200: { description: "open the url to subscribe", schema: CheckoutSession } },
    errors: [400, 401, 409],
    handler: async (c, { body }) =>
      reply(c, CheckoutSession, await c.var.services.payments.subscribe(c.var.account, body.plan, base(c), key(c))),
  });

  api.route({
    method: "delete",
    path: "/v1/billing/subscription",
    tag: "Billing",
    auth: "api_key",
    summary: "Cancel the subscription at the end of its period; the plan stays until then and credit is kept",
    responses: { 200: { description: "billing", schema: BillingView } },
    errors: [401, 404],
    async handler(c) {
      await c.var.services.payments.cancel(c.var.account);
      return billingView(c);
    },
  });

  api.route({
    method: "put",
    path: "/v1/billing/auto-recharge",
    tag: "Billing",
    auth: "api_key",
    summary:
      "Auto-recharge: when available credit falls below `threshold` cents, charge the saved card `amount` cents (one charge at a time; off after 3 failures in a row)",
    body: AutoRechargeRequest,
    responses: { 200: { description: "billing", schema: BillingView } },
    errors: [400, 401, 409],
    async handler(c, { body }) {
      await c.var.services.payments.configureAutoRecharge(c.var.account, body);
      return billingView(c);
    },
  });
}
