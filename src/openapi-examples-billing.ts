/**
 * Examples of billing (Stripe) and the provider API; see src/openapi-examples.ts. Units as the API uses them:
 * balances and earnings in micro-USD; the amounts a caller sends to billing in USD cents (1 cent = 10,000 micro-USD).
 */
import type { OperationExample } from "./openapi-examples.ts";

const PI = "pi_3QhZn5Kx2bLmC8dV0fTq7WsE";
const billing = {
  plan: "pro",
  renews_at: "2026-12-28T09:14:02.000Z",
  subscription: { id: "sub_1QhYv2Kx2bLmC8dVa9RtGm4P", plan: "pro", status: "active", cancel_at_period_end: false },
  card: { brand: "visa", last4: "4242" },
  available: 62_010_000,
  auto_recharge: {
    enabled: true,
    threshold: 1_000,
    amount: 2_500,
    in_flight: false,
    consecutive_failures: 0,
    last_error: null,
    disabled_reason: null,
    paused_reason: null,
  },
  flagged: null,
  owed: 0,
  payments: [
    {
      object_id: PI,
      kind: "card",
      amount: 25_000_000,
      status: "succeeded",
      receipt_url: "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8xUWhZdjJLeDJiTG1DOGRW",
      ledger_op_id: `stripe:${PI}`,
      created_at: "2026-12-01T10:02:31.000Z",
    },
  ],
};
const session = (id: string) => ({ id, url: `https://checkout.stripe.com/c/pay/${id}#fidkdWxOYHwnPyd1blpxYHZxWjA0` });

const PROVIDER = "prov_0QhYx0a4Lm7nQp2RsT5uVw8X";
const AGENT = "agent_0QhYy4k2Bd6fHj9KmN3pQr5S";
const earned = { key: AGENT, earned: 1_651_520, jobs: 912, gpu_ms: 5_160_400 };
const totals = {
  earned: 1_651_520,
  platform_paid: 2_880,
  paid_out: 1_000_000,
  balance: 654_400,
  jobs: 912,
  gpu_ms: 5_160_400,
  charged: 2_064_400,
};
const report = {
  totals,
  by_agent: [earned],
  by_model: [
    { key: "background-removal", earned: 1_240_320, jobs: 604, gpu_ms: 3_875_900 },
    { key: "nsfw-detector", earned: 411_200, jobs: 308, gpu_ms: 1_284_500 },
  ],
  by_gpu_class: [{ ...earned, key: "A40" }],
  by_day: [
    { key: "2026-11-30", earned: 803_040, jobs: 441, gpu_ms: 2_509_400 },
    { key: "2026-12-01", earned: 848_480, jobs: 471, gpu_ms: 2_651_000 },
  ],
};

export const BILLING_EXAMPLES: Record<string, OperationExample> = {
  // ---- billing: amounts sent in cents, balances returned in micro-USD ----
  "get /v1/billing": { responses: { 200: billing } },
  "get /v1/billing/return": {
    query: { session_id: "cs_live_a1Kx2bLmC8dVq9RtGm4PzW7n" },
    responses: {
      200:
        "<!doctype html><title>Payment received</title><p>Thank you. Your credit appears on your account as soon as " +
        "Stripe confirms the payment (usually seconds).</p>",
    },
  },
  "post /v1/billing/stripe-webhook": {
    headers: { "stripe-signature": "t=1796126551,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd" },
    rawBody: { contentType: "application/json", file: "event.json" },
    responses: { 200: { received: true, event_id: "evt_3QhZn5Kx2bLmC8dV1Yc0Hj2A", applied: true } },
  },
  "post /v1/billing/checkout": {
    request: { amount: 2_500 },
    responses: { 200: session("cs_live_a1Kx2bLmC8dVq9RtGm4PzW7n") },
  },
  "post /v1/billing/subscription": {
    request: { plan: "pro" },
    responses: { 200: session("cs_live_b1Lx3cMnD9eWr0SuHn5QaX8o") },
  },
  "delete /v1/billing/subscription": {
    responses: {
      200: { ...billing, subscription: { ...billing.subscription, cancel_at_period_end: true } },
    },
  },
  "put /v1/billing/auto-recharge": {
    request: { enabled: true, threshold: 1_000, amount: 2_500 },
    responses: { 200: billing },
  },
  // ---- provider API (provider key) ----
  "get /v1/provider/earnings": {
    query: { from: "2026-11-30", to: "2026-12-02" },
    responses: {
      200: {
        provider_id: PROVIDER,
        from: "2026-11-30T00:00:00.000Z",
        to: "2026-12-02T00:00:00.000Z",
        revenue_share_bp: 8_000,
        ...report,
      },
    },
  },
  "get /v1/provider/agents": {
    responses: {
      200: {
        data: [
          {
            id: AGENT,
            name: "host-01",
            gpu_class: "A40",
            state: "active",
            registered_at: "2026-11-29T08:00:12.004Z",
            jobs: 912,
            gpu_seconds: 5_160.4,
            earned: 1_651_520,
          },
        ],
      },
    },
  },
  "get /v1/provider/statements/{month}": {
    params: { month: "2026-12" },
    responses: {
      200: {
        provider_id: PROVIDER,
        provider_name: "gpu-host-co",
        month: "2026-12",
        revenue_share_bp: 8_000,
        status: "open",
        rows: [
          {
            op_id: "req_0QhZk3a1f9JmXbT4cLw8rNpY:settle",
            kind: "earning",
            account_id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3",
            agent_id: AGENT,
            model: "background-removal",
            gpu_class: "A40",
            gpu_ms: 1_840,
            charge: 736,
            earn: 588,
            day: "2026-12-01",
            created_at: 1796126402020,
          },
        ],
        payouts: [
          {
            op_id: "payout:wire-2026-12-001",
            amount: 1_000_000,
            reference: "wire 2026-12-001",
            created_at: 1796122800000,
          },
        ],
        report,
      },
    },
  },
};
