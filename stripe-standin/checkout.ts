import { confirm, knownCard, newIntent, paymentMethod, succeed } from "./charges.ts";
import { StripeError, type Obj, type Store } from "./store.ts";

const MONTH_S = 30 * 86_400;

/** Completing a Checkout Session after its payment succeeded: the events Stripe sends, in Stripe's order. */
function complete(store: Store, cs: Obj, piId: string | null, subId: string | null): void {
  Object.assign(cs, { status: "complete", payment_status: "paid", payment_intent: piId, subscription: subId });
  store.emit("checkout.session.completed", cs);
}

/** A subscription with its first invoice paid (`customer.subscription.created`, `invoice.paid`). */
function subscribe(store: Store, cs: Obj, pm: Obj, firstPayment: Obj): Obj {
  const item = ((cs.line_items as Obj[])[0] ?? {}) as Obj;
  const now = store.now();
  const sub = store.put({
    id: store.id("sub"),
    object: "subscription",
    customer: cs.customer,
    status: "active",
    metadata: (cs.subscription_data as Obj | undefined)?.metadata ?? {},
    default_payment_method: pm.id,
    cancel_at_period_end: false,
    canceled_at: null,
    ended_at: null,
    created: now,
    livemode: false,
    items: {
      object: "list",
      data: [
        {
          id: store.id("si"),
          object: "subscription_item",
          price: item.price,
          quantity: 1,
          current_period_start: now,
          current_period_end: now + MONTH_S,
        },
      ],
    },
  });
  store.get(pm.id, "payment_method").customer = cs.customer;
  store.emit("customer.subscription.created", sub);
  invoice(store, sub, now, now + MONTH_S, firstPayment);
  return sub;
}

/**
 * Bills one period of a subscription with its default card (`invoice.paid`, or `invoice.payment_failed` and the
 * subscription `past_due`); the first period is paid by the checkout's own payment.
 */
export function invoice(store: Store, sub: Obj, start: number, end: number, paidBy?: Obj): Obj {
  const item = ((sub.items as Obj).data as Obj[])[0]!;
  const amount = (item.price as Obj).unit_amount as number;
  const pi =
    paidBy ??
    newIntent(store, {
      amount,
      currency: "usd",
      customer: sub.customer as string,
      payment_method: sub.default_payment_method as string,
      metadata: {},
      setup_future_usage: null,
      description: "Subscription update",
    });
  const inv = store.put({
    id: store.id("in"),
    object: "invoice",
    customer: sub.customer,
    status: "open",
    amount_due: amount,
    amount_paid: 0,
    currency: "usd",
    billing_reason: start === sub.created ? "subscription_create" : "subscription_cycle",
    period_start: start,
    period_end: end,
    created: store.now(),
    livemode: false,
    hosted_invoice_url: `${store.opts.baseUrl}/invoices/${sub.id}/${start}`,
    parent: { type: "subscription_details", subscription_details: { subscription: sub.id, metadata: sub.metadata } },
    lines: {
      object: "list",
      data: [
        {
          id: store.id("il"),
          object: "line_item",
          amount,
          period: { start, end },
          pricing: { price_details: { price: (item.price as Obj).id } },
        },
      ],
    },
  });
  try {
    if (!paidBy) confirm(store, pi, true);
    Object.assign(inv, { status: "paid", amount_paid: amount, status_transitions: { paid_at: store.now() } });
    Object.assign(item, { current_period_start: start, current_period_end: end });
    store.emit("invoice.paid", inv);
  } catch (e) {
    if (!(e instanceof StripeError)) throw e;
    const previous = { status: sub.status };
    sub.status = "past_due";
    store.emit("invoice.payment_failed", inv);
    store.emit("customer.subscription.updated", sub, previous);
  }
  return inv;
}

/** Ends a subscription (at its period's end, or now): `customer.subscription.deleted`. */
export function endSubscription(store: Store, sub: Obj): Obj {
  Object.assign(sub, { status: "canceled", ended_at: store.now(), canceled_at: sub.canceled_at ?? store.now() });
  store.emit("customer.subscription.deleted", sub);
  return sub;
}

export type PageResult = {
  status: "paid" | "declined" | "authenticate" | "open" | "complete" | "expired";
  message?: string;
};

/** The hosted page's card form was submitted: pay the session's amount (or start its subscription) with the card. */
export function payWithCard(store: Store, cs: Obj, cardNumber: string): PageResult {
  if (cs.status !== "open") return { status: cs.status === "complete" ? "complete" : "expired" };
  const number = cardNumber.replace(/\s+/g, "");
  if (!/^\d{16}$/.test(number)) return { status: "open", message: "Your card number is incomplete." };
  if (!knownCard(number)) return { status: "declined", message: "Your card was declined. Use a Stripe test card." };
  const pm = paymentMethod(store, number, null);
  if (cs.mode === "subscription") {
    const pi = newIntent(store, {
      amount: cs.amount_total as number,
      currency: "usd",
      customer: cs.customer as string,
      payment_method: pm.id,
      metadata: {},
      setup_future_usage: "off_session",
      description: "Subscription creation",
    });
    try {
      confirm(store, pi, false);
    } catch (e) {
      if (e instanceof StripeError) return { status: "declined", message: e.message };
      throw e;
    }
    if (pi.status === "requires_action") return ((cs.pending_intent = pi.id), { status: "authenticate" });
    complete(store, cs, null, subscribe(store, cs, pm, pi).id);
    return { status: "paid" };
  }
  const pid = (cs.payment_intent_data ?? {}) as { metadata?: Record<string, string>; setup_future_usage?: string };
  const pi = newIntent(store, {
    amount: cs.amount_total as number,
    currency: cs.currency as string,
    customer: cs.customer as string | null,
    payment_method: pm.id,
    metadata: pid.metadata ?? {},
    setup_future_usage: pid.setup_future_usage ?? null,
  });
  cs.payment_intent = pi.id;
  try {
    confirm(store, pi, false);
  } catch (e) {
    if (e instanceof StripeError) return { status: "declined", message: e.message };
    throw e;
  }
  if (pi.status === "requires_action") return { status: "authenticate" };
  complete(store, cs, pi.id, null);
  return { status: "paid" };
}

/** The 3-D Secure step of the hosted page: the customer completes or fails the challenge. */
export function authenticate(store: Store, cs: Obj, approve: boolean): PageResult {
  const piId = (cs.pending_intent ?? cs.payment_intent) as string | null;
  if (cs.status !== "open" || !piId) return { status: cs.status === "complete" ? "complete" : "open" };
  const pi = store.get(piId, "payment_intent");
  if (pi.status !== "requires_action") return { status: "open" };
  if (!approve) {
    Object.assign(pi, {
      status: "requires_payment_method",
      next_action: null,
      last_payment_error: {
        type: "card_error",
        code: "payment_intent_authentication_failure",
        message: "The provided PaymentMethod has failed authentication.",
      },
    });
    store.emit("payment_intent.payment_failed", pi);
    return { status: "declined", message: "Authentication failed." };
  }
  succeed(store, pi);
  if (cs.mode === "subscription") {
    delete cs.pending_intent;
    complete(store, cs, null, subscribe(store, cs, store.get(pi.payment_method as string, "payment_method"), pi).id);
  } else complete(store, cs, pi.id, null);
  return { status: "paid" };
}
