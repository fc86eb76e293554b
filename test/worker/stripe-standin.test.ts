import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { StripeStandIn, stripeSignature } from "../../stripe-standin/index.ts";

/**
 * The stand-in through the official client, as the platform calls it: Stripe's wire format, object and error shapes,
 * Idempotency-Key semantics, expand, and webhook signatures identical to the ones Stripe's own library makes.
 */
const KEY = "sk_test_standin_contract";
const s = new StripeStandIn({ secretKey: KEY, webhookSecret: "whsec_contract", baseUrl: "http://stripe.test" });
const stripe = new Stripe(KEY, { httpClient: Stripe.createFetchHttpClient(s.fetch), maxNetworkRetries: 0 });

async function savedCard(number: string) {
  const cus = await stripe.customers.create({ email: "c@example.com", metadata: { account: "acct_1" } });
  const cs = await stripe.checkout.sessions.create({
    mode: "payment",
    customer: cus.id,
    line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 1000, product_data: { name: "credit" } } }],
    payment_intent_data: { setup_future_usage: "off_session", metadata: { account: "acct_1" } },
    success_url: "http://platform.test/ok?session_id={CHECKOUT_SESSION_ID}",
  });
  const paid = await s.handle(
    new Request(cs.url!, { method: "POST", body: new URLSearchParams({ card_number: number }) }),
  );
  expect(paid.status).toBe(303);
  expect(paid.headers.get("location")).toBe(`http://platform.test/ok?session_id=${cs.id}`);
  const done = await stripe.checkout.sessions.retrieve(cs.id);
  const pi = await stripe.paymentIntents.retrieve(done.payment_intent as string, { expand: ["payment_method"] });
  return { cus, pi, pm: pi.payment_method as Stripe.PaymentMethod };
}

describe("Stripe stand-in contract", () => {
  it("a Checkout payment saves the card on the customer; expand returns the objects", async () => {
    const { cus, pi, pm } = await savedCard("4242424242424242");
    expect(pi).toMatchObject({ object: "payment_intent", status: "succeeded", amount: 1000, amount_received: 1000 });
    expect(pm).toMatchObject({ object: "payment_method", customer: cus.id, card: { brand: "visa", last4: "4242" } });
  });

  it("Idempotency-Key: a repeat replays the first answer; other parameters under the same key are an error", async () => {
    const a = await stripe.customers.create({ email: "x@example.com" }, { idempotencyKey: "k-1" });
    const b = await stripe.customers.create({ email: "x@example.com" }, { idempotencyKey: "k-1" });
    expect(b.id).toBe(a.id);
    await expect(stripe.customers.create({ email: "y@example.com" }, { idempotencyKey: "k-1" })).rejects.toBeInstanceOf(
      Stripe.errors.StripeIdempotencyError,
    );
  });

  it("off-session charges: declined and authentication_required are card errors carrying the PaymentIntent", async () => {
    const declines = await savedCard("4000000000000341");
    const e1 = await stripe.paymentIntents
      .create({
        amount: 2000,
        currency: "usd",
        customer: declines.cus.id,
        payment_method: declines.pm.id,
        off_session: true,
        confirm: true,
      })
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(e1).toMatchObject({ code: "card_declined", decline_code: "generic_decline", statusCode: 402 });
    expect((e1 as Stripe.errors.StripeCardError).raw).toMatchObject({
      payment_intent: { status: "requires_payment_method" },
    });
    // under an idempotency key, a repeat gets the first failure back: no second attempt, no second intent
    const params = {
      amount: 2000,
      currency: "usd",
      customer: declines.cus.id,
      payment_method: declines.pm.id,
      off_session: true,
      confirm: true,
    };
    const first = await stripe.paymentIntents
      .create(params, { idempotencyKey: "ar-1" })
      .catch((e: Stripe.errors.StripeCardError) => e);
    const again = await stripe.paymentIntents
      .create(params, { idempotencyKey: "ar-1" })
      .catch((e: Stripe.errors.StripeCardError) => e);
    const piOf = (e: unknown) => (e as { raw: { payment_intent?: { id: string } } }).raw.payment_intent?.id;
    expect(piOf(first)).toMatch(/^pi_/);
    expect(piOf(again)).toBe(piOf(first));
  });

  it("4000 0027 6000 3184 authenticates on the page, and off-session charges then need authentication", async () => {
    const cus = await stripe.customers.create({});
    const cs = await stripe.checkout.sessions.create({
      mode: "payment",
      customer: cus.id,
      line_items: [
        { quantity: 1, price_data: { currency: "usd", unit_amount: 1500, product_data: { name: "credit" } } },
      ],
      payment_intent_data: { setup_future_usage: "off_session" },
      success_url: "http://platform.test/ok",
    });
    const page = await s.handle(
      new Request(cs.url!, { method: "POST", body: new URLSearchParams({ card_number: "4000002760003184" }) }),
    );
    expect(page.headers.get("x-checkout-status")).toBe("authenticate");
    const authed = await s.handle(
      new Request(`${cs.url}/authenticate`, { method: "POST", body: new URLSearchParams({ action: "complete" }) }),
    );
    expect(authed.status).toBe(303);
    const pi = await stripe.paymentIntents.retrieve(
      (await stripe.checkout.sessions.retrieve(cs.id)).payment_intent as string,
    );
    const e = await stripe.paymentIntents
      .create({
        amount: 1000,
        currency: "usd",
        customer: cus.id,
        payment_method: pi.payment_method as string,
        off_session: true,
        confirm: true,
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(e).toMatchObject({ code: "authentication_required" });
  });

  it("errors in Stripe's shapes: a wrong key is 401, an unknown id is resource_missing, a bad param names it", async () => {
    const other = new Stripe("sk_test_wrong", {
      httpClient: Stripe.createFetchHttpClient(s.fetch),
      maxNetworkRetries: 0,
    });
    await expect(other.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await expect(stripe.paymentIntents.retrieve("pi_missing")).rejects.toMatchObject({
      code: "resource_missing",
      statusCode: 404,
    });
    const bad = await stripe.checkout.sessions
      .create({ mode: "payment", line_items: [], success_url: "x" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(bad).toMatchObject({ param: "line_items" });
  });

  it("webhook signatures are the ones Stripe's library makes and verifies; a stale one is refused", async () => {
    const payload = JSON.stringify({ id: "evt_1", object: "event", type: "ping" });
    const t = Math.floor(Date.now() / 1000);
    const ours = await stripeSignature("whsec_contract", payload, t);
    const theirs = await stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: "whsec_contract",
      timestamp: t,
    });
    expect(ours).toBe(theirs);
    const crypto = Stripe.createSubtleCryptoProvider();
    await expect(
      stripe.webhooks.constructEventAsync(payload, ours, "whsec_contract", 300, crypto),
    ).resolves.toMatchObject({ id: "evt_1" });
    const stale = await stripeSignature("whsec_contract", payload, t - 301);
    await expect(stripe.webhooks.constructEventAsync(payload, stale, "whsec_contract", 300, crypto)).rejects.toThrow();
  });
});
