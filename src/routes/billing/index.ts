import type { Api } from "../../app.ts";
import { registerBillingView } from "./view.ts";
import { registerBillingPay } from "./pay.ts";

/** Payments: the billing view, the Stripe webhook, checkout, auto-recharge and subscriptions. One file per operation. */
export function registerBillingRoutes(api: Api) {
  registerBillingView(api);
  registerBillingPay(api);
}
