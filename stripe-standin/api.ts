import { confirm, dispute, newIntent, paymentMethod, refund } from "./charges.ts";
import { endSubscription, invoice } from "./checkout.ts";
import { bool, list, metadata, obj, str, type Form } from "./form.ts";
import { invalid, StripeError, type Obj, type Store } from "./store.ts";

type Handler = (store: Store, p: Form, id: string) => Obj;

const int = (v: unknown, param: string): number => {
  if (typeof v !== "string" || !/^\d+$/.test(v)) throw invalid(`Invalid integer: ${String(v)}`, param);
  return Number(v);
};

function customer(store: Store, p: Form): Obj {
  return store.put({
    id: store.id("cus"),
    object: "customer",
    email: str(p.email) ?? null,
    name: str(p.name) ?? null,
    metadata: metadata(p.metadata),
    created: store.now(),
    livemode: false,
    invoice_settings: { default_payment_method: null },
  });
}

function session(store: Store, p: Form): Obj {
  const mode = str(p.mode);
  if (mode !== "payment" && mode !== "subscription")
    throw invalid("Invalid mode: must be one of payment, setup, or subscription", "mode");
  const items = list(p.line_items).map((x) => obj(x));
  if (items.length !== 1) throw invalid("The stand-in supports exactly one line item.", "line_items");
  const pd = obj(items[0]!.price_data);
  const unit = int(pd.unit_amount, "line_items[0][price_data][unit_amount]");
  const currency = str(pd.currency) ?? "usd";
  const recurring = obj(pd.recurring);
  if (mode === "subscription" && str(recurring.interval) !== "month")
    throw invalid("Subscription prices need recurring[interval]", "line_items[0][price_data][recurring][interval]");
  const price = store.put({
    id: store.id("price"),
    object: "price",
    currency,
    unit_amount: unit,
    product: store.id("prod"),
    type: mode === "subscription" ? "recurring" : "one_time",
    recurring: mode === "subscription" ? { interval: "month", interval_count: 1 } : null,
    product_data: obj(pd.product_data),
  });
  const quantity = int(items[0]!.quantity ?? "1", "line_items[0][quantity]");
  const cust = str(p.customer) ?? null;
  if (cust) store.get(cust, "customer");
  const successUrl = str(p.success_url);
  if (!successUrl) throw invalid("Missing required param: success_url.", "success_url");
  const pid = obj(p.payment_intent_data);
  const cs: Obj = store.put({
    id: store.id("cs_test"),
    object: "checkout.session",
    mode,
    status: "open",
    payment_status: "unpaid",
    customer: cust,
    currency,
    amount_total: unit * quantity,
    amount_subtotal: unit * quantity,
    metadata: metadata(p.metadata),
    client_reference_id: str(p.client_reference_id) ?? null,
    success_url: successUrl,
    cancel_url: str(p.cancel_url) ?? null,
    payment_intent: null,
    subscription: null,
    livemode: false,
    line_items: [{ price, quantity }],
    created: store.now(),
    expires_at: store.now() + 86_400,
    ...(mode === "payment"
      ? {
          payment_intent_data: {
            metadata: metadata(pid.metadata),
            setup_future_usage: str(pid.setup_future_usage) ?? null,
          },
        }
      : {}),
    ...(mode === "subscription"
      ? { subscription_data: { metadata: metadata(obj(p.subscription_data).metadata) } }
      : {}),
  });
  cs.url = `${store.opts.baseUrl}/checkout/${cs.id}`;
  return cs;
}

function paymentIntent(store: Store, p: Form): Obj {
  const amount = int(p.amount, "amount");
  if (amount < 50) throw invalid("Amount must be at least $0.50 usd", "amount");
  const cust = str(p.customer) ?? null;
  if (cust) store.get(cust, "customer");
  const pm = str(p.payment_method) ?? null;
  if (pm) {
    const m = store.get(pm, "payment_method");
    if (bool(p.off_session) && m.customer !== cust)
      throw invalid(
        "The provided PaymentMethod was previously used without being attached to a Customer.",
        "payment_method",
      );
  }
  const pi = newIntent(store, {
    amount,
    currency: str(p.currency) ?? "usd",
    customer: cust,
    payment_method: pm,
    metadata: metadata(p.metadata),
    setup_future_usage: str(p.setup_future_usage) ?? null,
    description: str(p.description) ?? null,
  });
  return bool(p.confirm) ? confirm(store, pi, bool(p.off_session)) : pi;
}

function refundCreate(store: Store, p: Form): Obj {
  const chId =
    str(p.charge) ??
    (str(p.payment_intent)
      ? (store.get(str(p.payment_intent)!, "payment_intent").latest_charge as string | null)
      : null);
  if (!chId) throw invalid("One of charge or payment_intent is required.", "charge");
  const ch = store.get(chId, "charge");
  return refund(
    store,
    ch,
    p.amount === undefined ? (ch.amount as number) - (ch.amount_refunded as number) : int(p.amount, "amount"),
  );
}

function subscriptionUpdate(store: Store, p: Form, id: string): Obj {
  const sub = store.get(id, "subscription");
  if (p.cancel_at_period_end !== undefined) {
    const previous = { cancel_at_period_end: sub.cancel_at_period_end };
    sub.cancel_at_period_end = bool(p.cancel_at_period_end);
    sub.canceled_at = sub.cancel_at_period_end ? store.now() : null;
    store.emit("customer.subscription.updated", sub, previous);
  }
  return sub;
}

/** Stand-in controls (not Stripe's API): what happens at Stripe on its own, made to happen now. */
const controls: Record<string, Handler> = {
  // the next billing period: the subscription's card is charged
  "POST /_standin/subscriptions/:id/renew": (s, _p, id) => {
    const sub = s.get(id, "subscription");
    const item = ((sub.items as Obj).data as Obj[])[0]!;
    return invoice(s, sub, item.current_period_end as number, (item.current_period_end as number) + 30 * 86_400);
  },
  // the period ended: a subscription set to cancel at period end (or past due) ends
  "POST /_standin/subscriptions/:id/end": (s, _p, id) => endSubscription(s, s.get(id, "subscription")),
  "POST /_standin/charges/:id/dispute": (s, _p, id) => dispute(s, s.get(id, "charge")),
  // the saved card starts behaving like another test card (e.g. 4000000000000341: declines from now on)
  "POST /_standin/payment_methods/:id/card": (s, p, id) => {
    const pm = s.get(id, "payment_method");
    s.cards.set(pm.id, (str(p.number) ?? "").replace(/\s+/g, ""));
    return pm;
  },
  "GET /_standin/events": (s) => ({ id: "list", object: "list", data: s.events, has_more: false }),
};

export const routes: Record<string, Handler> = {
  "POST /v1/customers": customer,
  "GET /v1/customers/:id": (s, _p, id) => s.get(id, "customer"),
  "POST /v1/checkout/sessions": session,
  "GET /v1/checkout/sessions/:id": (s, _p, id) => s.get(id, "checkout.session", "checkout session"),
  "POST /v1/payment_intents": paymentIntent,
  "GET /v1/payment_intents/:id": (s, _p, id) => s.get(id, "payment_intent"),
  "GET /v1/payment_methods/:id": (s, _p, id) => s.get(id, "payment_method"),
  "GET /v1/charges/:id": (s, _p, id) => s.get(id, "charge"),
  "POST /v1/refunds": refundCreate,
  "GET /v1/subscriptions/:id": (s, _p, id) => s.get(id, "subscription"),
  "POST /v1/subscriptions/:id": subscriptionUpdate,
  "DELETE /v1/subscriptions/:id": (s, _p, id) => endSubscription(s, s.get(id, "subscription")),
  "GET /v1/invoices/:id": (s, _p, id) => s.get(id, "invoice"),
  "GET /v1/events/:id": (s, _p, id) => s.get(id, "event"),
  ...controls,
};

export function route(method: string, path: string): { handler: Handler; id: string } | null {
  for (const [key, handler] of Object.entries(routes)) {
    const [m, pattern] = key.split(" ") as [string, string];
    if (m !== method) continue;
    const re = new RegExp(`^${pattern.replace(":id", "([A-Za-z0-9_]+)")}$`);
    const hit = path.match(re);
    if (hit) return { handler, id: hit[1] ?? "" };
  }
  return null;
}

export { paymentMethod, StripeError };
