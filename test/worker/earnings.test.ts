import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { billing } from "../../src/services/billing.ts";
import { adminHeaders, call, json, newAccount, newAgent } from "./helpers.ts";

const ledgerOf = (id: string) => typedLedger(id);

async function providerOf(agentId: string): Promise<string> {
  return (await env.DB.prepare("SELECT provider_id AS p FROM agents WHERE id = ?")
    .bind(agentId)
    .first<{ p: string }>())!.p;
}

async function payer() {
  const a = await newAccount("enterprise");
  expect(
    (
      await json(
        "POST",
        `/admin/v1/accounts/${a.id}/credits`,
        { amount: 50_000_000, reason: "t", idempotency_key: "fund" },
        adminHeaders,
      )
    ).status,
  ).toBe(200);
  return a;
}

/** A job of `model` run by `agent`, billed per GPU-second at `rate` micro-USD/s, completed after `gpuMs`. */
async function job(
  account: string,
  id: string,
  agent: string,
  gpuMs: number,
  status = "COMPLETED",
  reason: string | null = null,
) {
  const r = await ledgerOf(account).admit(account, "enterprise", {
    id,
    amount: 5_000_000,
    pricing: { kind: "per_gpu_second", rates: { A40: 1_234 } },
    ttl_ms: 3_600_000,
    model_free: false,
  });
  expect(r.ok).toBe(true);
  return billing(env).closeHold(account, id, {
    status,
    gpu_ms: gpuMs,
    gpu_class: "A40",
    reason,
    agent_id: agent,
    model: "sdxl1.0-txt2img",
  });
}

describe("provider earnings", () => {
  it("each settle is split in its transaction: 80% to the provider rounded down, the rest to the platform, exactly", async () => {
    const agent = await newAgent();
    const provider = await providerOf(agent.id);
    const a = await payer();
    const charges: number[] = [];
    const ids: string[] = [];
    for (const [i, ms] of [1, 999, 1_001, 7_777, 123_457].entries()) {
      ids.push(`e1-${i}-${Date.now()}`);
      const r = await job(a.id, ids[i]!, agent.id, ms);
      charges.push(r!.charge);
    }
    expect(charges).toEqual([2, 1_233, 1_236, 9_597, 152_346]);
    const total = charges.reduce((x, y) => x + y, 0);
    const earned = charges.reduce((x, c) => x + Math.floor((c * 8000) / 10_000), 0);
    const report = await ledgerOf(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER);
    expect(report.totals).toMatchObject({ earned, charged: total, jobs: 5 });
    // in the payer's ledger: Σ settled charges == Σ splits' earnings + Σ platform fees, to the micro-USD
    await runInDurableObject(ledgerOf(a.id), async (_l, state) => {
      const settled = state.storage.sql
        .exec<{ n: number }>("SELECT SUM(amount) AS n FROM journal WHERE kind = 'settle'")
        .one().n;
      const sp = state.storage.sql
        .exec<{ c: number; e: number; f: number }>("SELECT SUM(charge) AS c, SUM(earn) AS e, SUM(fee) AS f FROM splits")
        .one();
      expect(settled).toBe(total);
      expect(sp).toEqual({ c: total, e: earned, f: total - earned });
    });
    // the events queue closes the same requests' holds again: nothing changes
    for (const id of ids)
      await billing(env).closeHold(a.id, id, {
        status: "COMPLETED",
        gpu_ms: 5,
        gpu_class: "A40",
        agent_id: agent.id,
        model: "sdxl1.0-txt2img",
      });
    const again = await ledgerOf(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER);
    expect(again.totals).toMatchObject({ earned, jobs: 5 });
  });

  it("a replayed completion and a failed job earn nothing more; a per-provider share applies from then on", async () => {
    const agent = await newAgent();
    const provider = await providerOf(agent.id);
    const a = await payer();
    const id = `e2-${Date.now()}`;
    const first = await job(a.id, id, agent.id, 10_000);
    await billing(env).closeHold(a.id, id, {
      status: "COMPLETED",
      gpu_ms: 10_000,
      gpu_class: "A40",
      agent_id: agent.id,
      model: "sdxl1.0-txt2img",
    });
    await job(a.id, `${id}-f`, agent.id, 10_000, "FAILED", "oom");
    expect(
      (await json("PUT", `/admin/v1/providers/${provider}/revenue-share`, { revenue_share_bp: 7000 }, adminHeaders))
        .status,
    ).toBe(200);
    const second = await job(a.id, `${id}-b`, agent.id, 10_000);
    const report = await ledgerOf(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER);
    expect(report.totals.earned).toBe(Math.floor(first!.charge * 0.8) + Math.floor((second!.charge * 7000) / 10_000));
    expect(report.totals.jobs).toBe(2);
  });

  it("output moderated after valid work: the caller pays nothing and the platform pays the provider's share", async () => {
    const agent = await newAgent();
    const provider = await providerOf(agent.id);
    const a = await payer();
    const before = (await ledgerOf(a.id).summary(a.id, "enterprise")).available;
    const r = await job(a.id, `e3-${Date.now()}`, agent.id, 4_000, "FAILED", "content_moderated");
    expect(r).toMatchObject({ status: "voided", charge: 0 });
    expect((await ledgerOf(a.id).summary(a.id, "enterprise")).available).toBe(before);
    const report = await ledgerOf(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER);
    expect(report.totals).toMatchObject({
      earned: Math.floor(Math.ceil(1_234 * 4) * 0.8),
      platform_paid: Math.floor(Math.ceil(1_234 * 4) * 0.8),
      charged: 0,
    });
  });

  it("provider key: earnings by agent, model, GPU class and day; agents; statements in JSON and CSV; payouts never exceed the balance", async () => {
    const agent = await newAgent();
    const provider = await providerOf(agent.id);
    const a = await payer();
    await job(a.id, `e4-a-${Date.now()}`, agent.id, 2_000);
    await job(a.id, `e4-b-${Date.now()}`, agent.id, 3_000);
    const k = await call(`/admin/v1/providers/${provider}/keys`, { method: "POST", headers: adminHeaders });
    expect(k.status).toBe(201);
    const { token } = (await k.json()) as { token: string };
    const h = { "x-api-key": token };
    const e = (await (await call("/v1/provider/earnings", { headers: h })).json()) as Record<string, any>;
    const earned = Math.floor(2468 * 0.8) + Math.floor(3702 * 0.8);
    expect(e.totals).toMatchObject({ earned, jobs: 2, gpu_ms: 5_000, charged: 2468 + 3702, balance: earned });
    expect(e.by_agent).toEqual([{ key: agent.id, earned, jobs: 2, gpu_ms: 5_000 }]);
    expect(e.by_model).toEqual([{ key: "sdxl1.0-txt2img", earned, jobs: 2, gpu_ms: 5_000 }]);
    expect(e.by_gpu_class[0].key).toBe("A40");
    expect(e.by_day[0].key).toBe(new Date().toISOString().slice(0, 10));
    const agents = (await (await call("/v1/provider/agents", { headers: h })).json()) as {
      data: Record<string, unknown>[];
    };
    expect(agents.data).toEqual([
      expect.objectContaining({ id: agent.id, state: "active", jobs: 2, gpu_seconds: 5, earned }),
    ]);
    // payouts: over the balance is refused; the rest is idempotent by key
    expect(
      (
        await json(
          "POST",
          `/admin/v1/providers/${provider}/payouts`,
          { amount: earned + 1, idempotency_key: "p0" },
          adminHeaders,
        )
      ).status,
    ).toBe(402);
    const p1 = await json(
      "POST",
      `/admin/v1/providers/${provider}/payouts`,
      { amount: 1_000, idempotency_key: "p1", reference: "bank transfer 1" },
      adminHeaders,
    );
    expect(await p1.json()).toMatchObject({ amount: 1_000, balance: earned - 1_000, replayed: false });
    expect(
      await (
        await json(
          "POST",
          `/admin/v1/providers/${provider}/payouts`,
          { amount: 1_000, idempotency_key: "p1" },
          adminHeaders,
        )
      ).json(),
    ).toMatchObject({ replayed: true });
    expect(
      (
        await json(
          "POST",
          `/admin/v1/providers/${provider}/payouts`,
          { amount: 2_000, idempotency_key: "p1" },
          adminHeaders,
        )
      ).status,
    ).toBe(409);
    const month = new Date().toISOString().slice(0, 7);
    const st = (await (await call(`/v1/provider/statements/${month}`, { headers: h })).json()) as Record<string, any>;
    expect(st.rows).toHaveLength(2);
    expect(st.payouts).toHaveLength(1);
    const csv = await (await call(`/v1/provider/statements/${month}?format=csv`, { headers: h })).text();
    expect(csv.trim().split("\n")).toHaveLength(1 + 2 + 1 + 1);
    expect(csv.trim().split("\n").at(-1)).toBe(`,total,,,,,5000,${2468 + 3702},${earned - 1_000}`);
    // other credentials do not open provider data
    expect((await call("/v1/provider/earnings", { headers: { "x-api-key": a.key } })).status).toBe(401);
    expect((await call("/v1/provider/earnings", { headers: { authorization: `Bearer ${agent.token}` } })).status).toBe(
      401,
    );
    expect((await call(`/v1/provider/statements/2026-13`, { headers: h })).status).toBe(400);
  });
});
