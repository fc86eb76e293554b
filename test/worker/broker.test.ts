import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, brokerStub, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(key: string, model = "background-removal") {
  const r = await json("POST", `/v2/${model}`, model === "sdxl1.0-txt2img" ? { prompt: "a cat" } : { image: PNG_1x1 }, {
    "x-api-key": key,
  });
  expect(r.status).toBe(202);
  return ((await r.json()) as { request_id: string }).request_id;
}

async function status(key: string, id: string) {
  return (await (await call(`/v2/requests/${id}/status`, { headers: { "x-api-key": key } })).json()) as {
    status: string;
    capacity: string | null;
    queue_position: number | null;
    error: { kind: string; code: string } | null;
    metrics: { attempts: number };
  };
}

describe("JobBroker leases", () => {
  it("a long-polling agent gets a job the moment it is queued", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const t0 = Date.now();
    const leasing = agent.lease({ wait_ms: 10_000 });
    await sleep(200);
    const id = await submit(key);
    const jobs = await leasing;
    expect(jobs.map((j) => j.job_id)).toEqual([id]);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("an empty long-poll answers 204 after wait_ms", async () => {
    const agent = await newAgent();
    const r = await json(
      "POST",
      "/agent/v1/lease",
      { agent_id: agent.id, slots_free: 1, wait_ms: 300 },
      { authorization: `Bearer ${agent.token}` },
    );
    expect(r.status).toBe(204);
  });

  it("deregister drops a draining agent's parked long-poll, so no job is handed to a client that is gone", async () => {
    const { key } = await newAccount();
    const a = await newAgent();
    const parked = a.lease({ wait_ms: 10_000 });
    await sleep(300);
    expect(await (await a.post("/agent/v1/deregister", { agent_id: a.id })).json()).toEqual({ released: 0 });
    expect(await parked).toEqual([]);
    const id = await submit(key);
    expect((await status(key, id)).status).toBe("QUEUED");
  });

  it("an agent id cannot be used with another provider's token", async () => {
    const a = await newAgent();
    const b = await newAgent();
    const r = await json(
      "POST",
      "/agent/v1/lease",
      { agent_id: a.id, slots_free: 1, wait_ms: 0 },
      { authorization: `Bearer ${b.token}` },
    );
    expect(r.status).toBe(403);
  });

  it("an expired lease requeues the job with attempt + 1, and the old lease is fenced off (409)", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    const [first] = await a.lease();
    expect(first!.attempt).toBe(1);
    await sleep(1100);
    expect(await runDurableObjectAlarm(brokerStub())).toBe(true);
    expect((await status(key, id)).status).toBe("QUEUED");

    const b = await newAgent();
    const [second] = await b.lease();
    expect(second).toMatchObject({ job_id: id, attempt: 2 });
    expect(second!.epoch).toBeGreaterThan(first!.epoch);

    const late = await a.post(`/agent/v1/jobs/${id}/complete`, {
      lease_id: first!.lease_id,
      epoch: first!.epoch,
      outputs: [],
      metrics: { gpu_ms: 1, load_ms: 0, gpu_class: "cpu" },
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("stale_lease");
    const lateUpload = await call(`/agent/v1/jobs/${id}/outputs/x.png`, {
      method: "PUT",
      headers: { ...a.headers, "x-lease-id": first!.lease_id },
      body: "x",
    });
    expect(lateUpload.status).toBe(409);

    const ok = await b.post(`/agent/v1/jobs/${id}/complete`, {
      lease_id: second!.lease_id,
      epoch: second!.epoch,
      outputs: [],
      output_json: { ok: true },
      metrics: { gpu_ms: 0, load_ms: 0, gpu_class: "cpu" },
    });
    expect(ok.status).toBe(200);
    const dup = await b.post(`/agent/v1/jobs/${id}/complete`, {
      lease_id: second!.lease_id,
      epoch: second!.epoch,
      outputs: [],
      metrics: { gpu_ms: 0, load_ms: 0, gpu_class: "cpu" },
    });
    expect(dup.status).toBe(409);
    expect((await status(key, id)).status).toBe("COMPLETED");
  });

  it("a crashed agent's parked prefetch poll does not receive the job it just lost", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    await a.lease();
    const parked = a.lease({ wait_ms: 5000, prefetch: true }); // the crashed agent's prefetch poll, still parked
    await sleep(1100);
    await runDurableObjectAlarm(brokerStub());
    expect(await parked).toEqual([]);
    const b = await newAgent();
    expect(await b.lease()).toMatchObject([{ job_id: id, attempt: 2 }]);
  });

  it("after the maximum attempts a lost job fails as worker_lost; nothing stays PROCESSING", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [j] = await a.lease();
      expect(j!.attempt).toBe(attempt);
      await sleep(1100);
      await runDurableObjectAlarm(brokerStub());
    }
    const s = await status(key, id);
    expect(s.status).toBe("FAILED");
    expect(s.error).toMatchObject({ kind: "worker_lost", code: "internal" });
    expect(await a.lease()).toEqual([]);
  });

  it("heartbeats keep a lease alive past its TTL", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    const [j] = await a.lease();
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      const hb = (await (
        await a.post("/agent/v1/heartbeat", { agent_id: a.id, leases: [{ job_id: id, lease_id: j!.lease_id }] })
      ).json()) as { extended: { job_id: string }[]; cancel: unknown[] };
      expect(hb.extended.map((e) => e.job_id)).toEqual([id]);
      expect(hb.cancel).toEqual([]);
      await runDurableObjectAlarm(brokerStub());
    }
    expect((await status(key, id)).status).toBe("PROCESSING");
  });

  it("cancelling a running job tells its agent on the next heartbeat and fences its completion", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    const [j] = await a.lease();
    const c = (await (
      await call(`/v2/requests/${id}/cancel`, { method: "POST", headers: { "x-api-key": key } })
    ).json()) as { status: string };
    expect(c.status).toBe("CANCELLED");
    const hb = (await (
      await a.post("/agent/v1/heartbeat", { agent_id: a.id, leases: [{ job_id: id, lease_id: j!.lease_id }] })
    ).json()) as { cancel: { job_id: string; reason: string }[] };
    expect(hb.cancel).toEqual([{ job_id: id, reason: "cancelled" }]);
    const late = await a.post(`/agent/v1/jobs/${id}/complete`, {
      lease_id: j!.lease_id,
      epoch: j!.epoch,
      outputs: [],
      metrics: { gpu_ms: 1, load_ms: 0, gpu_class: "cpu" },
    });
    expect(late.status).toBe(409);
  });

  it("a retryable failure is requeued until the maximum attempts, then fails with its kind", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [j] = await a.lease();
      expect(j!.attempt).toBe(attempt);
      expect(
        (
          await a.post(`/agent/v1/jobs/${id}/fail`, {
            lease_id: j!.lease_id,
            epoch: j!.epoch,
            kind: "backend_crash",
            message: "boom",
            retryable: true,
          })
        ).status,
      ).toBe(200);
    }
    expect((await status(key, id)).error).toMatchObject({ kind: "backend_crash" });
  });

  it("release gives a job back without counting an attempt", async () => {
    const { key } = await newAccount();
    const id = await submit(key);
    const a = await newAgent();
    const [j] = await a.lease();
    expect(
      (await a.post(`/agent/v1/jobs/${id}/release`, { lease_id: j!.lease_id, epoch: j!.epoch, reason: "draining" }))
        .status,
    ).toBe(200);
    const [again] = await a.lease();
    expect(again).toMatchObject({ job_id: id, attempt: 1 });
  });
});

describe("JobBroker routing and deadlines", () => {
  it("prefers the waiting agent that has the model loaded", async () => {
    const { key } = await newAccount();
    const cold = await newAgent();
    const warm = await newAgent();
    for (let round = 0; round < 3; round++) {
      const coldPoll = cold.lease({ wait_ms: 3000, loaded_models: [] });
      const warmPoll = warm.lease({ wait_ms: 3000, loaded_models: ["background-removal"] });
      await sleep(600); // both polls are parked in the broker before the job arrives
      const id = await submit(key);
      const w = await warmPoll;
      expect(w.map((j) => j.job_id)).toEqual([id]);
      // cancel before the 1 s test lease could expire and legitimately requeue the job to the cold agent
      await call(`/v2/requests/${id}/cancel`, { method: "POST", headers: { "x-api-key": key } });
      expect(await coldPoll).toEqual([]);
    }
  });

  it("only hands a job to an agent that serves its model", async () => {
    const { key } = await newAccount();
    const id = await submit(key, "background-removal");
    const nsfwOnly = await newAgent(["nsfw-detector"]);
    expect(await nsfwOnly.lease()).toEqual([]);
    const both = await newAgent();
    expect((await both.lease()).map((j) => j.job_id)).toEqual([id]);
  });

  it("paid requests are leased before free ones", async () => {
    const free = await newAccount("free");
    const pro = await newAccount("pro");
    const f = await submit(free.key);
    const p = await submit(pro.key);
    expect((await status(free.key, f)).queue_position).toBe(1);
    const a = await newAgent();
    const first = await a.lease({ slots_free: 1 });
    expect(first.map((j) => j.job_id)).toEqual([p]);
  });

  it("a GPU model with no connected agent reports no_capacity and fails with it at its TTL instead of hanging", async () => {
    const { key } = await newAccount("pro");
    await newAgent(); // a CPU agent is connected but cannot serve SDXL
    const id = await submit(key, "sdxl1.0-txt2img");
    expect((await status(key, id)).capacity).toBe("no_capacity");
    await sleep(5100);
    await runDurableObjectAlarm(brokerStub());
    const s = await status(key, id);
    expect(s.status).toBe("FAILED");
    expect(s.error).toMatchObject({ kind: "no_capacity", code: "no_capacity" });
  });
});
