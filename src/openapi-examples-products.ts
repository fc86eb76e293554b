/**
 * Examples of the model page, private ComfyUI models, billing (Stripe) and the provider API; see
 * src/openapi-examples.ts. Units as the API uses them: balances, prices and earnings in micro-USD; the amounts a
 * caller sends to billing in USD cents (1 cent = 10,000 micro-USD).
 */
import type { OperationExample } from "./openapi-examples.ts";

const BASE = "https://api.example.com";
const body = { image: "https://example.com/photo.jpg", model: "medium", format: "png" };
const RATES = { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1_000, H100: 1_400 } as const;
const modelPage = {
  slug: "background-removal",
  name: "Background Removal (ISNet)",
  category: "background-removal",
  description: "Removes the background of a photo and returns a PNG with a transparent background.",
  input_schema: {
    type: "object",
    properties: {
      image: {
        type: "string",
        minLength: 1,
        format: "image",
        description: "Image to cut out: base64, data URL, or https URL",
      },
      model: {
        default: "medium",
        description: "ISNet variant: small is quantized and faster",
        type: "string",
        enum: ["small", "medium"],
      },
      format: { default: "png", type: "string", enum: ["png", "webp"] },
      base64: { default: false, description: "Return the output inline as base64 JSON", type: "boolean" },
    },
    required: ["image"],
    additionalProperties: false,
  },
  output_type: "image",
  runtime: "builtin",
  gpu_classes: Object.keys(RATES),
  pricing: { kind: "per_gpu_second", micro_usd_per_second: RATES },
  free: true,
  max_execution_s: 120,
  moderation: "none",
  license: "AGPL-3.0",
  license_url: "https://github.com/imgly/background-removal-js/blob/main/LICENSE.md",
  tags: ["image-editing", "cutout"],
  cover: null,
  prices: Object.entries(RATES).map(([gpu_class, micro_usd]) => ({
    gpu_class,
    micro_usd,
    per: "gpu_second",
    usd_per_hour: Math.round(micro_usd * 3.6 * 100) / 100,
  })),
  speed: {
    note: "p50 of the last 500 completed requests",
    by_gpu_class: [
      { gpu_class: "cpu", p50_ms: 2_410, completed: 431 },
      { gpu_class: "A40", p50_ms: 380, completed: 69 },
    ],
  },
  example: { input: body, output: null },
  snippets: {
    curl:
      `curl -X POST ${BASE}/v1/background-removal -H "x-api-key: $API_KEY" -H "content-type: application/json" \\\n` +
      `  -d '${JSON.stringify(body)}' -o output.png`,
    javascript:
      `const res = await fetch("${BASE}/v1/background-removal", {\n  method: "POST",\n` +
      `  headers: { "x-api-key": process.env.API_KEY, "content-type": "application/json" },\n` +
      `  body: JSON.stringify(${JSON.stringify(body)}),\n});`,
    python:
      `import os, requests\nres = requests.post("${BASE}/v1/background-removal", ` +
      `headers={"x-api-key": os.environ["API_KEY"]}, json=${JSON.stringify(body)})`,
  },
  comfyui: null,
};

/** A ComfyUI API-format export: SDXL img2img reading an uploaded image. */
const comfyWorkflow = {
  "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "juggernautXL_v9.safetensors" } },
  "2": { class_type: "LoadImage", inputs: { image: "example.png" } },
  "3": { class_type: "VAEEncode", inputs: { pixels: ["2", 0], vae: ["1", 2] } },
  "4": { class_type: "CLIPTextEncode", inputs: { text: "a castle", clip: ["1", 1] } },
  "5": { class_type: "CLIPTextEncode", inputs: { text: "blurry", clip: ["1", 1] } },
  "6": {
    class_type: "KSampler",
    inputs: {
      seed: 5,
      steps: 25,
      cfg: 6,
      sampler_name: "euler",
      scheduler: "normal",
      denoise: 0.7,
      model: ["1", 0],
      positive: ["4", 0],
      negative: ["5", 0],
      latent_image: ["3", 0],
    },
  },
  "7": { class_type: "VAEDecode", inputs: { samples: ["6", 0], vae: ["1", 2] } },
  "8": { class_type: "SaveImage", inputs: { filename_prefix: "restyle", images: ["7", 0] } },
};
const mapping = {
  image: { node: "2", input: "image", type: "image" },
  prompt: { node: "4", input: "text", type: "string" },
  steps: { node: "6", input: "steps", type: "integer", default: 25, minimum: 1, maximum: 60 },
  strength: { node: "6", input: "denoise", type: "number", default: 0.7 },
};
const createCustom = {
  slug: "my-restyler",
  name: "My restyler",
  workflow: comfyWorkflow,
  inputs: mapping,
  gpu_classes: ["L40S", "H100"],
};
const customModel = {
  slug: "my-restyler",
  name: "My restyler",
  category: "custom",
  description: "Private ComfyUI workflow My restyler",
  input_schema: {
    type: "object",
    properties: {
      image: { type: "string", minLength: 1, format: "image" },
      prompt: { type: "string" },
      steps: { type: "integer", minimum: 1, maximum: 60, default: 25 },
      strength: { type: "number", default: 0.7 },
      base64: { type: "boolean", default: false, description: "Return the output inline as base64 JSON" },
    },
    required: ["image", "prompt"],
    additionalProperties: false,
  },
  output_type: "image",
  runtime: "comfyui",
  gpu_classes: ["L40S", "H100"],
  pricing: { kind: "per_gpu_second", micro_usd_per_second: { L40S: 600, H100: 1_400 } },
  free: false,
  max_execution_s: 300,
  private: true,
  workflow: comfyWorkflow,
  inputs: mapping,
  requires: { node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] },
  created_at: "2026-12-01T11:52:40.711Z",
};

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

export const PRODUCT_EXAMPLES: Record<string, OperationExample> = {
  "get /v1/models/{model}": { params: { model: "background-removal" }, responses: { 200: modelPage } },
  // ---- private ComfyUI models ----
  "post /v1/custom-models": { request: createCustom, responses: { 201: customModel } },
  "get /v1/custom-models": { responses: { 200: { data: [customModel] } } },
  "get /v1/custom-models/{slug}": { params: { slug: "my-restyler" }, responses: { 200: customModel } },
  "delete /v1/custom-models/{slug}": {
    params: { slug: "my-restyler" },
    responses: { 200: { slug: "my-restyler", deleted: true } },
  },
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
