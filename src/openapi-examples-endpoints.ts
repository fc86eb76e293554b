/** Example requests and responses of the dedicated endpoints' operations (see src/openapi-examples.ts). */
import { ID, type OperationExample } from "./openapi-examples.ts";

const EP = "ep_0QhZk3a1f9JmXbT4cLw8rNpY";
const BASE = "https://api.example.com";
const view = {
  id: EP,
  name: "moderation",
  model: "nsfw-detector",
  gpu_class: "L40S",
  state: "running",
  price_per_hour: 2_160_000,
  min_instances: 1,
  max_instances: 3,
  idle_timeout_s: 300,
  scale_up_queue_delay_s: 10,
  init_timeout_s: 900,
  max_hourly_spend: 6_480_000,
  instances: [
    {
      id: "inst_5b0c1e9a7f3d2c41",
      agent_id: "agt_0QhYy4k2",
      state: "busy",
      since: "2026-12-01T12:04:10.000Z",
      billed_s: 3250,
    },
    {
      id: "inst_9d2e4f6a8b1c3e50",
      agent_id: "agt_0QhYz7m1",
      state: "loading",
      since: "2026-12-01T12:58:02.000Z",
      billed_s: 0,
    },
  ],
  queue_depth: 4,
  spend_rate_per_hour: 2_160_000,
  held: 1_080_000,
  runway_s: 71_400,
  spent: 1_920_000,
  written_off: 0,
  billed_s: 3250,
  created_at: "2026-12-01T12:00:00.000Z",
  run_url: `${BASE}/v1/endpoints/${EP}/run`,
};
const knobs = {
  min_instances: 1,
  max_instances: 3,
  idle_timeout_s: 300,
  scale_up_queue_delay_s: 10,
  init_timeout_s: 900,
  max_hourly_spend: 6_480_000,
};

export const ENDPOINT_EXAMPLES: Record<string, OperationExample> = {
  "post /v1/endpoints": {
    request: { name: "moderation", model: "nsfw-detector", gpu_class: "L40S", ...knobs },
    responses: {
      201: {
        ...view,
        state: "provisioning",
        instances: [{ ...view.instances[1], state: "reserving" }],
        queue_depth: 0,
        spend_rate_per_hour: 0,
        held: 540_000,
        runway_s: null,
        spent: 0,
        billed_s: 0,
        hold_required: 540_000,
      },
    },
  },
  "get /v1/endpoints": { responses: { 200: { data: [view] } } },
  "get /v1/endpoints/{id}": { params: { id: EP }, responses: { 200: view } },
  "patch /v1/endpoints/{id}": {
    params: { id: EP },
    request: { min_instances: 2 },
    responses: { 200: { ...view, min_instances: 2 } },
  },
  "post /v1/endpoints/{id}/pause": {
    params: { id: EP },
    responses: {
      200: {
        ...view,
        state: "paused",
        instances: view.instances.map((i) => ({ ...i, state: "released" })),
        queue_depth: 0,
        spend_rate_per_hour: 0,
        held: 0,
        runway_s: null,
      },
    },
  },
  "post /v1/endpoints/{id}/resume": { params: { id: EP }, responses: { 200: { ...view, state: "provisioning" } } },
  "delete /v1/endpoints/{id}": {
    params: { id: EP },
    responses: {
      200: {
        ...view,
        state: "deleted",
        instances: view.instances.map((i) => ({ ...i, state: "released" })),
        queue_depth: 0,
        spend_rate_per_hour: 0,
        held: 0,
        runway_s: null,
      },
    },
  },
  "post /v1/endpoints/{id}/run": {
    params: { id: EP },
    headers: { accept: "application/json" },
    request: { image: "https://example.com/photo.jpg" },
    responses: {
      200: {
        request_id: ID,
        status: "COMPLETED",
        output: null,
        output_json: { top: "Neutral", predictions: [{ label: "Neutral", score: 0.97 }] },
        metrics: { gpu_ms: 41, load_ms: 0, gpu_class: "L40S", queue_ms: 3, busy_gpu_ms: null, attempts: 1 },
        cost: 0,
      },
      // Waking from zero outlasted Prefer: wait: the request waits in the endpoint's queue.
      202: {
        request_id: ID,
        model: "nsfw-detector",
        status: "QUEUED",
        queue_position: 0,
        capacity: "available",
        created_at: "2026-12-01T12:00:00.000Z",
        started_at: null,
        completed_at: null,
        metrics: { gpu_ms: null, load_ms: null, gpu_class: null, queue_ms: null, busy_gpu_ms: null, attempts: 0 },
        cost: null,
        error: null,
        status_url: `${BASE}/v2/requests/${ID}/status`,
        response_url: `${BASE}/v2/requests/${ID}`,
        cancel_url: `${BASE}/v2/requests/${ID}/cancel`,
      },
    },
  },
  "post /v2/endpoints/{id}/run": {
    params: { id: EP },
    request: { image: "https://example.com/photo.jpg", webhook: "https://example.com/hooks/inference" },
    responses: {
      202: {
        request_id: ID,
        status: "QUEUED",
        queue_position: 0,
        status_url: `${BASE}/v2/requests/${ID}/status`,
        response_url: `${BASE}/v2/requests/${ID}`,
        cancel_url: `${BASE}/v2/requests/${ID}/cancel`,
      },
    },
  },
  "post /agent/v1/dedicated/ready": {
    request: { agent_id: "agt_0QhYy4k2", endpoint_id: EP, epoch: 3 },
    responses: { 200: { ok: true } },
  },
};
