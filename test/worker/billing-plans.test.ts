import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { grantMonthlyCredits } from "../../src/queues/grants.ts";
import { call, json, newAccount } from "./helpers.ts";
import { available, billingOf, CARD, checkout, deliverAll, since, standIn } from "./stripe-helpers.ts";
import type { Obj } from "../../stripe-standin/index.ts";

const s = standIn();
const PRO = 39_000_000;
const control = (path: string, body?: Record<string, string>) =>
  s.handle(
    new Request(`http://stripe.test${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.store.opts.secretKey}` },
      body: new URLSearchParams(body ?? {}),
    }),
  );

async function plan(key: string): Promise<{ plan: string; limits: { rpm: number } }> {
  return (await call("/v1/account", { headers: { "x-api-key": key } })).json() as Promise<{
    plan: string;
    limits: { rpm: number };
  }>;
}

async function subscribed() {
  const a = await newAccount();
  const mark = s.store.events.length;
  const { page } = await checkout(s, a.key, "/v1/billing/subscription", { plan: "pro" }, CARD.ok);
  expect(page.status).toBe(303);
  const events = since(s, mark);
  const sub = (events.find((e) => e.type === "customer.subscription.created")!.data as { object: Obj }).object;
  return { a, events, sub };
}

describe("plans through Stripe subscriptions", () => {
  it("invoice.paid before customer.subscription.created grants $39 once and sets the Pro plan and its limits", async () => {
    const { a, events } = await subscribed();
    expect(events.map((e) => e.type)).toContain("invoice.paid");
    const invoice = events.find((e) => e.type === "invoice.paid")!;
    await deliverAll([invoice]);
    expect(await available(a.id)).toBe(PRO);
    expect(await plan(a.key)).toMatchObject({ plan: "pro", limits: { rpm: 50 } });
    // everything, twice: the subscription's own payment intent is not a top-up, the invoice grants once
    await deliverAll([...events, ...events]);
    expect(await available(a.id)).toBe(PRO);
    // the cron's monthly grant leaves a Stripe-billed account to its invoices
    await grantMonthlyCredits(env);
    expect(await available(a.id)).toBe(PRO);
    const b = await billingOf(a.key);
    expect(b.plan).toBe("pro");
    expect(b.subscription).toMatchObject({ plan: "pro", status: "active", cancel_at_period_end: false });
    expect(Date.parse(b.renews_at)).toBeGreaterThan(Date.now());
    expect(b.payments).toEqual([
      expect.objectContaining({ kind: "grant", amount: PRO, ledger_op_id: expect.stringMatching(/^stripe:in_/) }),
    ]);
  });

  it("each renewal's invoice grants the month; cancelling keeps Pro until the period ends, then free with the credit kept", async () => {
    const { a, events, sub } = await subscribed();
    await deliverAll(events);
    let mark = s.store.events.length;
    await control(`/_standin/subscriptions/${sub.id}/renew`);
    await deliverAll(since(s, mark));
    expect(await available(a.id)).toBe(2 * PRO);
    mark = s.store.events.length;
    expect((await call("/v1/billing/subscription", { method: "DELETE", headers: { "x-api-key": a.key } })).status).toBe(
      200,
    );
    await deliverAll(since(s, mark));
    expect((await billingOf(a.key)).subscription).toMatchObject({ cancel_at_period_end: true });
    expect((await plan(a.key)).plan).toBe("pro");
    mark = s.store.events.length;
    await control(`/_standin/subscriptions/${sub.id}/end`);
    const ended = since(s, mark);
    await deliverAll(ended);
    expect(await plan(a.key)).toMatchObject({ plan: "free", limits: { rpm: 5 } });
    expect(await available(a.id)).toBe(2 * PRO);
    // a late redelivery of the first invoice cannot bring the plan back
    await deliverAll(events.filter((e) => e.type === "invoice.paid"));
    expect((await plan(a.key)).plan).toBe("free");
    expect((await billingOf(a.key)).subscription).toBeNull();
  });

  it("a failed renewal keeps the credit; when Stripe gives up and ends the subscription the account is free", async () => {
    const { a, events, sub } = await subscribed();
    await deliverAll(events);
    s.store.cards.set(sub.default_payment_method as string, CARD.declineLater);
    let mark = s.store.events.length;
    await control(`/_standin/subscriptions/${sub.id}/renew`);
    const failed = since(s, mark);
    expect(failed.map((e) => e.type)).toEqual(
      expect.arrayContaining(["invoice.payment_failed", "customer.subscription.updated"]),
    );
    await deliverAll(failed);
    expect(await available(a.id)).toBe(PRO);
    expect((await plan(a.key)).plan).toBe("pro");
    mark = s.store.events.length;
    await control(`/_standin/subscriptions/${sub.id}/end`);
    await deliverAll(since(s, mark));
    expect((await plan(a.key)).plan).toBe("free");
    expect(await available(a.id)).toBe(PRO);
  });

  it("error: an unknown plan is 400; a second subscription while one is active is 409", async () => {
    const { a, events } = await subscribed();
    await deliverAll(events);
    expect(
      (await json("POST", "/v1/billing/subscription", { plan: "enterprise" }, { "x-api-key": a.key })).status,
    ).toBe(400);
    expect((await json("POST", "/v1/billing/subscription", { plan: "business" }, { "x-api-key": a.key })).status).toBe(
      409,
    );
  });
});
