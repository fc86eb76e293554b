import {
  AutoRechargeRequest,
  BillingView,
  CheckoutRequest,
  CheckoutSession,
  SubscriptionRequest,
} from "../../../schemas/index.ts";
import { jsonBody, reply, type Api, type Ctx } from "../../app.ts";
import { requireApiKey } from "../../services/auth.ts";
import { payments } from "../../services/payments/index.ts";
import { baseUrl } from "../../services/urls.ts";
import { billingView } from "./view.ts";

const base = (c: Ctx) => baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url);
const key = (c: Ctx) => c.req.header("idempotency-key")?.slice(0, 200) || undefined;

export function registerBillingPay(api: Api) {
  api.op(
    {
      method: "post",
      path: "/v1/billing/checkout",
      tag: "Billing",
      auth: "api_key",
      summary:
        "Top up credit: a Stripe Checkout Session for `amount` USD cents ($10–$1,000); the card is saved for auto-recharge. Credit is posted when Stripe's webhook confirms the payment",
      body: CheckoutRequest,
      responses: { 200: { description: "open the url to pay", schema: CheckoutSession } },
      errors: [400, 401],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, CheckoutRequest);
      return reply(c, CheckoutSession, await payments(c.env).checkout(c.get("account"), body.amount, base(c), key(c)));
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/billing/subscription",
      tag: "Billing",
      auth: "api_key",
      summary:
        "Subscribe to Pro ($39/month) or Business ($99/month) through Stripe Checkout; each paid invoice credits the month and sets the plan",
      body: SubscriptionRequest,
      responses: { 200: { description: "open the url to subscribe", schema: CheckoutSession } },
      errors: [400, 401, 409],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, SubscriptionRequest);
      return reply(c, CheckoutSession, await payments(c.env).subscribe(c.get("account"), body.plan, base(c), key(c)));
    },
  );

  api.op(
    {
      method: "delete",
      path: "/v1/billing/subscription",
      tag: "Billing",
      auth: "api_key",
      summary: "Cancel the subscription at the end of its period; the plan stays until then and credit is kept",
      responses: { 200: { description: "billing", schema: BillingView } },
      errors: [401, 404],
    },
    requireApiKey,
    async (c: Ctx) => {
      await payments(c.env).cancel(c.get("account"));
      return billingView(c);
    },
  );

  api.op(
    {
      method: "put",
      path: "/v1/billing/auto-recharge",
      tag: "Billing",
      auth: "api_key",
      summary:
        "Auto-recharge: when available credit falls below `threshold` cents, charge the saved card `amount` cents (one charge at a time; off after 3 failures in a row)",
      body: AutoRechargeRequest,
      responses: { 200: { description: "billing", schema: BillingView } },
      errors: [400, 401, 409],
    },
    requireApiKey,
    async (c: Ctx) => {
      const body = await jsonBody(c, AutoRechargeRequest);
      await payments(c.env).configureAutoRecharge(c.get("account"), body);
      return billingView(c);
    },
  );
}
