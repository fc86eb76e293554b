import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { DedicatedAssignment, EndpointView, LeasedJob } from "../../schemas/index.ts";
import { billing } from "../../src/services/billing.ts";
import type { TestEndpoint } from "./support/test-endpoint.ts";
import { adminHeaders, json, newAccount, newAgent, syncCatalog, type FakeAgent } from "./helpers.ts";

export const MODEL = "nsfw-detector";
/** nsfw-detector's cpu rate (100 micro-USD/s) × 3600 */
export const CPU_PRICE = 360_000;

/**
 * vitest.config.ts binds ENDPOINT to TestEndpoint, whose clock moves only with `advance`. The binding keeps the
 * production type in Env (a namespace's type is invariant, so setup.ts cannot narrow it); this is the one cast.
 */
const endpoints = env.ENDPOINT as unknown as DurableObjectNamespace<TestEndpoint>;
export const epStub = (id: string) => endpoints.get(endpoints.idFromName(id));

export async function fundedAccount(amount = 100_000_000) {
  await syncCatalog();
  const a = await newAccount("enterprise");
  if (amount > 0) {
    const r = await json(
      "POST",
      `/admin/v1/accounts/${a.id}/credits`,
      { amount, reason: "t", idempotency_key: `fund-${a.id}` },
      adminHeaders,
    );
    expect(r.status).toBe(200);
  }
  return { ...a, auth: { authorization: `Bearer ${a.key}` } };
}

export async function balances(accountId: string) {
  const s = await billing(env).summary(accountId, "enterprise");
  expect(s.deposits).toBe(s.available + s.held + s.spent);
  expect(s.available).toBeGreaterThanOrEqual(0);
  return s;
}

export interface DedicatedAgent extends FakeAgent {
  /** one dedicated poll: the lease reply's jobs and assignment */
  poll(slots?: number): Promise<{ jobs: LeasedJob[]; assignment?: DedicatedAssignment }>;
  /** polls, and reports ready when it sees a new assignment (as gpu-agent does once the model is loaded) */
  serve(slots?: number): Promise<{ jobs: LeasedJob[]; assignment?: DedicatedAssignment }>;
  complete(job: LeasedJob): Promise<Response>;
  heartbeat(leases: { job_id: string; lease_id: string }[]): Promise<Response>;
}

export async function dedicatedAgent(models = [MODEL], gpuClass = "cpu"): Promise<DedicatedAgent> {
  const a = await newAgent(models, gpuClass);
  const auth = { authorization: a.headers.authorization! };
  let readyFor: string | null = null;
  const poll = async (slots = 1) => {
    const res = await json(
      "POST",
      "/agent/v1/lease",
      { agent_id: a.id, slots_free: slots, wait_ms: 0, dedicated: true },
      auth,
    );
    if (res.status === 204) return { jobs: [] };
    expect(res.status).toBe(200);
    return (await res.json()) as { jobs: LeasedJob[]; assignment?: DedicatedAssignment };
  };
  const d: DedicatedAgent = {
    ...a,
    poll,
    async serve(slots = 1) {
      const r = await poll(slots);
      const key = r.assignment ? `${r.assignment.endpoint_id}:${r.assignment.epoch}` : null;
      if (r.assignment && key !== readyFor) {
        const ok = await json(
          "POST",
          "/agent/v1/dedicated/ready",
          { agent_id: a.id, endpoint_id: r.assignment.endpoint_id, epoch: r.assignment.epoch },
          auth,
        );
        expect(ok.status).toBe(200);
        readyFor = key;
      }
      return r;
    },
    complete: (job) =>
      json(
        "POST",
        `/agent/v1/jobs/${job.job_id}/complete`,
        {
          lease_id: job.lease_id,
          epoch: job.epoch,
          outputs: [],
          output_json: { label: "Neutral" },
          metrics: { gpu_ms: 40, load_ms: 0, gpu_class: "cpu" },
        },
        a.headers,
      ),
    heartbeat: (leases) => json("POST", "/agent/v1/heartbeat", { agent_id: a.id, leases, dedicated: true }, auth),
  };
  await poll();
  return d;
}

export async function createEndpoint(auth: Record<string, string>, body: Record<string, unknown>) {
  const r = await json(
    "POST",
    "/v1/endpoints",
    { name: `ep-${crypto.randomUUID().slice(0, 8)}`, model: MODEL, gpu_class: "cpu", ...body },
    auth,
  );
  return {
    status: r.status,
    body: (await r.json()) as EndpointView & { hold_required: number; error?: { code: string } },
  };
}

export async function getEndpoint(auth: Record<string, string>, id: string): Promise<EndpointView> {
  const r = await json("GET", `/v1/endpoints/${id}`, undefined, auth);
  expect(r.status).toBe(200);
  return (await r.json()) as EndpointView;
}

/** Simulated time: `seconds` of the endpoint's clock in 30-s steps, the agents polling (their heartbeat) between steps. */
export async function run(id: string, seconds: number, agents: DedicatedAgent[]) {
  for (let t = 0; t < seconds; t += 30) {
    await epStub(id).advance(Math.min(30, seconds - t) * 1000);
    for (const a of agents) await a.serve();
  }
}

export async function resetReservations() {
  await env.DB.prepare("DELETE FROM dedicated_agents").run();
}
