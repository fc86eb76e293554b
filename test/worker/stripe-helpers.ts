import { typedLedger } from "./support/stubs.ts";
import { expect } from "vitest";
import { StripeStandIn, stripeSignature, type Obj } from "../../stripe-standin/index.ts";
import { LOCAL_SECRET_KEY, LOCAL_WEBHOOK_SECRET, useStripeFetch } from "../../src/services/payments/stripe.ts";
import { call, json } from "./helpers.ts";

/** The stand-in's core, run inside the test Worker; the platform's Stripe client is handed its fetch. */
export function standIn(): StripeStandIn {
  const s = new StripeStandIn({
    secretKey: LOCAL_SECRET_KEY,
    webhookSecret: LOCAL_WEBHOOK_SECRET,
    baseUrl: "http://stripe.test",
  });
  useStripeFetch(s.fetch);
  return s;
}

/** Posts one event to the webhook endpoint, signed as Stripe signs it (or with another secret / timestamp). */
export async function deliver(e: Obj, opts: { secret?: string; t?: number; tamper?: boolean } = {}): Promise<Response> {
  const payload = JSON.stringify(e, null, 2);
  const sig = await stripeSignature(opts.secret ?? LOCAL_WEBHOOK_SECRET, payload, opts.t);
  return call("/v1/billing/stripe-webhook", {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": sig },
    body: opts.tamper ? payload.replace(/"amount_received": \d+/, '"amount_received": 99999999') : payload,
  });
}

export async function deliverAll(events: Obj[]): Promise<void> {
  for (const e of events) expect((await deliver(e)).status).toBe(200);
}

/** Events the stand-in made since `mark` (an index into its log). */
export const since = (s: StripeStandIn, mark: number) => s.store.events.slice(mark);

/** Opens Checkout through the API and submits the hosted page's form with a card, as a browser would. */
export async function checkout(
  s: StripeStandIn,
  key: string,
  path: string,
  body: unknown,
  card: string,
): Promise<{ session: string; page: Response }> {
  const r = await json("POST", path, body, { "x-api-key": key });
  expect(r.status).toBe(200);
  const cs = (await r.json()) as { id: string; url: string };
  expect(cs.url).toMatch(/^http:\/\/stripe\.test\/checkout\/cs_test_/);
  const page = await s.handle(new Request(cs.url));
  expect(await page.text()).toContain(`action="/checkout/${cs.id}"`);
  const posted = await s.handle(
    new Request(cs.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ card_number: card, exp: "12/34", cvc: "123" }),
    }),
  );
  return { session: cs.id, page: posted };
}

export async function available(id: string): Promise<number> {
  const stub = typedLedger(id);
  return (await stub.summary(id, "free")).available;
}

export async function billingOf(key: string): Promise<Record<string, any>> {
  const r = await call("/v1/billing", { headers: { "x-api-key": key } });
  expect(r.status).toBe(200);
  return r.json();
}

export const CARD = {
  ok: "4242424242424242",
  decline: "4000000000000002",
  auth: "4000002760003155",
  alwaysAuth: "4000002760003184",
  declineLater: "4000000000000341",
};
