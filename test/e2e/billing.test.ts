import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, startPlatform, type Platform } from "../../scripts/platform.ts";
import { startStripeStandIn, type StandInServer } from "../../scripts/stripe-standin.ts";
import { stripeSignature } from "../../stripe-standin/index.ts";
import { LOCAL_WEBHOOK_SECRET } from "../../src/services/payments/stripe.ts";

/**
 * Paying on a local start: wrangler dev with the platform, the Node Stripe stand-in on its own port (the Worker's
 * Stripe client talks to it over HTTP; it posts signed webhooks back), the hosted checkout page driven with plain
 * form posts, and jobs completed through the agent API by a scripted agent.
 */
const dir = mkdtempSync(path.join(tmpdir(), "edge-billing-"));
const port = 20_000 + Math.floor(Math.random() * 2000);
const ADMIN = "e2e-admin-token-0123456789";
let platform: Platform;
let stripe: StandInServer;
let key = "";
let account = "";
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": key, "content-type": "application/json", ...(init.headers ?? {}) },
  });
const billing = async () => (await (await api("/v1/billing")).json()) as Record<string, any>;

/** Opens Checkout and pays on the hosted page with form posts, as a browser does. */
async function pay(pathname: string, body: unknown, card: string) {
  const r = await api(pathname, { method: "POST", body: JSON.stringify(body) });
  expect(r.status).toBe(200);
  const { url } = (await r.json()) as { url: string };
  const page = await (await fetch(url)).text();
  const action = page.match(/<form method="post" action="([^"]+)"/)![1]!;
  const paid = await fetch(new URL(action, url), {
    method: "POST",
    body: new URLSearchParams({ card_number: card, exp: "12/34", cvc: "123" }),
    redirect: "manual",
  });
  expect(paid.status).toBe(303);
  expect(paid.headers.get("location")).toContain("/v1/billing/return?session_id=cs_test_");
  await stripe.idle();
}

let agentHeaders: Record<string, string> = {};
/** `n` jobs submitted at once, leased together and completed concurrently (each settles its hold). */
async function jobs(n: number) {
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await api("/v2/background-removal", {
        method: "POST",
        body: JSON.stringify({ image: PNG.toString("base64") }),
      });
      expect(r.status).toBe(202);
      return ((await r.json()) as { request_id: string }).request_id;
    }),
  );
  const leased: { job_id: string; lease_id: string; epoch: number }[] = [];
  while (leased.length < n) {
    const r = await fetch(`${platform.url}/agent/v1/lease`, {
      method: "POST",
      headers: agentHeaders,
      body: JSON.stringify({ agent_id: agentHeaders["x-agent-id"], slots_free: n, wait_ms: 1000 }),
    });
    if (r.status === 200) leased.push(...((await r.json()) as { jobs: typeof leased }).jobs);
  }
  await new Promise((r) => setTimeout(r, 300)); // the "execution": the billed time must fit in the lease window
  await Promise.all(
    leased.map(async (j) => {
      const put = await fetch(`${platform.url}/agent/v1/jobs/${j.job_id}/outputs/output.png`, {
        method: "PUT",
        headers: { ...agentHeaders, "x-lease-id": j.lease_id, "content-type": "image/png" },
        body: PNG,
      });
      expect(put.status).toBe(200);
      const done = await fetch(`${platform.url}/agent/v1/jobs/${j.job_id}/complete`, {
        method: "POST",
        headers: agentHeaders,
        body: JSON.stringify({
          lease_id: j.lease_id,
          epoch: j.epoch,
          outputs: [{ name: "output.png", content_type: "image/png", size: PNG.byteLength }],
          metrics: { gpu_ms: 250, load_ms: 0, gpu_class: "cpu" },
        }),
      });
      expect(done.status).toBe(200);
    }),
  );
  await stripe.idle();
  return ids;
}

const autoIntents = () =>
  [...stripe.core.store.objects.values()].filter(
    (o) => o.object === "payment_intent" && (o.metadata as Record<string, string>).kind === "auto_recharge",
  );

beforeAll(async () => {
  const stripePort = port + 1;
  stripe = await startStripeStandIn({
    port: stripePort,
    webhookUrl: `http://127.0.0.1:${port}/v1/billing/stripe-webhook`,
    retries: 2,
  });
  platform = await startPlatform({
    port,
    adminToken: ADMIN,
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { STRIPE_API_BASE: stripe.url },
  });
  const a = await admin<{ id: string }>(platform.url, ADMIN, "POST", "/admin/v1/accounts", {
    email: "payer@example.com",
    plan: "free",
  });
  account = a.body.id;
  key = (await admin<{ key: string }>(platform.url, ADMIN, "POST", `/admin/v1/accounts/${account}/keys`, {})).body.key;
  const reg = await fetch(`${platform.url}/agent/v1/register`, {
    method: "POST",
    headers: { authorization: `Bearer ${platform.demo.agent_token}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "scripted",
      version: "e2e",
      gpu_class: "cpu",
      gpus: [],
      runtimes: ["builtin"],
      models: ["background-removal"],
      slots: 8,
    }),
  });
  const { agent_id } = (await reg.json()) as { agent_id: string };
  agentHeaders = {
    authorization: `Bearer ${platform.demo.agent_token}`,
    "x-agent-id": agent_id,
    "content-type": "application/json",
  };
});

afterAll(async () => {
  await platform?.stop();
  await stripe?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("paying on a local start with the Stripe stand-in", () => {
  it("recharge $10 through the checkout page: the webhook posts exactly $10 once; a replay changes nothing", async () => {
    await pay("/v1/billing/checkout", { amount: 1000 }, "4242 4242 4242 4242");
    let b = await billing();
    expect(b.available).toBe(10_000_000);
    expect(b.card).toEqual({ brand: "visa", last4: "4242" });
    expect(b.payments).toEqual([expect.objectContaining({ kind: "card", amount: 10_000_000, status: "succeeded" })]);
    expect(stripe.deliveries.every((d) => d.status === 200)).toBe(true);
    // a replay: the same event, signed again now (a fresh timestamp), as Stripe's retries are
    const e = stripe.core.store.events.find((x) => x.type === "payment_intent.succeeded")!;
    const payload = JSON.stringify(e);
    const r = await fetch(`${platform.url}/v1/billing/stripe-webhook`, {
      method: "POST",
      headers: { "stripe-signature": await stripeSignature(LOCAL_WEBHOOK_SECRET, payload) },
      body: payload,
    });
    expect(await r.json()).toMatchObject({ received: true, applied: false });
    const forged = await fetch(`${platform.url}/v1/billing/stripe-webhook`, {
      method: "POST",
      headers: { "stripe-signature": await stripeSignature("whsec_forged", payload) },
      body: payload,
    });
    expect(forged.status).toBe(400);
    b = await billing();
    expect(b.available).toBe(10_000_000);
  });

  it("a Pro subscription grants $39 on invoice.paid and sets the plan", async () => {
    await pay("/v1/billing/subscription", { plan: "pro" }, "4242424242424242");
    const acct = (await (await api("/v1/account")).json()) as {
      plan: string;
      available: number;
      limits: { rpm: number };
    };
    expect(acct).toMatchObject({ plan: "pro", available: 49_000_000, limits: { rpm: 50 } });
    expect((await billing()).subscription).toMatchObject({ plan: "pro", status: "active" });
  });

  it("auto-recharge fires once when concurrent jobs push the balance under the threshold, and stops after three declines", async () => {
    expect(
      (
        await api("/v1/billing/auto-recharge", {
          method: "PUT",
          body: JSON.stringify({ enabled: true, threshold: 500, amount: 1000 }),
        })
      ).status,
    ).toBe(200);
    // leave the threshold plus one micro-USD available: any settled job crosses it
    const debit = async (tag: string) => {
      const avail = (await billing()).available as number;
      const d = await admin(platform.url, ADMIN, "POST", `/admin/v1/accounts/${account}/debits`, {
        amount: avail - 5_000_001,
        reason: "e2e",
        idempotency_key: tag,
      });
      expect(d.status).toBe(200);
    };
    await debit("down-1");
    expect(autoIntents()).toHaveLength(0);
    await jobs(5);
    expect(autoIntents()).toHaveLength(1);
    let b = await billing();
    expect(b.auto_recharge).toMatchObject({ enabled: true, in_flight: false, consecutive_failures: 0 });
    expect(b.payments.filter((p: { kind: string }) => p.kind === "auto_recharge")).toEqual([
      expect.objectContaining({ amount: 10_000_000 }),
    ]);
    expect(b.available).toBeGreaterThan(14_000_000);

    // the saved card starts declining
    const pm = [...stripe.core.store.cards.keys()].find((id) => stripe.core.store.objects.get(id)?.customer);
    await fetch(`${stripe.url}/_standin/payment_methods/${pm}/card`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_local_standin" },
      body: new URLSearchParams({ number: "4000000000000341" }),
    });
    await debit("down-2");
    for (let i = 0; i < 4; i++) await jobs(1);
    expect(autoIntents()).toHaveLength(4);
    b = await billing();
    expect(b.auto_recharge).toMatchObject({
      enabled: false,
      consecutive_failures: 3,
      disabled_reason: expect.stringContaining("3 failed charges"),
      last_error: expect.stringMatching(/^card_declined/),
    });
  });
});
