/**
 * Example requests and responses for every operation of the OpenAPI document, keyed by `"<method> <path>"`, kept here
 * in one place rather than in each route file. src/openapi.ts attaches them to the document (validating each against
 * its operation's zod schema and dropping one that does not match) and derives curl and Python samples from them;
 * test/worker/docs.test.ts fails when an operation has none.
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
const ID = "req_0QhZk3a1f9JmXbT4cLw8rNpY";
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
  cost: 1012,
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
  name: "Background removal (ISNet)",
  category: "image-editing",
  description: "Cuts the subject out of a photo and returns a PNG with a transparent background.",
  input_schema: { type: "object", properties: { image: { type: "string", format: "image" } }, required: ["image"] },
  output_type: "image",
  runtime: "builtin",
  gpu_classes: ["cpu", "A40", "L40S"],
  pricing: { kind: "per_gpu_second", micro_usd_per_second: { cpu: 100, A40: 550, L40S: 800 } },
  free: true,
  max_execution_s: 120,
};
const leased = {
  job_id: ID,
  lease_id: "8f14e45f-ceea-467a-9575-2b8a0a5d3c11",
  epoch: 1,
  attempt: 1,
  model: "background-removal",
  runtime: "builtin",
  input: { image: `/agent/v1/jobs/${ID}/inputs/image`, model: "medium", format: "png" },
  lease_expires_at: 1764590430000,
  execution_timeout_ms: 120000,
};
const lease = { lease_id: leased.lease_id, epoch: 1 };
const agentPath = { id: ID };
const delivery = {
  id: "whd_0QhZl0b2Tq8wMx3K",
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
        `data: {"request_id":"${ID}","status":"COMPLETED","output":[…],"metrics":{…},"cost":1012,…}`,
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
  "get /v1/models/{model}": { params: { model: "background-removal" }, responses: { 200: model } },
  "get /v1/account": {
    responses: {
      200: {
        id: "acct_0QhYw2m8",
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
            cost: 1012,
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
  // ---- admin ----
  "post /admin/v1/accounts": {
    request: { email: "ada@example.com", plan: "pro" },
    responses: { 201: { id: "acct_0QhYw2m8" } },
  },
  "post /admin/v1/accounts/{id}/keys": {
    params: { id: "acct_0QhYw2m8" },
    request: { name: "production" },
    responses: { 201: { id: "key_0QhYw3p1", key: "sk_live_3q2-7wU0oPj5rYc9XaLzKf1bVhTnMd8e", prefix: "sk_live_3q2-" } },
  },
  "delete /admin/v1/keys/{id}": {
    params: { id: "key_0QhYw3p1" },
    responses: { 200: { id: "key_0QhYw3p1", revoked: true } },
  },
  "post /admin/v1/models/sync": { responses: { 200: { models: 5 } } },
  "post /admin/v1/providers": { request: { name: "gpu-host-co" }, responses: { 201: { id: "prov_0QhYx0a4" } } },
  "post /admin/v1/providers/{id}/agent-tokens": {
    params: { id: "prov_0QhYx0a4" },
    responses: { 201: { id: "tok_0QhYx1c7", token: "agt_Zp4mV1s8KcQ0yWb3nLx6Rj2tHf9dGe5u", prefix: "agt_Zp4mV1" } },
  },
  "delete /admin/v1/agent-tokens/{id}": {
    params: { id: "tok_0QhYx1c7" },
    responses: { 200: { id: "tok_0QhYx1c7", revoked: true } },
  },
  "post /admin/v1/accounts/{id}/credits": {
    params: { id: "acct_0QhYw2m8" },
    request: { amount: 25_000_000, reason: "invoice 2026-117 paid", idempotency_key: "inv-2026-117" },
    responses: {
      200: { op_id: "credit:inv-2026-117", kind: "credit", amount: 25_000_000, available: 62_010_000, replayed: false },
    },
  },
  "post /admin/v1/accounts/{id}/debits": {
    params: { id: "acct_0QhYw2m8" },
    request: { amount: 2_000_000, reason: "chargeback 88", idempotency_key: "cb-88" },
    responses: {
      200: { op_id: "debit:cb-88", kind: "debit", amount: 2_000_000, available: 35_010_000, replayed: false },
    },
  },
  "put /admin/v1/accounts/{id}/plan": {
    params: { id: "acct_0QhYw2m8" },
    request: { plan: "enterprise", limits: { rpm: 3000, in_flight: 250 } },
    responses: {
      200: {
        id: "acct_0QhYw2m8",
        plan: "enterprise",
        limits: { ...PLAN_DEFAULTS.enterprise, rpm: 3000, in_flight: 250 },
      },
    },
  },
  // ---- agent ----
  "post /agent/v1/register": {
    request: {
      name: "host-01",
      version: "0.1.0",
      gpu_class: "A40",
      runtimes: ["builtin", "comfyui"],
      models: ["background-removal", "sdxl1.0-txt2img"],
      slots: 2,
      gpus: [{ index: 0, uuid: "GPU-5f1c0e2a-8f5b-4c1e-9d43-0b7e1a2c3d4e", name: "NVIDIA A40", memory_mib: 46068 }],
      driver: "550.54.15",
      cuda: "12.4",
    },
    responses: {
      200: {
        agent_id: "agt_0QhYy4k2",
        pool: "pool:public",
        heartbeat_interval_ms: 10000,
        lease_ttl_ms: 30000,
        max_lease_wait_ms: 25000,
      },
    },
  },
  "post /agent/v1/lease": {
    request: {
      agent_id: "agt_0QhYy4k2",
      slots_free: 1,
      loaded_models: ["background-removal"],
      cached_models: [],
      wait_ms: 20000,
    },
    responses: { 200: { jobs: [leased] } },
  },
  "post /agent/v1/heartbeat": {
    request: { agent_id: "agt_0QhYy4k2", leases: [{ job_id: ID, lease_id: leased.lease_id }] },
    responses: { 200: { extended: [{ job_id: ID, lease_expires_at: 1764590460000 }], cancel: [], drain: false } },
  },
  "post /agent/v1/deregister": { request: { agent_id: "agt_0QhYy4k2" }, responses: { 200: { released: 0 } } },
  "get /agent/v1/jobs/{id}/inputs/{name}": {
    params: { id: ID, name: "image" },
    headers: { "x-agent-id": "agt_0QhYy4k2", "x-lease-id": leased.lease_id },
    responses: {},
  },
  "put /agent/v1/jobs/{id}/outputs/{name}": {
    params: { id: ID, name: "output.png" },
    headers: { "x-agent-id": "agt_0QhYy4k2", "x-lease-id": leased.lease_id },
    rawBody: { contentType: "image/png", file: "output.png" },
    responses: { 200: { name: "output.png", content_type: "image/png", size: 482113 } },
  },
  "post /agent/v1/jobs/{id}/complete": {
    params: agentPath,
    headers: { "x-agent-id": "agt_0QhYy4k2" },
    request: {
      ...lease,
      outputs: [{ name: "output.png", content_type: "image/png", size: 482113 }],
      metrics: { gpu_ms: 1840, load_ms: 0, gpu_class: "A40", gpu_count: 1 },
    },
    responses: { 200: { job_id: ID, status: "COMPLETED" } },
  },
  "post /agent/v1/jobs/{id}/fail": {
    params: agentPath,
    headers: { "x-agent-id": "agt_0QhYy4k2" },
    request: { ...lease, kind: "oom", message: "CUDA out of memory (tried to allocate 2.00 GiB)", retryable: true },
    responses: { 200: { job_id: ID, status: "QUEUED" } },
  },
  "post /agent/v1/jobs/{id}/release": {
    params: agentPath,
    headers: { "x-agent-id": "agt_0QhYy4k2" },
    request: { ...lease, reason: "draining" },
    responses: { 200: { job_id: ID, status: "QUEUED" } },
  },
  // ---- benchmarks (outside production only) ----
  "post /_bench/plain": { responses: { 200: { ok: true } } },
  "post /_bench/rpc": { responses: { 200: { ok: true } } },
  "post /_bench/ledger": { responses: { 200: { ok: true, charge: 1012 } } },
  "post /_bench/hold": { responses: { 200: { id: "bench_0QhZk3a1f9JmXbT4", held: 66000 } } },
  "post /_bench/settle": { responses: { 200: { ok: true, charge: 1012 } } },
  "get /_bench/ledger-stats": { responses: { 200: { commits: 120, operations: 300 } } },
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
  413: { code: "payload_too_large", message: "request body exceeds 20971520 bytes", details: { max_bytes: 20971520 } },
  415: { code: "unsupported_media_type", message: "send application/json or an image" },
  422: { code: "unprocessable", message: "the image could not be decoded" },
  429: { code: "rate_limited", message: "rate limit exceeded: retry after 12 s" },
  500: { code: "internal", message: "internal error" },
  503: { code: "no_capacity", message: "no agent serving sdxl1.0-txt2img connected before the request's TTL" },
  504: { code: "timeout", message: "execution exceeded 120000 ms" },
};
