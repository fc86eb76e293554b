import { describe, expect, it } from "vitest";
import { call, json, newAccount } from "./helpers.ts";
import { available, billingOf, CARD, checkout, deliver, deliverAll, since, standIn } from "./stripe-helpers.ts";

const s = standIn();
const TEN = 10_000_000;

describe("recharge through Stripe Checkout", () => {
  it("happy: $10 with 4242 is credited exactly once, from the verified webhook only; duplicates change nothing", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    const { page } = await checkout(s, a.key, "/v1/billing/checkout", { amount: 1000 }, CARD.ok);
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toMatch(/\/v1\/billing\/return\?session_id=cs_test_/);
    // paid at Stripe, but nothing is credited before the webhook arrives
    expect(await available(a.id)).toBe(0);
    const events = since(s, mark);
    expect(events.map((e) => e.type)).toEqual([
      "payment_intent.succeeded",
      "charge.succeeded",
      "checkout.session.completed",
    ]);
    await deliverAll(events);
    expect(await available(a.id)).toBe(TEN);
    // at-least-once delivery: every event again, and in reverse
    await deliverAll(events);
    await deliverAll([...events].reverse());
    expect(await available(a.id)).toBe(TEN);
    const b = await billingOf(a.key);
    expect(b.card).toEqual({ brand: "visa", last4: "4242" });
    expect(b.payments).toHaveLength(1);
    expect(b.payments[0]).toMatchObject({
      kind: "card",
      amount: TEN,
      status: "succeeded",
      ledger_op_id: expect.stringMatching(/^stripe:pi_/),
    });
    expect(b.payments[0].receipt_url).toMatch(/^http:\/\/stripe\.test\/receipts\/pi_/);
  });

  it("out of order: checkout.session.completed before payment_intent.succeeded credits once", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    await checkout(s, a.key, "/v1/billing/checkout", { amount: 2500 }, CARD.ok);
    const events = since(s, mark);
    await deliverAll([events.find((e) => e.type === "checkout.session.completed")!]);
    expect(await available(a.id)).toBe(25_000_000);
    await deliverAll(events);
    expect(await available(a.id)).toBe(25_000_000);
  });

  it("error: amounts below $10, above $1,000, fractional or missing are 400 and open no session", async () => {
    const a = await newAccount();
    const before = s.store.objects.size;
    for (const amount of [999, 100_001, 12.5, "1000", undefined]) {
      const r = await json("POST", "/v1/billing/checkout", { amount }, { "x-api-key": a.key });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    }
    expect(s.store.objects.size).toBe(before);
    expect((await json("POST", "/v1/billing/checkout", { amount: 1000 }, {})).status).toBe(401);
  });

  it("decline: 4000 0000 0000 0002 credits nothing; the same session then pays with 4242", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    const { page, session } = await checkout(s, a.key, "/v1/billing/checkout", { amount: 1000 }, CARD.decline);
    expect(page.status).toBe(200);
    expect(page.headers.get("x-checkout-status")).toBe("declined");
    expect(await page.text()).toContain("Your card was declined.");
    const failed = since(s, mark);
    expect(failed.map((e) => e.type)).toEqual(["payment_intent.payment_failed"]);
    await deliverAll(failed);
    expect(await available(a.id)).toBe(0);
    const retry = await s.handle(
      new Request(`http://stripe.test/checkout/${session}`, {
        method: "POST",
        body: new URLSearchParams({ card_number: CARD.ok }),
      }),
    );
    expect(retry.status).toBe(303);
    await deliverAll(since(s, mark));
    expect(await available(a.id)).toBe(TEN);
  });

  it("authentication required: 4000 0027 6000 3155 pays after the 3-D Secure step, not before", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    const { page, session } = await checkout(s, a.key, "/v1/billing/checkout", { amount: 1500 }, CARD.auth);
    expect(page.headers.get("x-checkout-status")).toBe("authenticate");
    expect(since(s, mark)).toHaveLength(0);
    const done = await s.handle(
      new Request(`http://stripe.test/checkout/${session}/authenticate`, {
        method: "POST",
        body: new URLSearchParams({ action: "complete" }),
      }),
    );
    expect(done.status).toBe(303);
    await deliverAll(since(s, mark));
    expect(await available(a.id)).toBe(15_000_000);
  });

  it("security: forged, tampered, replayed (old timestamp) and unsigned webhooks are 400 and change nothing", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    await checkout(s, a.key, "/v1/billing/checkout", { amount: 1000 }, CARD.ok);
    const e = since(s, mark).find((x) => x.type === "payment_intent.succeeded")!;
    const bad = [
      await deliver(e, { secret: "whsec_someone_else" }),
      await deliver(e, { tamper: true }),
      await deliver(e, { t: Math.floor(Date.now() / 1000) - 600 }),
      await call("/v1/billing/stripe-webhook", { method: "POST", body: JSON.stringify(e) }),
    ];
    for (const r of bad) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    }
    expect(await available(a.id)).toBe(0);
    // the genuine delivery still applies afterwards: the rejected ones were not recorded as seen
    expect((await deliver(e)).status).toBe(200);
    expect(await available(a.id)).toBe(TEN);
  });
});

describe("refunds and disputes", () => {
  it("a partial refund debits its delta once; a later full refund debits the rest; history shows both", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    await checkout(s, a.key, "/v1/billing/checkout", { amount: 2000 }, CARD.ok);
    await deliverAll(since(s, mark));
    const pi = s.store.events.slice(mark).find((e) => e.type === "payment_intent.succeeded")!.data as {
      object: { id: string };
    };
    const m2 = s.store.events.length;
    await s.handle(
      new Request("http://stripe.test/v1/refunds", {
        method: "POST",
        headers: { authorization: `Bearer ${s.store.opts.secretKey}` },
        body: new URLSearchParams({ payment_intent: pi.object.id, amount: "500" }),
      }),
    );
    const partial = since(s, m2);
    await deliverAll([...partial, ...partial]);
    expect(await available(a.id)).toBe(15_000_000);
    const m3 = s.store.events.length;
    await s.handle(
      new Request("http://stripe.test/v1/refunds", {
        method: "POST",
        headers: { authorization: `Bearer ${s.store.opts.secretKey}` },
        body: new URLSearchParams({ payment_intent: pi.object.id }),
      }),
    );
    // the newer refund first, then the older one arriving late: cumulative amounts make the late one a no-op
    await deliverAll([...since(s, m3), ...partial]);
    expect(await available(a.id)).toBe(0);
    const b = await billingOf(a.key);
    expect(b.flagged).toMatch(/^refund/);
    expect(b.owed).toBe(0);
  });

  it("refund before payment: the refund finds nothing to take, is owed, and is recovered when the payment lands", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    await checkout(s, a.key, "/v1/billing/checkout", { amount: 3000 }, CARD.ok);
    const paid = since(s, mark);
    const pi = paid.find((e) => e.type === "payment_intent.succeeded")!.data as { object: { id: string } };
    const m2 = s.store.events.length;
    await s.handle(
      new Request("http://stripe.test/v1/refunds", {
        method: "POST",
        headers: { authorization: `Bearer ${s.store.opts.secretKey}` },
        body: new URLSearchParams({ payment_intent: pi.object.id, amount: "1000" }),
      }),
    );
    await deliverAll(since(s, m2));
    expect((await billingOf(a.key)).owed).toBe(TEN);
    await deliverAll(paid);
    expect(await available(a.id)).toBe(20_000_000);
    expect((await billingOf(a.key)).owed).toBe(0);
  });

  it("a dispute larger than what is left debits what is available, records the rest as owed and flags the account", async () => {
    const a = await newAccount();
    const mark = s.store.events.length;
    await checkout(s, a.key, "/v1/billing/checkout", { amount: 1000 }, CARD.ok);
    await deliverAll(since(s, mark));
    const admin = { authorization: "Bearer test-admin-token-0123456789" };
    expect(
      (
        await json(
          "POST",
          `/admin/v1/accounts/${a.id}/debits`,
          { amount: 4_000_000, reason: "usage", idempotency_key: "d1" },
          admin,
        )
      ).status,
    ).toBe(200);
    const ch = s.store.events.slice(mark).find((e) => e.type === "charge.succeeded")!.data as {
      object: { id: string };
    };
    const m2 = s.store.events.length;
    await s.handle(
      new Request(`http://stripe.test/_standin/charges/${ch.object.id}/dispute`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.store.opts.secretKey}` },
      }),
    );
    const d = since(s, m2);
    await deliverAll([...d, ...d]);
    expect(await available(a.id)).toBe(0);
    const b = await billingOf(a.key);
    expect(b.owed).toBe(4_000_000);
    expect(b.flagged).toMatch(/^dispute/);
    expect(b.payments.map((p: { kind: string }) => p.kind).sort()).toEqual(["card", "dispute"]);
  });
});
