import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  PNG_1x1,
  adminHeaders,
  brokerStub,
  call,
  json,
  newAccount,
  newAgent,
  resetBroker,
  syncCatalog,
  type FakeAgent,
} from "./helpers.ts";
import type { LeasedJob } from "../../schemas/index.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Status = {
  status: string;
  cost: number | null;
  metrics: { gpu_ms: number | null; gpu_class: string | null; attempts: number };
};

async function submit(key: string): Promise<string> {
  const r = await json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": key });
  expect(r.status).toBe(202);
  return ((await r.json()) as { request_id: string }).request_id;
}
const status = async (key: string, id: string) =>
  (await (await call(`/v2/requests/${id}/status`, { headers: { "x-api-key": key } })).json()) as Status;
const account = async (key: string) =>
  (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    held: number;
    available: number;
    spent: number;
    in_flight: number;
    daily_quota: { used: number };
  };
const agentRow = (id: string) =>
  env.DB.prepare("SELECT rejected_completions, input_rejections, gpu_count FROM agents WHERE id = ?")
    .bind(id)
    .first<{ rejected_completions: number; input_rejections: number; gpu_count: number }>();

async function upload(agent: FakeAgent, job: LeasedJob, name = "output.png") {
  const put = await call(`/agent/v1/jobs/${job.job_id}/outputs/${name}`, {
    method: "PUT",
    headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" },
    body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  });
  expect(put.status).toBe(200);
}
const complete = (
  agent: FakeAgent,
  job: LeasedJob,
  metrics: Record<string, unknown>,
  outputs = [{ name: "output.png", content_type: "image/png", size: 4 }],
) =>
  agent.post(`/agent/v1/jobs/${job.job_id}/complete`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    outputs,
    metrics: { load_ms: 0, ...metrics },
  });
const code = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

describe("security: the caller pays for what the platform accepted, not what an agent claims", () => {
  it("a completion claiming a dearer class or more GPUs than registered is refused (409), counted, and the job runs again", async () => {
    const { key } = await newAccount("pro");
    const id = await submit(key);
    const cheap = await newAgent(["background-removal"], "cpu");
    const [job] = await cheap.lease();
    await upload(cheap, job!);
    const claims = [
      { gpu_class: "H100", gpu_count: 1 },
      { gpu_class: "cpu", gpu_count: 8 },
      { gpu_class: "A100-80", gpu_count: 4 },
    ];
    const first = await complete(cheap, job!, { gpu_ms: 1000, ...claims[0] });
    expect(first.status).toBe(409);
    expect(await code(first)).toBe("gpu_class_mismatch");
    // the job went back to the queue; the lease is gone, so the other claims are stale
    expect((await status(key, id)).status).toBe("QUEUED");
    for (const claim of claims.slice(1))
      expect((await complete(cheap, job!, { gpu_ms: 1000, ...claim })).status).toBe(409);
    expect((await agentRow(cheap.id))!.rejected_completions).toBe(1);
    expect((await account(key)).spent).toBe(0);

    // visible to admins on the provider's agent list
    const prov = (await env.DB.prepare("SELECT provider_id FROM agents WHERE id = ?")
      .bind(cheap.id)
      .first<{ provider_id: string }>())!.provider_id;
    const view = (await (await call(`/admin/v1/providers/${prov}`, { headers: adminHeaders })).json()) as {
      agents: { id: string; rejected_completions: number }[];
    };
    expect(view.agents.find((a) => a.id === cheap.id)!.rejected_completions).toBe(1);

    // another attempt, honest this time, completes and is billed at the registered class
    const [again] = await cheap.lease();
    expect(again!.attempt).toBe(2);
    await upload(cheap, again!);
    await sleep(30);
    expect((await complete(cheap, again!, { gpu_ms: 20, gpu_class: "cpu", gpu_count: 1 })).status).toBe(200);
    const s = await status(key, id);
    expect(s.metrics.gpu_class).toBe("cpu");
  });

  it("billed time is capped by the lease window the broker saw, and the charge is exactly rate × capped time, rounded up", async () => {
    const { key } = await newAccount("pro");
    const before = await account(key);
    const id = await submit(key);
    const agent = await newAgent(["background-removal"], "cpu");
    const [job] = await agent.lease();
    await upload(agent, job!);
    const t0 = Date.now();
    await sleep(50);
    // a week of GPU time for a job leased a moment ago
    const r = await complete(agent, job!, { gpu_ms: 7 * 24 * 3600 * 1000, gpu_class: "cpu", gpu_count: 1 });
    const elapsed = Date.now() - t0 + 50;
    expect(r.status).toBe(200);
    const s = await status(key, id);
    expect(s.metrics.gpu_ms).toBeGreaterThan(0);
    expect(s.metrics.gpu_ms!).toBeLessThanOrEqual(elapsed + 50);
    // background-removal on cpu: 100 micro-USD per GPU-second
    expect(s.cost).toBe(Math.ceil((100 * s.metrics.gpu_ms!) / 1000));
    const after = await account(key);
    expect(before.available - after.available).toBe(s.cost);
    expect(after.held).toBe(0);
  });

  it("an agent registers only a GPU class its provider is allowed, and only as many GPUs per job as it lists", async () => {
    const p = await json("POST", "/admin/v1/providers", { name: "cheap-host" }, adminHeaders);
    const { id: providerId } = (await p.json()) as { id: string };
    const t = await call(`/admin/v1/providers/${providerId}/agent-tokens`, { method: "POST", headers: adminHeaders });
    const auth = { authorization: `Bearer ${((await t.json()) as { token: string }).token}` };
    const reg = (body: Record<string, unknown>) =>
      json(
        "POST",
        "/agent/v1/register",
        { name: "h", version: "1", gpu_class: "H100", gpus: [], runtimes: ["builtin"], models: [], slots: 1, ...body },
        auth,
      );
    // a new provider may register CPU agents only
    const refused = await reg({});
    expect(refused.status).toBe(403);
    expect((await reg({ gpu_class: "cpu" })).status).toBe(200);
    const set = await json(
      "PUT",
      `/admin/v1/providers/${providerId}/gpu-classes`,
      { gpu_classes: ["H100"] },
      adminHeaders,
    );
    expect(set.status).toBe(200);
    expect((await reg({})).status).toBe(200);
    expect((await reg({ gpu_class: "cpu" })).status).toBe(403);
    const gpu = { index: 0, uuid: "GPU-1", name: "H100", memory_mib: 81559 };
    const tooMany = await reg({ gpus: [gpu], gpus_per_job: 2 });
    expect(tooMany.status).toBe(400);
    expect(await code(tooMany)).toBe("invalid_input");
    const two = await reg({ gpus: [gpu, { ...gpu, index: 1, uuid: "GPU-2" }], gpus_per_job: 2 });
    expect(two.status).toBe(200);
    const { agent_id } = (await two.json()) as { agent_id: string };
    expect((await agentRow(agent_id))!.gpu_count).toBe(2);
    expect(
      (await json("PUT", `/admin/v1/providers/prov_missing/gpu-classes`, { gpu_classes: ["H100"] }, adminHeaders))
        .status,
    ).toBe(404);
  });

  it("one token holds at most 64 live registrations (429 agent_limit_exceeded); deregistering frees one", async () => {
    const agent = await newAgent(["background-removal"]);
    const auth = { authorization: `Bearer ${agent.token}` };
    const body = { name: "h", version: "1", gpu_class: "cpu", gpus: [], runtimes: ["builtin"], models: [], slots: 1 };
    const ids: string[] = [agent.id];
    for (let i = 1; i < 64; i++) {
      const r = await json("POST", "/agent/v1/register", body, auth);
      expect(r.status).toBe(200);
      ids.push(((await r.json()) as { agent_id: string }).agent_id);
    }
    const over = await json("POST", "/agent/v1/register", body, auth);
    expect(over.status).toBe(429);
    expect(await code(over)).toBe("agent_limit_exceeded");
    expect(
      await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM agents WHERE token_id = (SELECT token_id FROM agents WHERE id = ?)",
      )
        .bind(agent.id)
        .first<{ n: number }>(),
    ).toEqual({ n: 64 });
    expect((await json("POST", "/agent/v1/deregister", { agent_id: ids[5] }, auth)).status).toBe(200);
    expect((await json("POST", "/agent/v1/register", body, auth)).status).toBe(200);
  });
});

describe("security: agents cannot blame the caller or reuse another attempt's files", () => {
  it("invalid_input from one agent is checked by another; it never burns a free caller's daily quota and is counted", async () => {
    const { key } = await newAccount("free");
    const id = await submit(key);
    expect((await account(key)).daily_quota.used).toBe(1);
    const a = await newAgent(["background-removal"]);
    const b = await newAgent(["background-removal"]);
    const [first] = await a.lease();
    const fail = (agent: FakeAgent, job: LeasedJob) =>
      agent.post(`/agent/v1/jobs/${job.job_id}/fail`, {
        lease_id: job.lease_id,
        epoch: job.epoch,
        kind: "invalid_input",
        message: "cannot decode",
        retryable: false,
      });
    // both wait for work when a rejects the input: the job goes to b (the rejecting agent is ranked last)
    const pollA = a.lease({ wait_ms: 1500 });
    const pollB = b.lease({ wait_ms: 3000 });
    await sleep(100);
    expect((await fail(a, first!)).status).toBe(200);
    const [second] = await pollB;
    expect(second!.job_id).toBe(id);
    expect((await fail(b, second!)).status).toBe(200);
    expect(await pollA).toEqual([]);
    const s = await status(key, id);
    expect(s.status).toBe("FAILED");
    const acct = await account(key);
    expect(acct.daily_quota.used).toBe(0);
    expect(acct.in_flight).toBe(0);
    expect((await agentRow(a.id))!.input_rejections).toBe(1);
    expect((await agentRow(b.id))!.input_rejections).toBe(1);
  });

  it("a retried attempt cannot complete with the files an earlier attempt uploaded", async () => {
    const { key } = await newAccount("pro");
    const id = await submit(key);
    const a = await newAgent(["background-removal"]);
    const [first] = await a.lease();
    await upload(a, first!);
    await sleep(1100);
    expect(await runDurableObjectAlarm(brokerStub())).toBe(true);
    const b = await newAgent(["background-removal"]);
    const [second] = await b.lease();
    expect(second).toMatchObject({ job_id: id, attempt: 2 });
    const reused = await complete(b, second!, { gpu_ms: 1, gpu_class: "cpu", gpu_count: 1 });
    expect(reused.status).toBe(400);
    expect(await code(reused)).toBe("invalid_input");
    expect((await status(key, id)).status).toBe("PROCESSING");
    await upload(b, second!);
    expect((await complete(b, second!, { gpu_ms: 1, gpu_class: "cpu", gpu_count: 1 })).status).toBe(200);
    expect((await status(key, id)).status).toBe("COMPLETED");
  });
});
