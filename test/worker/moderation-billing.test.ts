import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { billing } from "../../src/services/billing.ts";
import { PNG_1x1, call, json, newAccount, newAgent, resetBroker, syncCatalog, type FakeAgent } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const ledgerOf = (id: string) => typedLedger(id);
const SDXL = "sdxl1.0-txt2img";
const H100_RATE = 1400; // micro-USD per GPU-second (models/sdxl1.0-txt2img/manifest.json)

async function account(key: string) {
  return (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    held: number;
    available: number;
    spent: number;
    in_flight: number;
  };
}

async function providerOf(agentId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT provider_id AS p FROM agents WHERE id = ?")
    .bind(agentId)
    .first<{ p: string }>();
  return row!.p;
}

const earnings = async (provider: string) =>
  (await ledgerOf(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER)).totals;

/** The fail call gpu-agent/src/job.ts makes when the classifier blocks an output (real classifier score shape). */
function blockedFail(job: { lease_id: string; epoch: number }, metrics: Record<string, unknown>) {
  return {
    lease_id: job.lease_id,
    epoch: job.epoch,
    kind: "content_moderated",
    retryable: false,
    message: "output blocked by moderation: output.png scored 0.9312 (threshold 0.5)",
    moderation: {
      policy: "block",
      threshold: 0.5,
      flagged: true,
      outputs: [
        {
          name: "output.png",
          nsfw_score: 0.9312,
          flagged: true,
          predictions: [
            { className: "Porn", probability: 0.8801 },
            { className: "Sexy", probability: 0.0511 },
            { className: "Neutral", probability: 0.0512 },
            { className: "Drawing", probability: 0.0176 },
          ],
        },
      ],
    },
    metrics,
  };
}

/** Polls the usage history until the events queue has moved the request to FAILED. */
async function failedRow(key: string, id: string) {
  type Row = { request_id: string; status: string; cost: number | null; error?: { kind: string; code: string } | null };
  for (let i = 0; i < 100; i++) {
    const usage = (await (await call("/v1/usage", { headers: { "x-api-key": key } })).json()) as { data: Row[] };
    const row = usage.data.find((r) => r.request_id === id);
    if (row?.status === "FAILED") return row;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("the request never showed as FAILED in /v1/usage");
}

async function sdxlJob(key: string, agent: FakeAgent) {
  const sub = await json("POST", `/v2/${SDXL}`, { prompt: "a lighthouse at dusk" }, { "x-api-key": key });
  expect(sub.status).toBe(202);
  const [job] = await agent.lease({ wait_ms: 3000 });
  expect(job!.moderation).toEqual({ policy: "block", threshold: 0.5 });
  return job!;
}

describe("a blocked output after valid work", () => {
  it("voids the caller's hold in full; the provider gets its share of the capped compute from the platform", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent([SDXL], "H100", ["comfyui"]);
    const provider = await providerOf(agent.id);
    const before = await account(a.key);
    const job = await sdxlJob(a.key, agent);
    // the broker's lease window must cover the claimed 100 ms, so the claim is billed as measured
    await new Promise((res) => setTimeout(res, 150));
    const metrics = { gpu_ms: 100, load_ms: 0, gpu_class: "H100", gpu_count: 1, moderation_ms: 37 };
    const f = await agent.post(`/agent/v1/jobs/${job.job_id}/fail`, blockedFail(job, metrics));
    expect(f.status).toBe(200);
    expect(await f.json()).toMatchObject({ status: "FAILED" });

    // the caller: nothing held, nothing spent, every micro-USD back
    const after = await account(a.key);
    expect(after).toMatchObject({ held: 0, in_flight: 0, spent: before.spent, available: before.available });
    // the provider: 80% of what the charge would have been (1400 µUSD/s × 100 ms = 140), paid by the platform
    const share = Math.floor((Math.ceil((H100_RATE * 100) / 1000) * 8000) / 10_000);
    expect(share).toBe(112);
    expect(await earnings(provider)).toMatchObject({ earned: share, platform_paid: share, charged: 0, jobs: 1 });

    // replayed fail call: refused as a stale lease, pays nothing more; the events queue's closeHold neither
    const again = await agent.post(`/agent/v1/jobs/${job.job_id}/fail`, blockedFail(job, metrics));
    expect(again.status).toBe(409);
    const usage = await failedRow(a.key, job.job_id);
    expect(usage).toMatchObject({ cost: 0, error: { kind: "content_moderated", code: "content_moderated" } });
    await billing(env).closeHold(a.id, job.job_id, {
      status: "FAILED",
      gpu_ms: 100,
      gpu_class: "H100",
      reason: "content_moderated",
      agent_id: agent.id,
      model: SDXL,
    });
    expect(await earnings(provider)).toMatchObject({ earned: share, platform_paid: share, jobs: 1 });
    expect(await account(a.key)).toMatchObject({ held: 0, spent: before.spent, available: before.available });

    // Σ charges == Σ provider earnings + platform revenue, the platform's revenue down by the share it paid
    await runInDurableObject(ledgerOf(a.id), async (_l, state) => {
      const settled = state.storage.sql
        .exec<{ n: number }>("SELECT COALESCE(SUM(amount), 0) AS n FROM journal WHERE kind = 'settle'")
        .one().n;
      const sp = state.storage.sql
        .exec<{ c: number; e: number; f: number }>("SELECT SUM(charge) AS c, SUM(earn) AS e, SUM(fee) AS f FROM splits")
        .one();
      expect(settled).toBe(0);
      expect(sp).toEqual({ c: 0, e: share, f: -share });
      expect(sp.c).toBe(sp.e + sp.f);
    });
    const row = await env.DB.prepare("SELECT gpu_ms, gpu_class, cost FROM requests WHERE id = ?")
      .bind(job.job_id)
      .first<{ gpu_ms: number; gpu_class: string; cost: number }>();
    expect(row).toEqual({ gpu_ms: 100, gpu_class: "H100", cost: 0 });
  });

  it("caps a claim beyond the lease window like a completion; a claim of another GPU class earns nothing", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent([SDXL], "H100", ["comfyui"]);
    const provider = await providerOf(agent.id);
    const job = await sdxlJob(a.key, agent);
    const claim = 3_600_000;
    const f = await agent.post(
      `/agent/v1/jobs/${job.job_id}/fail`,
      blockedFail(job, { gpu_ms: claim, load_ms: claim, gpu_class: "H100", gpu_count: 1 }),
    );
    expect(f.status).toBe(200);
    await failedRow(a.key, job.job_id);
    const row = (await env.DB.prepare("SELECT gpu_ms FROM requests WHERE id = ?")
      .bind(job.job_id)
      .first<{ gpu_ms: number }>())!;
    // the broker saw the lease for far less than an hour: what it pays for is the window, not the claim
    expect(row.gpu_ms).toBeLessThan(claim);
    const share = Math.floor((Math.ceil((H100_RATE * row.gpu_ms) / 1000) * 8000) / 10_000);
    expect(await earnings(provider)).toMatchObject({ earned: share, platform_paid: share, charged: 0 });

    // another agent's blocked run claims a cheaper class than it registered: the failure stands, no compute is paid
    const other = await newAgent([SDXL], "H100", ["comfyui"]);
    const otherProvider = await providerOf(other.id);
    const b = await newAccount("pro");
    const before = await account(b.key);
    const job2 = await sdxlJob(b.key, other);
    const f2 = await other.post(
      `/agent/v1/jobs/${job2.job_id}/fail`,
      blockedFail(job2, { gpu_ms: 10, load_ms: 0, gpu_class: "A40", gpu_count: 1 }),
    );
    expect(f2.status).toBe(200);
    expect(await failedRow(b.key, job2.job_id)).toMatchObject({ cost: 0 });
    expect(await earnings(otherProvider)).toMatchObject({ earned: 0, platform_paid: 0, jobs: 0 });
    expect(await account(b.key)).toMatchObject({ held: 0, spent: before.spent, available: before.available });
  });

  it("a fail call whose metrics are malformed is refused at the agent API and the job stays leased", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent([SDXL], "H100", ["comfyui"]);
    const job = await sdxlJob(a.key, agent);
    const bad = await agent.post(
      `/agent/v1/jobs/${job.job_id}/fail`,
      blockedFail(job, { gpu_ms: -5, load_ms: 0, gpu_class: "H100" }),
    );
    expect(bad.status).toBe(400);
    expect((await account(a.key)).in_flight).toBe(1);
  });
});

describe("the caller's moderation choice, within the plan's allowance", () => {
  const sdxl = (key: string, moderation: unknown) =>
    json("POST", `/v2/${SDXL}`, { prompt: "a lighthouse at dusk", moderation }, { "x-api-key": key });

  async function refusedWithNothingHeld(key: string, moderation: unknown, status: number, code: string, model = SDXL) {
    const before = await account(key);
    const body = model === SDXL ? { prompt: "x", moderation } : { image: PNG_1x1, moderation };
    const r = await json("POST", `/v2/${model}`, body, { "x-api-key": key });
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(await account(key)).toEqual(before);
  }

  it("pro may flag and raise the threshold to 0.8, not turn moderation off nor go past 0.8", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent([SDXL], "H100", ["comfyui"]);
    expect((await sdxl(a.key, { policy: "flag", threshold: 0.8 })).status).toBe(202);
    const [job] = await agent.lease({ wait_ms: 3000 });
    expect(job!.moderation).toEqual({ policy: "flag", threshold: 0.8 });
    expect(job!.input).not.toHaveProperty("moderation");

    await refusedWithNothingHeld(a.key, { policy: "none" }, 403, "moderation_not_allowed");
    await refusedWithNothingHeld(a.key, { threshold: 0.81 }, 403, "moderation_not_allowed");
    await refusedWithNothingHeld(a.key, { policy: "off" }, 400, "invalid_input");
    await refusedWithNothingHeld(a.key, { policy: "block", extra: 1 }, 400, "invalid_input");
    // nothing was queued for the refused requests
    expect(await agent.lease()).toEqual([]);
  });

  it("business may turn it off; any plan may be stricter than the model's default", async () => {
    const biz = await newAccount("business");
    const agent = await newAgent([SDXL], "H100", ["comfyui"]);
    expect((await sdxl(biz.key, { policy: "none" })).status).toBe(202);
    const [off] = await agent.lease({ wait_ms: 3000 });
    expect(off!.moderation).toBeUndefined();

    const free = await newAccount("free");
    const cpu = await newAgent();
    const r = await json(
      "POST",
      "/v2/background-removal",
      { image: PNG_1x1, moderation: { policy: "block", threshold: 0.3 } },
      { "x-api-key": free.key },
    );
    expect(r.status).toBe(202);
    const [strict] = await cpu.lease({ wait_ms: 3000 });
    expect(strict!.moderation).toEqual({ policy: "block", threshold: 0.3 });
  });

  it("free cannot loosen the threshold past the default", async () => {
    const free = await newAccount("free");
    await refusedWithNothingHeld(
      free.key,
      { policy: "block", threshold: 0.6 },
      403,
      "moderation_not_allowed",
      "background-removal",
    );
  });
});

it("operators see the allowance in the plan limits", async () => {
  const a = await newAccount("pro");
  const view = (await (await call("/v1/account", { headers: { "x-api-key": a.key } })).json()) as {
    limits: { moderation?: unknown };
  };
  expect(view.limits.moderation).toEqual({ min_policy: "flag", max_threshold: 0.8 });
});
