import { StripeError, type Obj, type Store } from "./store.ts";

/**
 * Stripe's documented test cards (docs.stripe.com/testing) and what a charge on each does. `on` is on-session (the
 * customer at the hosted page), `off` a saved card charged with `off_session: true`.
 */
const CARDS: Record<string, { on: Outcome; off: Outcome }> = {
  "4242424242424242": { on: "ok", off: "ok" },
  "5555555555554444": { on: "ok", off: "ok" },
  "4000000000000002": { on: "generic_decline", off: "generic_decline" },
  "4000000000009995": { on: "insufficient_funds", off: "insufficient_funds" },
  // authenticates on-session; once set up, off-session charges need no authentication
  "4000002760003155": { on: "authenticate", off: "ok" },
  // asks for authentication on every charge, off-session ones included
  "4000002760003184": { on: "authenticate", off: "authentication_required" },
  // attaches to a customer, but every later charge is declined
  "4000000000000341": { on: "ok", off: "generic_decline" },
};
type Outcome = "ok" | "authenticate" | "generic_decline" | "insufficient_funds" | "authentication_required";

export function knownCard(number: string): boolean {
  return number in CARDS;
}

export function outcome(number: string, offSession: boolean): Outcome {
  const c = CARDS[number];
  if (!c) return "generic_decline";
  return offSession ? c.off : c.on;
}

/** A PaymentMethod for a test card, saved on the stand-in with the number that decides its charges. */
export function paymentMethod(store: Store, number: string, customer: string | null): Obj {
  const pm = store.put({
    id: store.id("pm"),
    object: "payment_method",
    type: "card",
    customer,
    created: store.now(),
    livemode: false,
    metadata: {},
    card: {
      brand: number.startsWith("5") ? "mastercard" : "visa",
      last4: number.slice(-4),
      exp_month: 12,
      exp_year: 2034,
      funding: "credit",
      country: "US",
    },
    billing_details: { email: null, name: null },
  });
  store.cards.set(pm.id, number);
  return pm;
}

const MESSAGES: Record<string, string> = {
  generic_decline: "Your card was declined.",
  insufficient_funds: "Your card has insufficient funds.",
  authentication_required: "Your card was declined. This transaction requires authentication.",
};

/**
 * Confirms a PaymentIntent with its payment method. Success makes a Charge and sends `payment_intent.succeeded` and
 * `charge.succeeded`; a decline leaves the intent `requires_payment_method` with `last_payment_error`, sends
 * `payment_intent.payment_failed` and throws the card error Stripe returns (402). `authenticate` (on-session 3DS)
 * leaves it `requires_action` for the hosted page to finish.
 */
export function confirm(store: Store, pi: Obj, offSession: boolean): Obj {
  const pmId = pi.payment_method as string | null;
  if (!pmId)
    throw new StripeError(400, {
      type: "invalid_request_error",
      code: "payment_intent_unexpected_state",
      message: "You cannot confirm this PaymentIntent because it's missing a payment method.",
    });
  const number = store.cards.get(pmId) ?? "";
  const result = outcome(number, offSession);
  if (result === "authenticate") {
    Object.assign(pi, { status: "requires_action", next_action: { type: "use_stripe_sdk" } });
    return pi;
  }
  if (result !== "ok") {
    const code = result === "authentication_required" ? "authentication_required" : "card_declined";
    const err = {
      type: "card_error",
      code,
      ...(code === "card_declined" ? { decline_code: result } : {}),
      message: MESSAGES[result]!,
      payment_method: store.get(pmId, "payment_method"),
    };
    Object.assign(pi, {
      status: code === "authentication_required" ? "requires_payment_method" : "requires_payment_method",
      last_payment_error: err,
    });
    store.emit("payment_intent.payment_failed", pi);
    throw new StripeError(402, {
      type: "card_error",
      code,
      ...(code === "card_declined" ? { decline_code: result } : {}),
      message: MESSAGES[result]!,
      payment_intent: structuredClone(pi),
    });
  }
  return succeed(store, pi);
}

/** The intent succeeds: a Charge, a saved card when asked (setup_future_usage), and the events. */
export function succeed(store: Store, pi: Obj): Obj {
  const pmId = pi.payment_method as string;
  const ch = store.put({
    id: store.id("ch"),
    object: "charge",
    amount: pi.amount,
    amount_captured: pi.amount,
    amount_refunded: 0,
    refunded: false,
    captured: true,
    currency: pi.currency,
    customer: pi.customer,
    payment_intent: pi.id,
    payment_method: pmId,
    paid: true,
    status: "succeeded",
    metadata: pi.metadata,
    disputed: false,
    created: store.now(),
    livemode: false,
    receipt_url: `${store.opts.baseUrl}/receipts/${pi.id}`,
    payment_method_details: { type: "card", card: store.get(pmId, "payment_method").card as Obj },
  });
  if (pi.setup_future_usage && pi.customer) store.get(pmId, "payment_method").customer = pi.customer;
  Object.assign(pi, {
    status: "succeeded",
    amount_received: pi.amount,
    latest_charge: ch.id,
    last_payment_error: null,
    next_action: null,
  });
  store.emit("payment_intent.succeeded", pi);
  store.emit("charge.succeeded", ch);
  return pi;
}

export function newIntent(
  store: Store,
  p: {
    amount: number;
    currency: string;
    customer: string | null;
    payment_method: string | null;
    metadata: Record<string, string>;
    setup_future_usage: string | null;
    description?: string | null;
  },
): Obj {
  return store.put({
    id: store.id("pi"),
    object: "payment_intent",
    amount: p.amount,
    amount_received: 0,
    currency: p.currency,
    customer: p.customer,
    payment_method: p.payment_method,
    metadata: p.metadata,
    setup_future_usage: p.setup_future_usage,
    status: p.payment_method ? "requires_confirmation" : "requires_payment_method",
    latest_charge: null,
    last_payment_error: null,
    next_action: null,
    description: p.description ?? null,
    created: store.now(),
    livemode: false,
    capture_method: "automatic",
    confirmation_method: "automatic",
    payment_method_types: ["card"],
  });
}

/** Refunds part or all of a charge: `amount_refunded` grows and `charge.refunded` carries the previous value. */
export function refund(store: Store, ch: Obj, amount: number): Obj {
  const left = (ch.amount as number) - (ch.amount_refunded as number);
  if (amount <= 0 || amount > left)
    throw new StripeError(400, {
      type: "invalid_request_error",
      code: "amount_too_large",
      message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
      param: "amount",
    });
  const re = store.put({
    id: store.id("re"),
    object: "refund",
    amount,
    charge: ch.id,
    payment_intent: ch.payment_intent,
    currency: ch.currency,
    status: "succeeded",
    created: store.now(),
    metadata: {},
  });
  const previous = { amount_refunded: ch.amount_refunded, refunded: ch.refunded };
  Object.assign(ch, {
    amount_refunded: (ch.amount_refunded as number) + amount,
    refunded: (ch.amount_refunded as number) + amount === ch.amount,
  });
  store.emit("refund.created", re);
  store.emit("charge.refunded", ch, previous);
  return re;
}

export function dispute(store: Store, ch: Obj): Obj {
  const dp = store.put({
    id: store.id("dp"),
    object: "dispute",
    amount: ch.amount,
    charge: ch.id,
    payment_intent: ch.payment_intent,
    currency: ch.currency,
    reason: "fraudulent",
    status: "needs_response",
    created: store.now(),
    metadata: {},
  });
  ch.disputed = true;
  store.emit("charge.dispute.created", dp);
  return dp;
}
