import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
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
} from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

type Envelope = {
  error: {
    code: string;
    message: string;
    request_id: string;
    details?: { fields?: { path: string; message: string }[]; omitted?: number };
  };
};

async function state(key: string) {
  const acct = (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    available: number;
    held: number;
    in_flight: number;
    daily_quota: { used: number };
  };
  const jobs = await runInDurableObject(
    brokerStub(),
    (_i, s) => s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs").one().n,
  );
  const rows = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n;
  return { ...acct, jobs, rows };
}

describe("bad input is a 4xx with the envelope and changes nothing", () => {
  it("base64 that cannot be base64 by its length or padding is 400 invalid_input naming the field", async () => {
    const { key } = await newAccount("pro");
    const before = await state(key);
    const cases = [
      "A",
      "AAAAA",
      PNG_1x1.slice(0, 4 * 10 + 1),
      "AA=A",
      "A===",
      "AAA==",
      "=AAA",
      "AAAA=AAAA",
      `data:image/png;base64,${PNG_1x1}A`,
      `${"QUJD".repeat(100)}Q`,
    ];
    for (const image of cases) {
      const r = await json("POST", "/v2/background-removal", { image }, { "x-api-key": key });
      expect(r.status, image.slice(0, 40)).toBe(400);
      const body = (await r.json()) as Envelope;
      expect(body.error.code).toBe("invalid_input");
      expect(body.error.details!.fields![0]!.path).toBe("image");
    }
    expect(await state(key)).toEqual(before);
  });

  it("300,000 unknown keys get a bounded error (at most 20 fields, clipped messages), not megabytes", async () => {
    const { key } = await newAccount("pro");
    const body: Record<string, unknown> = { image: PNG_1x1 };
    for (let i = 0; i < 300_000; i++) body[`unknown_key_${i}`] = i;
    const r = await json("POST", "/v2/background-removal", body, { "x-api-key": key });
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(text.length).toBeLessThan(8 * 1024);
    const e = JSON.parse(text) as Envelope;
    expect(e.error.code).toBe("invalid_input");
    expect(e.error.details!.fields!.length).toBeLessThanOrEqual(20);
    for (const f of e.error.details!.fields!) expect(f.message.length).toBeLessThanOrEqual(201);

    // many distinct field errors: 20 shown, the rest counted
    const agent = await newAgent();
    const gpus = Array.from({ length: 16 }, () => ({ index: -1, uuid: 1, name: 2, memory_mib: -1 }));
    const bad = await json(
      "POST",
      "/agent/v1/register",
      { name: 1, version: 2, gpu_class: 3, gpus, runtimes: 5, models: 6, slots: 0 },
      { authorization: `Bearer ${agent.token}` },
    );
    expect(bad.status).toBe(400);
    const be = (await bad.json()) as Envelope;
    expect(be.error.details!.fields!.length).toBe(20);
    expect(be.error.details!.omitted).toBeGreaterThan(0);
  });

  it("a duplicate email at account creation is 409 conflict (the constraint is found through the error's cause chain)", async () => {
    const email = `dup-${Date.now()}@example.com`;
    expect((await json("POST", "/admin/v1/accounts", { email }, adminHeaders)).status).toBe(201);
    for (const again of [email, email.toUpperCase()]) {
      const r = await json("POST", "/admin/v1/accounts", { email: again }, adminHeaders);
      expect(r.status).toBe(409);
      expect(((await r.json()) as Envelope).error.code).toBe("conflict");
    }
    // concurrently, exactly one wins
    const e2 = `race-${Date.now()}@example.com`;
    const all = await Promise.all(
      Array.from({ length: 8 }, () => json("POST", "/admin/v1/accounts", { email: e2 }, adminHeaders)),
    );
    expect(all.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });
});

describe("Idempotency-Key under concurrency (Stripe's semantics)", () => {
  it("20 concurrent requests with one key: one runs; the rest get 409 idempotency_conflict while it is in flight or its response; one job, one hold", async () => {
    const { key } = await newAccount("enterprise");
    await json(
      "POST",
      `/admin/v1/accounts/${(await env.DB.prepare("SELECT account_id FROM api_keys ORDER BY created_at DESC LIMIT 1").first<{ account_id: string }>())!.account_id}/credits`,
      { amount: 10_000_000, reason: "test", idempotency_key: `c-${key}` },
      adminHeaders,
    );
    const before = await state(key);
    const h = { "x-api-key": key, "idempotency-key": "order-42" };
    const rs = await Promise.all(
      Array.from({ length: 20 }, () => json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, h)),
    );
    const statuses = rs.map((r) => r.status);
    expect(
      statuses.every((s) => s === 202 || s === 409),
      statuses.join(","),
    ).toBe(true);
    const ids = new Set<string>();
    for (const r of rs) {
      const b = (await r.json()) as { request_id?: string } & Partial<Envelope>;
      if (r.status === 202) ids.add(b.request_id!);
      else expect(b.error!.code).toBe("idempotency_conflict");
    }
    expect(ids.size).toBe(1);
    const after = await state(key);
    expect(after.jobs - before.jobs).toBe(1);
    expect(after.rows - before.rows).toBe(1);
    expect(after.in_flight).toBe(1);
    // once known, the same key and body replays the first response
    const replay = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, h);
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as { request_id: string }).request_id).toBe([...ids][0]);
    // another body under the same key is a conflict, and creates nothing
    const other = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1, threshold: 0.9 }, h);
    expect([400, 409]).toContain(other.status);
    const again = await json("POST", "/v2/nsfw-detector", { image: `data:image/png;base64,${PNG_1x1}` }, h);
    expect(again.status).toBe(409);
    expect(((await again.json()) as Envelope).error.code).toBe("idempotency_conflict");
    const end = await state(key);
    expect({ jobs: end.jobs, rows: end.rows, in_flight: end.in_flight }).toEqual({
      jobs: after.jobs,
      rows: after.rows,
      in_flight: 1,
    });
  });
});
