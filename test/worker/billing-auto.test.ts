import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billing } from "../../src/services/billing.ts";
import { adminHeaders, json, newAccount } from "./helpers.ts";
import { available, billingOf, CARD, checkout, deliverAll, since, standIn } from "./stripe-helpers.ts";

const s = standIn();

/** An enterprise account (paid holds, 100 in flight) with $10 paid by `card` through Checkout, the card saved. */
async function funded(card = CARD.ok) {
  const a = await newAccount("enterprise");
  expect(
    (
      await json(
        "PUT",
        `/admin/v1/accounts/${a.id}/plan`,
        { plan: "enterprise", limits: { in_flight: 100, rpm: 10_000 } },
        adminHeaders,
      )
    ).status,
  ).toBe(200);
  const mark = s.store.events.length;
  const { page, session } = await checkout(s, a.key, "/v1/billing/checkout", { amount: 1000 }, card);
  if (page.status !== 303) {
    const done = await s.handle(
      new Request(`http://stripe.test/checkout/${session}/authenticate`, {
        method: "POST",
        body: new URLSearchParams({ action: "complete" }),
      }),
    );
    expect(done.status).toBe(303);
  }
  await deliverAll(since(s, mark));
  expect(await available(a.id)).toBe(10_000_000);
  return a;
}

const ledgerOf = (id: string) => typedLedger(id);

/** Holds `n` jobs of `amount` micro-USD each and settles them all at once, as concurrent completions do. */
async function spend(id: string, n: number, amount: number, tag: string) {
  const l = ledgerOf(id);
  for (let i = 0; i < n; i++) {
    const r = await l.admit(id, "enterprise", {
      id: `${tag}-${i}`,
      amount,
      pricing: { kind: "fixed", amount },
      ttl_ms: 3_600_000,
      model_free: false,
    });
    expect(r.ok).toBe(true);
  }
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      billing(env).closeHold(id, `${tag}-${i}`, { status: "COMPLETED", gpu_ms: 1000, gpu_class: "A40" }),
    ),
  );
}

const intents = (account: string) =>
  [...s.store.objects.values()].filter(
    (o) =>
      o.object === "payment_intent" &&
      (o.metadata as Record<string, string>).account === account &&
      (o.metadata as Record<string, string>).kind === "auto_recharge",
  );

describe("auto-recharge", () => {
  it("needs a saved card; bad settings are 400", async () => {
    const a = await newAccount();
    const r = await json(
      "PUT",
      "/v1/billing/auto-recharge",
      { enabled: true, threshold: 500, amount: 1000 },
      { "x-api-key": a.key },
    );
    expect(r.status).toBe(409);
    for (const body of [
      { enabled: true, threshold: 100, amount: 1000 },
      { enabled: true, threshold: 500, amount: 500 },
      { enabled: "yes", threshold: 500, amount: 1000 },
    ]) {
      expect((await json("PUT", "/v1/billing/auto-recharge", body, { "x-api-key": a.key })).status).toBe(400);
    }
  });

  it("50 concurrent settles that cross the threshold make exactly one charge, credited once by its webhook", async () => {
    const a = await funded();
    expect(
      (
        await json(
          "PUT",
          "/v1/billing/auto-recharge",
          { enabled: true, threshold: 500, amount: 2000 },
          { "x-api-key": a.key },
        )
      ).status,
    ).toBe(200);
    expect(intents(a.id)).toHaveLength(0);
    const mark = s.store.events.length;
    await spend(a.id, 50, 150_000, "c50");
    const pis = intents(a.id);
    expect(pis).toHaveLength(1);
    expect(pis[0]).toMatchObject({ amount: 2000, status: "succeeded", metadata: { seq: "1" } });
    expect(s.store.idempotency.has(`auto-recharge:${a.id}:1`)).toBe(true);
    // Stripe's answer to the charge already credited it; the webhooks that follow change nothing
    expect(await available(a.id)).toBe(10_000_000 - 50 * 150_000 + 20_000_000);
    const events = since(s, mark);
    await deliverAll([...events, ...events]);
    expect(await available(a.id)).toBe(10_000_000 - 50 * 150_000 + 20_000_000);
    const b = await billingOf(a.key);
    expect(b.auto_recharge).toMatchObject({ enabled: true, in_flight: false, consecutive_failures: 0 });
    expect(b.payments.filter((p: { kind: string }) => p.kind === "auto_recharge")).toHaveLength(1);
  });

  it("declines are not retried by themselves; three in a row turn auto-recharge off with the reason shown", async () => {
    const a = await funded();
    const pm = [...s.store.cards.keys()].find(
      (id) =>
        s.store.objects.get(id)?.customer &&
        intents(a.id).length === 0 &&
        [...s.store.objects.values()].some(
          (o) =>
            o.object === "customer" &&
            o.id === s.store.objects.get(id)!.customer &&
            (o.metadata as Record<string, string>).account === a.id,
        ),
    )!;
    s.store.cards.set(pm, CARD.declineLater);
    expect(
      (
        await json(
          "PUT",
          "/v1/billing/auto-recharge",
          { enabled: true, threshold: 900, amount: 1000 },
          { "x-api-key": a.key },
        )
      ).status,
    ).toBe(200);
    // first below-threshold settle: one attempt, declined
    await spend(a.id, 1, 2_000_000, "d1");
    expect(intents(a.id)).toHaveLength(1);
    let b = await billingOf(a.key);
    expect(b.auto_recharge).toMatchObject({
      enabled: true,
      in_flight: false,
      consecutive_failures: 1,
      last_error: expect.stringMatching(/^card_declined/),
    });
    // its payment_failed webhook, twice, counts nothing more
    await deliverAll(
      s.store.events.filter(
        (e) =>
          e.type === "payment_intent.payment_failed" &&
          (e.data as { object: { metadata: Record<string, string> } }).object.metadata.account === a.id,
      ),
    );
    expect((await billingOf(a.key)).auto_recharge.consecutive_failures).toBe(1);
    await spend(a.id, 1, 100_000, "d2");
    await spend(a.id, 1, 100_000, "d3");
    expect(intents(a.id)).toHaveLength(3);
    b = await billingOf(a.key);
    expect(b.auto_recharge).toMatchObject({
      enabled: false,
      consecutive_failures: 3,
      disabled_reason: expect.stringContaining("3 failed charges"),
    });
    await spend(a.id, 1, 100_000, "d4");
    expect(intents(a.id)).toHaveLength(3);
    expect(await available(a.id)).toBe(10_000_000 - 2_300_000);
  });

  it("authentication_required off-session pauses auto-recharge: no retry until the card is used on-session", async () => {
    const a = await funded(CARD.alwaysAuth);
    expect(
      (
        await json(
          "PUT",
          "/v1/billing/auto-recharge",
          { enabled: true, threshold: 1000, amount: 1000 },
          { "x-api-key": a.key },
        )
      ).status,
    ).toBe(200);
    await spend(a.id, 1, 1_000_000, "auth1");
    expect(intents(a.id)).toHaveLength(1);
    expect(intents(a.id)[0]!.status).toBe("requires_payment_method");
    const b = await billingOf(a.key);
    expect(b.auto_recharge).toMatchObject({
      enabled: true,
      consecutive_failures: 1,
      paused_reason: expect.stringContaining("authentication"),
    });
    await spend(a.id, 1, 1_000_000, "auth2");
    expect(intents(a.id)).toHaveLength(1);
  });

  it("turning it on while already below the threshold charges at once, once", async () => {
    const a = await funded();
    await spend(a.id, 1, 6_000_000, "low");
    for (let i = 0; i < 3; i++)
      expect(
        (
          await json(
            "PUT",
            "/v1/billing/auto-recharge",
            { enabled: true, threshold: 500, amount: 1000 },
            { "x-api-key": a.key },
          )
        ).status,
      ).toBe(200);
    expect(intents(a.id)).toHaveLength(1);
  });
});
