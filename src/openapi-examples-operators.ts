/** Examples of the operators' and agents' operations (admin, agent, benchmarks); see src/openapi-examples.ts. */
import { PLAN_DEFAULTS } from "../schemas/index.ts";
import { ID, type OperationExample } from "./openapi-examples.ts";

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
const provider = {
  id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X",
  name: "gpu-host-co",
  gpu_classes: ["A40", "L40S"],
  agents: [
    {
      id: "agent_0QhYy4k2Bd6fHj9KmN3pQr5S",
      name: "host-01",
      gpu_class: "A40",
      gpu_count: 1,
      registered_at: "2026-11-29T08:00:12.004Z",
      deregistered_at: null,
      rejected_completions: 0,
      input_rejections: 0,
    },
  ],
};

export const OPERATOR_EXAMPLES: Record<string, OperationExample> = {
  // ---- admin ----
  "post /admin/v1/accounts": {
    request: { email: "ada@example.com", plan: "pro" },
    responses: { 201: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" } },
  },
  "post /admin/v1/accounts/{id}/keys": {
    params: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" },
    request: { name: "production" },
    responses: {
      201: {
        id: "key_0QhYw3p1Gh7jKl9Mn2Pq4Rs6",
        key: "sk_live_3q2-7wU0oPj5rYc9XaLzKf1bVhTnMd8e",
        prefix: "sk_live_3q2-",
      },
    },
  },
  "delete /admin/v1/keys/{id}": {
    params: { id: "key_0QhYw3p1Gh7jKl9Mn2Pq4Rs6" },
    responses: { 200: { id: "key_0QhYw3p1Gh7jKl9Mn2Pq4Rs6", revoked: true } },
  },
  "post /admin/v1/models/sync": { responses: { 200: { models: 5 } } },
  "post /admin/v1/providers": {
    request: { name: "gpu-host-co" },
    responses: { 201: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" } },
  },
  "put /admin/v1/providers/{id}/email": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    request: { email: "ops@gpu-host.example" },
    responses: { 200: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X", name: "gpu-host-co", email: "ops@gpu-host.example" } },
  },
  "post /admin/v1/providers/{id}/agent-tokens": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    responses: {
      201: { id: "atok_0QhYx1c7Tu3vWx5Yz7Ab9Cd1", token: "agt_Zp4mV1s8KcQ0yWb3nLx6Rj2tHf9dGe5u", prefix: "agt_Zp4mV1" },
    },
  },
  "delete /admin/v1/agent-tokens/{id}": {
    params: { id: "atok_0QhYx1c7Tu3vWx5Yz7Ab9Cd1" },
    responses: { 200: { id: "atok_0QhYx1c7Tu3vWx5Yz7Ab9Cd1", revoked: true } },
  },
  "post /admin/v1/accounts/{id}/credits": {
    params: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" },
    request: { amount: 25_000_000, reason: "invoice 2026-117 paid", idempotency_key: "inv-2026-117" },
    responses: {
      200: { op_id: "credit:inv-2026-117", kind: "credit", amount: 25_000_000, available: 62_010_000, replayed: false },
    },
  },
  "post /admin/v1/accounts/{id}/debits": {
    params: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" },
    request: { amount: 2_000_000, reason: "chargeback 88", idempotency_key: "cb-88" },
    responses: {
      200: { op_id: "debit:cb-88", kind: "debit", amount: 2_000_000, available: 35_010_000, replayed: false },
    },
  },
  "put /admin/v1/accounts/{id}/plan": {
    params: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" },
    request: { plan: "enterprise", limits: { rpm: 3000, in_flight: 250 } },
    responses: {
      200: {
        id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3",
        plan: "enterprise",
        limits: { ...PLAN_DEFAULTS.enterprise, rpm: 3000, in_flight: 250 },
      },
    },
  },
  "put /admin/v1/providers/{id}/gpu-classes": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    request: { gpu_classes: ["A40", "L40S"] },
    responses: { 200: provider },
  },
  "get /admin/v1/providers/{id}": { params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" }, responses: { 200: provider } },
  "get /admin/v1/accounts/{id}/ledger": {
    params: { id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3" },
    responses: {
      200: {
        account_id: "acct_0QhYw2m8Rt4uVx6Yz8Ab1Cd3",
        deposits: 64_000_000,
        spent: 1_737_800,
        held: 252_200,
        available: 62_010_000,
        in_flight: 1,
        holds: [
          { status: "pending", count: 1, amount: 252_200, charged: 0 },
          { status: "settled", count: 1_702, amount: 9_418_000, charged: 1_737_800 },
          { status: "voided", count: 12, amount: 66_000, charged: 0 },
        ],
      },
    },
  },
  "post /admin/v1/providers/{id}/keys": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    responses: {
      201: {
        id: "pkey_0QhYx2d9Ef4gHi6JkL8mNo0P",
        token: "pk_KT5QE37CiCx3-qp9FzPYohfN_72h4-HrPT_ncFkUDaw",
        prefix: "pk_KT5QE37",
      },
    },
  },
  "delete /admin/v1/provider-keys/{id}": {
    params: { id: "pkey_0QhYx2d9Ef4gHi6JkL8mNo0P" },
    responses: { 200: { id: "pkey_0QhYx2d9Ef4gHi6JkL8mNo0P", revoked: true } },
  },
  "put /admin/v1/providers/{id}/revenue-share": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    request: { revenue_share_bp: 8_000 },
    responses: { 200: { revenue_share_bp: 8_000 } },
  },
  "post /admin/v1/providers/{id}/payouts": {
    params: { id: "prov_0QhYx0a4Lm7nQp2RsT5uVw8X" },
    request: { amount: 1_000_000, idempotency_key: "wire-2026-12-001", reference: "wire 2026-12-001" },
    responses: { 200: { op_id: "payout:wire-2026-12-001", amount: 1_000_000, balance: 654_400, replayed: false } },
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
        agent_id: "agent_0QhYy4k2Bd6fHj9KmN3pQr5S",
        pool: "pool:public",
        heartbeat_interval_ms: 10000,
        lease_ttl_ms: 30000,
        max_lease_wait_ms: 25000,
      },
    },
  },
  "post /agent/v1/lease": {
    request: {
      agent_id: "agent_0QhYy4k2Bd6fHj9KmN3pQr5S",
      slots_free: 1,
      loaded_models: ["background-removal"],
      cached_models: [],
      wait_ms: 20000,
    },
    responses: { 200: { jobs: [leased] } },
  },
  "post /agent/v1/heartbeat": {
    request: { agent_id: "agent_0QhYy4k2Bd6fHj9KmN3pQr5S", leases: [{ job_id: ID, lease_id: leased.lease_id }] },
    responses: { 200: { extended: [{ job_id: ID, lease_expires_at: 1764590460000 }], cancel: [], drain: false } },
  },
  "post /agent/v1/deregister": {
    request: { agent_id: "agent_0QhYy4k2Bd6fHj9KmN3pQr5S" },
    responses: { 200: { released: 0 } },
  },
  "get /agent/v1/jobs/{id}/inputs/{name}": {
    params: { id: ID, name: "image" },
    headers: { "x-agent-id": "agent_0QhYy4k2Bd6fHj9KmN3pQr5S", "x-lease-id": leased.lease_id },
    responses: {},
  },
  "put /agent/v1/jobs/{id}/outputs/{name}": {
    params: { id: ID, name: "output.png" },
    headers: { "x-agent-id": "agent_0QhYy4k2Bd6fHj9KmN3pQr5S", "x-lease-id": leased.lease_id },
    rawBody: { contentType: "image/png", file: "output.png" },
    responses: { 200: { name: "output.png", content_type: "image/png", size: 482113 } },
  },
  "post /agent/v1/jobs/{id}/complete": {
    params: agentPath,
    headers: { "x-agent-id": "agent_0QhYy4k2Bd6fHj9KmN3pQr5S" },
    request: {
      ...lease,
      outputs: [{ name: "output.png", content_type: "image/png", size: 482113 }],
      metrics: { gpu_ms: 1840, load_ms: 0, gpu_class: "A40", gpu_count: 1 },
    },
    responses: { 200: { job_id: ID, status: "COMPLETED" } },
  },
  "post /agent/v1/jobs/{id}/fail": {
    params: agentPath,
    headers: { "x-agent-id": "agent_0QhYy4k2Bd6fHj9KmN3pQr5S" },
    request: { ...lease, kind: "oom", message: "CUDA out of memory (tried to allocate 2.00 GiB)", retryable: true },
    responses: { 200: { job_id: ID, status: "QUEUED" } },
  },
  "post /agent/v1/jobs/{id}/release": {
    params: agentPath,
    headers: { "x-agent-id": "agent_0QhYy4k2Bd6fHj9KmN3pQr5S" },
    request: { ...lease, reason: "draining" },
    responses: { 200: { job_id: ID, status: "QUEUED" } },
  },
  // ---- benchmarks (outside production only) ----
  "post /_bench/plain": { responses: { 200: { ok: true } } },
  "post /_bench/ledger": { responses: { 200: { ok: true, charge: 1012 } } },
  "post /_bench/hold": { responses: { 200: { id: "bench_0QhZk3a1f9JmXbT4cLw8rNpY", held: 66000 } } },
  "post /_bench/settle": { request: { id: "bench_01jd6v3q8x2m" }, responses: { 200: { ok: true, charge: 1012 } } },
};
