/**
 * Example requests and responses for every operation of the OpenAPI document, keyed by `"<method> <path>"`, kept here
 * (the public API) and in src/openapi-examples-operators.ts (admin, agent, benchmarks), -products.ts (model page,
 * custom models, billing, provider) and -workflows.ts, rather than in each route file.
 * src/openapi-samples.ts attaches them to the document (validating each against its operation's zod schema and
 * dropping one that does not match) and derives curl and Python samples from them; test/worker/docs.test.ts fails
 * when an operation has none.
 */
import { PLAN_DEFAULTS } from "../schemas/index.ts";

export interface OperationExample {
  /** values for the path's `{params}` */
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** extra request headers the samples send (auth is added from the operation) */
  headers?: Record<string, string>;
  /** a JSON request body */
  request?: unknown;
  /** a non-JSON body, as curl sends it (`--data-binary @photo.jpg`) */
  rawBody?: { contentType: string; file: string };
  /** example bodies by status; a string is shown as-is for text responses */
  responses: Record<number, unknown>;
}

const BASE = "https://api.example.com";
export const ID = "req_0QhZk3a1f9JmXbT4cLw8rNpY";
const urls = (id = ID) => ({
  status_url: `${BASE}/v2/requests/${id}/status`,
  response_url: `${BASE}/v2/requests/${id}`,
  cancel_url: `${BASE}/v2/requests/${id}/cancel`,
});
const metrics = { gpu_ms: 1840, load_ms: 0, gpu_class: "A40", queue_ms: 212, busy_gpu_ms: 1710, attempts: 1 } as const;
const queuedMetrics = { gpu_ms: null, load_ms: null, gpu_class: null, queue_ms: null, busy_gpu_ms: null, attempts: 0 };
const times = {
  created_at: "2026-12-01T12:00:00.000Z",
  started_at: "2026-12-01T12:00:00.212Z",
  completed_at: "2026-12-01T12:00:02.101Z",
};
const output = {
  name: "output.png",
  content_type: "image/png",
  size: 482113,
  url: `${BASE}/v2/requests/${ID}/outputs/output.png?expires=1764594000&sig=9f2c41d0`,
  expires_at: "2026-12-01T13:00:00.000Z",
};
const completed = {
  request_id: ID,
  model: "background-removal",
  status: "COMPLETED",
  queue_position: null,
  capacity: null,
  ...times,
  metrics,
  cost: 736,
  error: null,
  ...urls(),
};
const queued = {
  request_id: ID,
  model: "background-removal",
  status: "QUEUED",
  queue_position: 3,
  capacity: "available",
  created_at: times.created_at,
  started_at: null,
  completed_at: null,
  metrics: queuedMetrics,
  cost: null,
  error: null,
  ...urls(),
};
const model = {
  slug: "background-removal",
  name: "Background Removal (ISNet)",
  category: "background-removal",
  description: "Cuts the subject out of a photo and returns a PNG with a transparent background.",
  input_schema: { type: "object", properties: { image: { type: "string", format: "image" } }, required: ["image"] },
  output_type: "image",
  runtime: "builtin",
  gpu_classes: ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
  pricing: {
    kind: "per_gpu_second",
    micro_usd_per_second: { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1_000, H100: 1_400 },
  },
  free: true,
  max_execution_s: 120,
};
const delivery = {
  id: "whd_0QhZl0b2Tq8wMx3KpR6sT9uV",
  request_id: ID,
  webhook_id: `wh_${ID}:finished`,
  url: "https://example.com/hooks/inference",
  event: "request.finished",
  status: "retrying",
  attempts: 2,
  last_status_code: 503,
  next_retry_at: "2026-12-01T12:00:47.380Z",
  created_at: "2026-12-01T12:00:02.150Z",
  updated_at: "2026-12-01T12:00:27.380Z",
  attempt_log: [
    {
      attempt: 1,
      redelivery: false,
      at: "2026-12-01T12:00:02.150Z",
      status_code: null,
      latency_ms: 15000,
      error: "TimeoutError: The operation was aborted due to timeout",
      next_retry_at: "2026-12-01T12:00:27.150Z",
    },
    {
      attempt: 2,
      redelivery: false,
      at: "2026-12-01T12:00:27.160Z",
      status_code: 503,
      latency_ms: 220,
      error: "receiver answered 503",
      next_retry_at: "2026-12-01T12:00:47.380Z",
    },
  ],
};

export const EXAMPLES: Record<string, OperationExample> = {
  // ---- inference ----
  "post /v1/{model}": {
    params: { model: "background-removal" },
    headers: { prefer: "wait=60" },
    request: { image: "https://example.com/photo.jpg", model: "medium", format: "png" },
    responses: { 202: queued },
  },
  "post /v2/{model}": {
    params: { model: "nsfw-detector" },
    headers: { "idempotency-key": "order-1234" },
    request: { image: "https://example.com/photo.jpg", webhook: "https://example.com/hooks/inference" },
    responses: { 202: { request_id: ID, status: "QUEUED", queue_position: 0, ...urls() } },
  },
  // ---- requests ----
  "get /v2/requests/{id}/status": { params: { id: ID }, responses: { 200: completed } },
  "get /v2/requests/{id}": {
    params: { id: ID },
    responses: { 200: { ...completed, output: [output], output_json: null } },
  },
  "get /v2/requests/{id}/events": {
    params: { id: ID },
    headers: { accept: "text/event-stream", "last-event-id": "2" },
    responses: {
      200: [
        "retry: 1000",
        "",
        "id: 3",
        "event: progress",
        `data: {"request_id":"${ID}","step":12,"total":30,"percent":40,"at":"2026-12-01T12:00:01.020Z"}`,
        "",
        "id: 4",
        "event: progress",
        `data: {"request_id":"${ID}","step":30,"total":30,"percent":100,"at":"2026-12-01T12:00:01.980Z"}`,
        "",
        "id: 5",
        "event: completed",
        `data: {"request_id":"${ID}","status":"COMPLETED","output":[…],"metrics":{…},"cost":736,…}`,
        "",
      ].join("\n"),
    },
  },
  "post /v2/requests/{id}/cancel": {
    params: { id: ID },
    responses: { 200: { request_id: ID, status: "CANCELLED", outcome: "cancelled" } },
  },
  "get /v2/requests/{id}/outputs/{name}": {
    params: { id: ID, name: "output.png" },
    query: { expires: "1764594000", sig: "9f2c41d0" },
    responses: {},
  },
  // ---- models, account ----
  "get /v1/models": { responses: { 200: { data: [model] } } },
  "get /v1/account": {
    responses: {
      200: {
        id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3",
        plan: "pro",
        limits: PLAN_DEFAULTS.pro,
        balance: 37_250_000,
        held: 240_000,
        available: 37_010_000,
        spent: 1_750_000,
        in_flight: 1,
        requests_today: 212,
        total_requests: 4810,
        daily_quota: { used: 212, limit: null, resets_at: "2026-12-02T00:00:00.000Z" },
      },
    },
  },
  "get /v1/get-user-credits": {
    responses: { 200: { remaining_credits: 37.01, used_credits: 1.75, held_credits: 0.24, plan: "pro" } },
  },
  "get /v1/usage": {
    query: { limit: "2" },
    responses: {
      200: {
        data: [
          {
            request_id: ID,
            model: "background-removal",
            status: "COMPLETED",
            gpu_seconds: 1.84,
            gpu_class: "A40",
            cost: 736,
            created_at: times.created_at,
            completed_at: times.completed_at,
          },
          {
            request_id: "req_0QhZj9Xq4bLmT2cVw7rNpYe5",
            model: "nsfw-detector",
            status: "FAILED",
            gpu_seconds: null,
            gpu_class: null,
            cost: 0,
            created_at: "2026-12-01T11:59:41.000Z",
            completed_at: "2026-12-01T11:59:41.380Z",
          },
        ],
        next_cursor: "MTc2NDU5MDM4MTAwMHxyZXFfMFFoWmo5WHE0Yk",
      },
    },
  },
  // ---- webhooks ----
  "get /v1/webhooks/deliveries": {
    query: { request_id: ID, status: "retrying" },
    responses: { 200: { data: [delivery], next_cursor: null } },
  },
  "post /v1/webhooks/deliveries/{id}/redeliver": {
    params: { id: delivery.id },
    responses: { 202: { id: delivery.id, webhook_id: delivery.webhook_id, status: "pending" } },
  },
  "get /v1/webhooks/secret": {
    responses: { 200: { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", previous_secret_expires_at: null } },
  },
  "post /v1/webhooks/secret/rotate": {
    request: { overlap_seconds: 86400 },
    responses: {
      200: { secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", previous_secret_expires_at: "2026-12-02T12:00:00.000Z" },
    },
  },
  // ---- system ----
  "get /health": { responses: { 200: { status: "ok", version: "0.1.0", time: "2026-12-01T12:00:00.000Z" } } },
  "get /openapi.json": {
    responses: { 200: { openapi: "3.1.0", info: { title: "Edge Inference API", version: "1.0.0" }, paths: {} } },
  },
  "get /docs": { responses: { 200: "<!doctype html><html>… Redoc renders /openapi.json …</html>" } },
};

/** One example error per status, for the error responses every operation lists. */
export const ERROR_EXAMPLES: Record<number, { code: string; message: string; details?: unknown }> = {
  400: {
    code: "invalid_input",
    message: "input failed validation",
    details: {
      fields: [{ path: "image", message: "Invalid input: expected string, received undefined", code: "invalid_type" }],
    },
  },
  401: { code: "unauthenticated", message: "missing API key: send x-api-key or Authorization: Bearer" },
  402: { code: "insufficient_credits", message: "this request needs 66000 micro-USD held; 1200 available" },
  403: { code: "forbidden", message: "the free plan can call free models only" },
  404: { code: "not_found", message: "request not found" },
  409: { code: "conflict", message: "the request is in a state that does not allow this" },
  412: { code: "precondition_failed", message: "the draft changed since you read it", details: { etag: '"rev-3"' } },
  428: { code: "precondition_required", message: "send If-Match with the ETag of the draft you edited" },
  413: { code: "payload_too_large", message: "request body exceeds 20971520 bytes", details: { max_bytes: 20971520 } },
  415: { code: "unsupported_media_type", message: "send application/json or an image" },
  422: { code: "unprocessable", message: "the image could not be decoded" },
  429: { code: "rate_limited", message: "rate limit exceeded: retry after 12 s" },
  500: { code: "internal", message: "internal error" },
  503: { code: "no_capacity", message: "no agent serving sdxl1.0-txt2img connected before the request's TTL" },
  504: { code: "timeout", message: "execution exceeded 120000 ms" },
};
