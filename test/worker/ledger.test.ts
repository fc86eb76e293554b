import { env } from "cloudflare:workers";
import worker from "../../src/index.ts";
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
  projected,
} from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function account(key: string) {
  return (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    plan: string;
    balance: number;
    held: number;
    available: number;
    spent: number;
    in_flight: number;
    requests_today: number;
    total_requests: number;
    daily_quota: { used: number; limit: number | null };
  };
}

async function setPlan(id: string, plan: string, limits: Record<string, unknown> = {}) {
  const r = await json("PUT", `/admin/v1/accounts/${id}/plan`, { plan, limits }, adminHeaders);
  expect(r.status).toBe(200);
}

async function adjust(id: string, kind: "credits" | "debits", amount: unknown, key = crypto.randomUUID()) {
  return json(
    "POST",
    `/admin/v1/accounts/${id}/${kind}`,
    { amount, reason: "test", idempotency_key: key },
    adminHeaders,
  );
}

/** A pro account holding exactly `available` micro-USD. */
async function proWith(available: number) {
  const a = await newAccount("pro");
  const now = await account(a.key);
  const r = await adjust(a.id, "debits", now.available - available);
  expect(r.status).toBe(200);
  expect((await account(a.key)).available).toBe(available);
  return a;
}

const SDXL = { prompt: "a lighthouse at dusk" };
const SDXL_HOLD = 1400 * 300; // dearest class (H100) × execution timeout

describe("plans, quotas and limits through the Worker", () => {
  it("1,000 concurrent calls on a free account: exactly 100 are accepted that day", async () => {
    const a = await newAccount("free");
    await setPlan(a.id, "free", { rpm: 100_000, in_flight: 100_000 }); // only the daily quota binds
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key }).then(async (r) => ({
          status: r.status,
          code: r.status === 202 ? null : ((await r.json()) as { error: { code: string } }).error.code,
          retry: r.headers.get("retry-after"),
        })),
      ),
    );
    const accepted = results.filter((r) => r.status === 202).length;
    expect(accepted).toBe(100);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(900);
    expect(new Set(refused.map((r) => r.code))).toEqual(new Set(["daily_quota_exceeded"]));
    expect(Number(refused[0]!.retry)).toBeGreaterThan(0);
    const acct = await account(a.key);
    expect(acct.daily_quota).toEqual({ used: 100, limit: 100, resets_at: expect.any(String) });
    expect(acct.total_requests).toBe(100);
    // the rows are projected from the brokers' outboxes by the events queue
    let rows = 0;
    for (let i = 0; i < 200 && rows < 100; i++) {
      rows = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests WHERE account_id = ?")
        .bind(a.id)
        .first<{ n: number }>())!.n;
      if (rows < 100) await sleep(50);
    }
    expect(rows).toBe(100);
  });

  it("the free plan's rate limit answers 429 rate_limited with Retry-After and RateLimit headers", async () => {
    const a = await newAccount("free");
    await setPlan(a.id, "free", { in_flight: 100 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-limit")).toBe("5");
        expect(last.headers.get("ratelimit-remaining")).toBe("4");
        expect(last.headers.get("x-remaining-credits")).toBe("0");
      }
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    const body = (await last!.json()) as { error: { code: string } };
    expect(body.error.code).toBe("rate_limited");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get("ratelimit-remaining")).toBe("0");
  });

  it("the free plan allows one request in flight; the second is refused until the first finishes", async () => {
    const a = await newAccount("free");
    expect((await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key })).status).toBe(202);
    const second = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key });
    expect(second.status).toBe(429);
  });

  it("free accounts cannot call paid models, and nothing is queued", async () => {
    const a = await newAccount("free");
    const r = await json("POST", "/v2/sdxl1.0-txt2img", SDXL, { "x-api-key": a.key });
    expect(r.status).toBe(403);
    expect((await account(a.key)).total_requests).toBe(0);
  });
});

describe("credits", () => {
  it("402 insufficient_credits when the hold cannot be made; no job, no request row, no charge", async () => {
    const a = await proWith(SDXL_HOLD - 1);
    const r = await json("POST", "/v2/sdxl1.0-txt2img", SDXL, { "x-api-key": a.key });
    expect(r.status).toBe(402);
    const body = (await r.json()) as { error: { code: string; details: { required: number; available: number } } };
    expect(body.error).toMatchObject({
      code: "insufficient_credits",
      details: { required: SDXL_HOLD, available: SDXL_HOLD - 1 },
    });
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests WHERE account_id = ?")
        .bind(a.id)
        .first<{ n: number }>())!.n,
    ).toBe(0);
    expect(await account(a.key)).toMatchObject({ available: SDXL_HOLD - 1, held: 0, total_requests: 0 });
  });

  it("concurrent holds that together exceed the balance never make it negative", async () => {
    const a = await proWith(SDXL_HOLD * 3 + 5);
    await setPlan(a.id, "pro", { rpm: 10_000, in_flight: 1000 });
    const rs = await Promise.all(
      Array.from({ length: 40 }, () =>
        json("POST", "/v2/sdxl1.0-txt2img", SDXL, { "x-api-key": a.key }).then((r) => r.status),
      ),
    );
    expect(rs.filter((s) => s === 202)).toHaveLength(3);
    expect(rs.filter((s) => s === 402)).toHaveLength(37);
    const acct = await account(a.key);
    expect(acct).toMatchObject({ held: SDXL_HOLD * 3, available: 5 });
    expect(acct.balance).toBe(acct.available + acct.held);
  });

  it("completion settles on measured GPU time; a duplicated completion report charges once; cost is reported", async () => {
    const a = await proWith(10_000_000);
    const agent = await newAgent();
    const sub = (await (
      await json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": a.key })
    ).json()) as { request_id: string };
    const hold = 1400 * 120; // H100 rate × background-removal's 120 s timeout
    expect(await account(a.key)).toMatchObject({ held: hold, available: 10_000_000 - hold });
    const [job] = await agent.lease();
    const spentBefore = (await account(a.key)).spent;
    for (let i = 0; i < 3; i++) {
      // the lease window must cover the reported 1,000 ms; heartbeats keep the 1 s test lease alive
      await sleep(400);
      await agent.post("/agent/v1/heartbeat", {
        agent_id: agent.id,
        leases: [{ job_id: job!.job_id, lease_id: job!.lease_id }],
      });
    }
    const body = {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      outputs: [],
      output_json: {},
      metrics: { gpu_ms: 1000, load_ms: 5000, gpu_class: "cpu" },
    };
    expect((await agent.post(`/agent/v1/jobs/${job!.job_id}/complete`, body)).status).toBe(200);
    expect((await agent.post(`/agent/v1/jobs/${job!.job_id}/complete`, body)).status).toBe(409);
    const charge = 100; // cpu: 100 µUSD per second × 1.000 s; the 5 s of model load is not billed
    expect(await account(a.key)).toMatchObject({
      held: 0,
      spent: spentBefore + charge,
      available: 10_000_000 - charge,
    });
    const status = (await (
      await call(`/v2/requests/${sub.request_id}/status`, { headers: { "x-api-key": a.key } })
    ).json()) as { cost: number };
    expect(status.cost).toBe(charge);
    // the events queue closes the same request's hold again: still one charge
    await projected(sub.request_id, (r) => r.cost !== null);
    expect(await account(a.key)).toMatchObject({ spent: spentBefore + charge });
    const usage = (await (await call("/v1/usage", { headers: { "x-api-key": a.key } })).json()) as {
      data: { request_id: string; cost: number; gpu_seconds: number; gpu_class: string }[];
    };
    expect(usage.data[0]).toMatchObject({ request_id: sub.request_id, cost: charge, gpu_seconds: 1, gpu_class: "cpu" });
  });

  it("an agent lost mid-job: the hold is voided and the charge is 0", async () => {
    const a = await proWith(10_000_000);
    const spentBefore = (await account(a.key)).spent;
    const sub = (await (
      await json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": a.key })
    ).json()) as { request_id: string };
    const agent = await newAgent();
    for (let i = 0; i < 2; i++) {
      await agent.lease();
      await sleep(1100);
      await runDurableObjectAlarm(brokerStub());
    }
    for (let i = 0; i < 60 && (await account(a.key)).held !== 0; i++) await sleep(50);
    expect(await account(a.key)).toMatchObject({ held: 0, spent: spentBefore, available: 10_000_000 });
    const status = (await (
      await call(`/v2/requests/${sub.request_id}/status`, { headers: { "x-api-key": a.key } })
    ).json()) as { status: string; cost: number; error: { kind: string } };
    expect(status).toMatchObject({ status: "FAILED", cost: 0, error: { kind: "worker_lost" } });
  });

  it("a cancelled queued request's hold is voided in full at once", async () => {
    const a = await proWith(10_000_000);
    const spentBefore = (await account(a.key)).spent;
    const sub = (await (await json("POST", "/v2/sdxl1.0-txt2img", SDXL, { "x-api-key": a.key })).json()) as {
      request_id: string;
    };
    expect((await account(a.key)).held).toBe(SDXL_HOLD);
    await call(`/v2/requests/${sub.request_id}/cancel`, { method: "POST", headers: { "x-api-key": a.key } });
    expect(await account(a.key)).toMatchObject({ held: 0, spent: spentBefore, available: 10_000_000 });
  });

  it("a failed free call gives its quota back when the platform failed or agents called accepted input invalid, not when the caller cancelled", async () => {
    const a = await newAccount("free");
    const agent = await newAgent();
    json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key });
    // the platform accepted this input: agents calling it invalid (twice: it runs once more) cost the caller nothing
    for (let i = 0; i < 2; i++) {
      const [job] = await agent.lease({ wait_ms: 3000 });
      expect(job!.attempt).toBe(i + 1);
      await agent.post(`/agent/v1/jobs/${job!.job_id}/fail`, {
        lease_id: job!.lease_id,
        epoch: job!.epoch,
        kind: "invalid_input",
        message: "bad image",
        retryable: false,
      });
    }
    expect((await account(a.key)).requests_today).toBe(0);
    json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key });
    const [job] = await agent.lease({ wait_ms: 3000 });
    await agent.post(`/agent/v1/jobs/${job!.job_id}/fail`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      kind: "backend_crash",
      message: "gone",
      retryable: false,
    });
    expect((await account(a.key)).requests_today).toBe(0);
    const sub = (await (
      await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key })
    ).json()) as { request_id: string };
    await call(`/v2/requests/${sub.request_id}/cancel`, { method: "POST", headers: { "x-api-key": a.key } });
    for (let i = 0; i < 100 && (await account(a.key)).in_flight > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await account(a.key)).toMatchObject({ in_flight: 0, requests_today: 1 });
  });
});

describe("admin ledger operations", () => {
  it("credit and debit are idempotent by key; a different amount under the same key is a conflict", async () => {
    const a = await newAccount("free");
    const first = await adjust(a.id, "credits", 5_000_000, "topup-1");
    expect(first.status).toBe(200);
    const again = (await (await adjust(a.id, "credits", 5_000_000, "topup-1")).json()) as { replayed: boolean };
    expect(again.replayed).toBe(true);
    expect((await adjust(a.id, "credits", 6_000_000, "topup-1")).status).toBe(409);
    expect((await account(a.key)).available).toBe(5_000_000);
    expect((await adjust(a.id, "debits", 5_000_001)).status).toBe(402);
    expect((await adjust(a.id, "debits", 2_000_000)).status).toBe(200);
    expect(await account(a.key)).toMatchObject({ available: 3_000_000, spent: 2_000_000, balance: 3_000_000 });
  });

  it("bad amounts (negative, zero, fractional, NaN, beyond 2^53, strings) are rejected with no change of state", async () => {
    const a = await newAccount("free");
    await adjust(a.id, "credits", 1_000_000);
    const before = await account(a.key);
    for (const amount of [-1, 0, 1.5, null, 2 ** 53, 1e300, "100", "NaN"]) {
      for (const kind of ["credits", "debits"] as const) {
        const r = await adjust(a.id, kind, amount);
        expect(r.status, `${kind} ${amount}`).toBe(400);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
      }
    }
    const raw = await call(`/admin/v1/accounts/${a.id}/credits`, {
      method: "POST",
      headers: { ...adminHeaders, "content-type": "application/json" },
      body: '{"amount": NaN, "reason": "x", "idempotency_key": "k"}',
    });
    expect(raw.status).toBe(400);
    expect(await account(a.key)).toEqual(before);
  });

  it("monthly plan credit is granted once per period however often the cron runs", async () => {
    const a = await newAccount("pro");
    expect((await account(a.key)).available).toBe(39_000_000);
    const controller = { scheduledTime: Date.now(), cron: "*/5 * * * *", noRetry() {} } as ScheduledController;
    for (let i = 0; i < 3; i++) {
      const ctx = {
        waitUntil: (p: Promise<unknown>) => p,
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext;
      const pending: Promise<unknown>[] = [];
      ctx.waitUntil = (p) => void pending.push(p);
      await worker.scheduled(controller, env, ctx);
      await Promise.all(pending);
    }
    expect((await account(a.key)).available).toBe(39_000_000);
  });

  it("Segmind's get-user-credits shape", async () => {
    const a = await newAccount("pro");
    const r = (await (await call("/v1/get-user-credits", { headers: { "x-api-key": a.key } })).json()) as Record<
      string,
      unknown
    >;
    expect(r).toEqual({ remaining_credits: 39, used_credits: 0, held_credits: 0, plan: "pro" });
  });
});
