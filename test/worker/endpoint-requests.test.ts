import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { LeasedJob } from "../../schemas/index.ts";
import type { Endpoint } from "../../src/durable-objects/endpoint.ts";
import { adminHeaders, json, PNG_1x1 } from "./helpers.ts";
import { prng } from "./prng.ts";
import {
  CPU_PRICE,
  balances,
  createEndpoint,
  dedicatedAgent,
  epStub,
  fundedAccount,
  getEndpoint,
  resetReservations,
  run,
  type DedicatedAgent,
} from "./endpoint-helpers.ts";

beforeEach(resetReservations);
const cost = (seconds: number) => Math.floor((CPU_PRICE * seconds * 1000) / 3_600_000);
const submit = (auth: Record<string, string>, id: string) =>
  json("POST", `/v2/endpoints/${id}/run`, { image: PNG_1x1 }, auth);

describe("dedicated endpoints: requests and scaling", () => {
  it("scaled to zero, a request queues and wakes the endpoint; idle, it scales back to zero", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 0, max_instances: 2, idle_timeout_s: 60 });
    expect(ep.state).toBe("scaled_to_zero");
    expect(ep.held).toBe(0);
    // A sync call that outlasts its wait while the endpoint wakes answers 202 with the request to poll.
    const sync = await json(
      "POST",
      `/v1/endpoints/${ep.id}/run`,
      { image: PNG_1x1 },
      { ...acct.auth, prefer: "wait=0" },
    );
    expect(sync.status).toBe(202);
    expect(sync.headers.get("location")).toMatch(/\/v2\/requests\/req_/);
    const { request_id: first } = (await sync.json()) as { request_id: string };
    await json("POST", `/v2/requests/${first}/cancel`, undefined, acct.auth);
    const r = await submit(acct.auth, ep.id);
    expect(r.status).toBe(202);
    const { request_id } = (await r.json()) as { request_id: string };
    let view = await getEndpoint(acct.auth, ep.id);
    // What the caller sees while it wakes: the request queued, an instance reserving, the runway held.
    expect(view).toMatchObject({ state: "provisioning", queue_depth: 1, held: CPU_PRICE / 4 });
    expect(view.instances.map((i) => i.state)).toEqual(["reserving"]);
    await a.serve(); // sees the assignment, loads, reports ready
    const { jobs } = await a.serve();
    expect(jobs.map((j) => j.job_id)).toEqual([request_id]);
    expect((await a.complete(jobs[0]!)).status).toBe(200);
    const status = (await (await json("GET", `/v2/requests/${request_id}`, undefined, acct.auth)).json()) as {
      status: string;
      cost: number | null;
    };
    expect(status.status).toBe("COMPLETED");
    await run(ep.id, 150, [a]);
    view = await getEndpoint(acct.auth, ep.id);
    expect(view.state).toBe("scaled_to_zero");
    expect(view.instances.map((i) => i.state)).toEqual(["released"]);
    expect(view.held).toBe(0);
    expect(view.spent).toBe(cost(view.instances[0]!.billed_s));
    expect(view.instances[0]!.billed_s).toBeGreaterThanOrEqual(60);
    const s = await balances(acct.id);
    expect(s.spent).toBe(view.spent);
    expect(s.held).toBe(0);
  });

  it("load scales up one instance per queue delay to max_instances, never beyond; the spend cap binds first", async () => {
    const acct = await fundedAccount();
    const agents: DedicatedAgent[] = [];
    for (let i = 0; i < 5; i++) agents.push(await dedicatedAgent());
    const { body: ep } = await createEndpoint(acct.auth, {
      min_instances: 0,
      max_instances: 3,
      scale_up_queue_delay_s: 10,
    });
    for (let i = 0; i < 12; i++) expect((await submit(acct.auth, ep.id)).status).toBe(202);
    let peak = 0;
    const held = new Map<string, LeasedJob[]>();
    for (let t = 0; t < 40; t++) {
      await epStub(ep.id).advance(10_000);
      for (const a of agents) {
        const r = await a.serve();
        held.set(a.id, [...(held.get(a.id) ?? []), ...r.jobs]);
        const mine = held.get(a.id)!;
        if (mine.length) await a.heartbeat(mine.map((j) => ({ job_id: j.job_id, lease_id: j.lease_id })));
      }
      const live = (await getEndpoint(acct.auth, ep.id)).instances.filter(
        (i) => i.state !== "released" && i.state !== "lost",
      ).length;
      peak = Math.max(peak, live);
    }
    expect(peak).toBe(3);
    // Deleted, its busy instances drain; once their agents give the jobs back they are released and free again.
    await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth);
    for (const a of agents)
      for (const j of held.get(a.id) ?? [])
        await a.post(`/agent/v1/jobs/${j.job_id}/release`, {
          lease_id: j.lease_id,
          epoch: j.epoch,
          reason: "draining",
        });
    await epStub(ep.id).advance(20_000);
    expect((await epStub(ep.id).snapshot()).instances.map((i) => i.state)).toEqual([
      "released",
      "released",
      "released",
    ]);
    const capped = await createEndpoint(acct.auth, {
      min_instances: 0,
      max_instances: 5,
      max_hourly_spend: 2 * CPU_PRICE + 1,
    });
    for (let i = 0; i < 6; i++) await submit(acct.auth, capped.body.id);
    let cappedPeak = 0;
    for (let t = 0; t < 30; t++) {
      await epStub(capped.body.id).advance(10_000);
      for (const a of agents) held.set(a.id, [...(held.get(a.id) ?? []), ...(await a.serve()).jobs]);
      const v = await getEndpoint(acct.auth, capped.body.id);
      cappedPeak = Math.max(cappedPeak, v.instances.filter((i) => i.state !== "released" && i.state !== "lost").length);
      expect(v.held).toBeLessThanOrEqual(Math.floor((2 * CPU_PRICE + 1) / 4));
    }
    // Five agents were free; the hourly cap allowed two.
    expect(cappedPeak).toBe(2);
    await json("POST", `/v1/endpoints/${capped.body.id}/pause`, undefined, acct.auth);
    for (const a of agents)
      for (const j of held.get(a.id) ?? [])
        await a.post(`/agent/v1/jobs/${j.job_id}/release`, {
          lease_id: j.lease_id,
          epoch: j.epoch,
          reason: "draining",
        });
    await epStub(capped.body.id).advance(20_000);
    expect((await balances(acct.id)).held).toBe(0);
  });

  it("1,000 requests on a running endpoint cost nothing beyond the instance time", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    const before = await balances(acct.id);
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = await submit(acct.auth, ep.id);
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { request_id: string }).request_id);
    }
    // No per-request hold: after 1,000 submissions the account holds exactly the endpoint's runway.
    expect((await balances(acct.id)).held).toBe(before.held);
    let done = 0;
    while (done < 1000) {
      const { jobs } = await a.serve(64);
      for (const j of jobs) expect((await a.complete(j)).status).toBe(200);
      done += jobs.length;
      if (jobs.length === 0) break;
    }
    expect(done).toBe(1000);
    await run(ep.id, 3600, [a]);
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
    };
    expect(end.spent).toBe(CPU_PRICE);
    expect((await balances(acct.id)).spent).toBe(CPU_PRICE);
  });

  it("suspension lets the in-flight request finish before its instance is released", async () => {
    const acct = await fundedAccount(CPU_PRICE / 4 + 5_000);
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    const { request_id } = (await (await submit(acct.auth, ep.id)).json()) as { request_id: string };
    const { jobs } = await a.serve();
    expect(jobs).toHaveLength(1);
    const lease = [{ job_id: jobs[0]!.job_id, lease_id: jobs[0]!.lease_id }];
    let view = await getEndpoint(acct.auth, ep.id);
    for (let t = 0; t < 40 && view.state !== "suspended"; t++) {
      await epStub(ep.id).advance(10_000);
      await a.heartbeat(lease);
      view = await getEndpoint(acct.auth, ep.id);
    }
    expect(view.state).toBe("suspended");
    expect(view.instances[0]!.state).toBe("draining");
    expect((await submit(acct.auth, ep.id)).status).toBe(402);
    expect((await a.complete(jobs[0]!)).status).toBe(200);
    await run(ep.id, 20, [a]);
    view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances[0]!.state).toBe("released");
    const st = (await (await json("GET", `/v2/requests/${request_id}`, undefined, acct.auth)).json()) as {
      status: string;
    };
    expect(st.status).toBe("COMPLETED");
    const s = await balances(acct.id);
    expect(s.held).toBe(0);
    expect(s.spent).toBe(view.spent);
    expect(view.spent + view.written_off).toBe(cost(view.instances[0]!.billed_s));
    // Resume needs the runway first: refused while the account is empty, accepted after a deposit.
    expect((await json("POST", `/v1/endpoints/${ep.id}/resume`, undefined, acct.auth)).status).toBe(402);
    await json(
      "POST",
      `/admin/v1/accounts/${acct.id}/credits`,
      { amount: 1_000_000, reason: "t", idempotency_key: `more-${acct.id}` },
      adminHeaders,
    );
    const resumed = await json("POST", `/v1/endpoints/${ep.id}/resume`, undefined, acct.auth);
    expect(resumed.status).toBe(200);
    await a.serve();
    await a.serve();
    expect((await getEndpoint(acct.auth, ep.id)).state).toBe("running");
    await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth);
    expect((await balances(acct.id)).held).toBe(0);
  });
});

describe("dedicated endpoints: pause and delete with work in flight", () => {
  it("pause drains the busy instance (its request finishes, billed until then); delete cancels what is queued", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    const { request_id } = (await (await submit(acct.auth, ep.id)).json()) as { request_id: string };
    const { jobs } = await a.serve();
    expect(jobs.map((j) => j.job_id)).toEqual([request_id]);
    await epStub(ep.id).advance(20_000); // the step sees the instance busy
    const queued = (await (await submit(acct.auth, ep.id)).json()) as { request_id: string };
    const paused = (await (await json("POST", `/v1/endpoints/${ep.id}/pause`, undefined, acct.auth)).json()) as {
      state: string;
      instances: { state: string }[];
    };
    expect(paused.state).toBe("paused");
    expect(paused.instances[0]!.state).toBe("draining");
    // A draining instance takes no new job, and its running one keeps its lease.
    expect((await a.poll()).jobs).toEqual([]);
    const hb = (await (await a.heartbeat([{ job_id: jobs[0]!.job_id, lease_id: jobs[0]!.lease_id }])).json()) as {
      extended: unknown[];
    };
    expect(hb.extended).toHaveLength(1);
    for (let t = 0; t < 4; t++) {
      await epStub(ep.id).advance(25_000);
      await a.heartbeat([{ job_id: jobs[0]!.job_id, lease_id: jobs[0]!.lease_id }]);
    }
    expect((await a.complete(jobs[0]!)).status).toBe(200);
    await epStub(ep.id).advance(10_000);
    const view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances[0]!.state).toBe("released");
    expect(view.instances[0]!.billed_s).toBe(130);
    expect(view.spent).toBe(cost(130));
    expect(view.held).toBe(0);
    const del = await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth);
    expect(del.status).toBe(200);
    const st = (await (await json("GET", `/v2/requests/${queued.request_id}`, undefined, acct.auth)).json()) as {
      status: string;
    };
    expect(st.status).toBe("CANCELLED");
    const s = await balances(acct.id);
    expect(s.spent).toBe(cost(130));
    expect(s.held).toBe(0);
  });
});

describe("dedicated endpoints: exclusivity and crash safety", () => {
  it("property: no agent is ever held by two endpoints, nor leases outside its endpoint while reserved", async () => {
    const seed = Number(env.SIM_SEED || 7);
    const rnd = prng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const acct = await fundedAccount(1_000_000_000);
    const agents: DedicatedAgent[] = [];
    for (let i = 0; i < 6; i++) agents.push(await dedicatedAgent());
    const crashed = new Set<string>();
    const eps: string[] = [];
    for (let i = 0; i < 3; i++)
      eps.push((await createEndpoint(acct.auth, { min_instances: 1, max_instances: 3, idle_timeout_s: 30 })).body.id);
    for (let step = 0; step < 60; step++) {
      const op = rnd();
      const ep = pick(eps);
      if (op < 0.25) await json("PATCH", `/v1/endpoints/${ep}`, { min_instances: Math.floor(rnd() * 4) }, acct.auth);
      else if (op < 0.35) crashed.add(pick(agents).id);
      else if (op < 0.45) crashed.delete(pick(agents).id);
      else if (op < 0.5)
        await json("POST", `/v1/endpoints/${ep}/${rnd() < 0.5 ? "pause" : "resume"}`, undefined, acct.auth);
      else for (const e of eps) await epStub(e).advance(Math.floor(rnd() * 40_000));
      const holders = new Map<string, string>();
      for (const e of eps) {
        for (const i of (await epStub(e).snapshot()).instances.filter((x) =>
          ["reserving", "loading", "ready", "busy", "draining"].includes(x.state),
        )) {
          expect(
            holders.get(i.agent_id),
            `seed ${seed} step ${step}: ${i.agent_id} held by ${holders.get(i.agent_id)} and ${e}`,
          ).toBeUndefined();
          holders.set(i.agent_id, e);
        }
      }
      for (const a of agents) {
        if (crashed.has(a.id)) continue;
        const r = await a.serve();
        // The lease route's answer is the agent's truth: reserved for exactly the endpoint that holds it, or public.
        const holder = holders.get(a.id);
        if (r.assignment) expect(r.assignment.endpoint_id, `seed ${seed} step ${step}`).toBe(holder);
        else
          expect(
            holder === undefined ||
              !(await epStub(holder).snapshot()).instances.some(
                (i) => i.agent_id === a.id && ["reserving", "loading", "ready", "busy"].includes(i.state),
              ),
          ).toBe(true);
      }
      const rows = await env.DB.prepare(
        `SELECT agent_id, endpoint_id FROM dedicated_agents WHERE endpoint_id IS NOT NULL`,
      ).all<{ agent_id: string; endpoint_id: string }>();
      for (const row of rows.results)
        if (holders.has(row.agent_id)) expect(holders.get(row.agent_id)).toBe(row.endpoint_id);
    }
    for (const e of eps) await json("DELETE", `/v1/endpoints/${e}`, undefined, acct.auth);
    const s = await balances(acct.id);
    expect(s.held).toBe(0);
  });

  it("a crash between writing a tick and recording its answer neither double-bills nor loses the tick", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    await run(ep.id, 300, [a]);
    for (const when of ["before_send", "after_send"] as const) {
      // The ledger's answer is lost once, before or after the ledger applied the tick: the tick stays written and
      // unanswered, exactly what a crash at that point leaves in storage; the next step resends it.
      await runInDurableObject(epStub(ep.id), async (obj: Endpoint) => {
        const ports = (obj as unknown as { ports: { tick: (...args: unknown[]) => Promise<unknown> } }).ports;
        const real = ports.tick;
        ports.tick = async (...args) => {
          ports.tick = real;
          if (when === "after_send") await real(...args);
          return { ok: false, code: `lost ${when}` };
        };
      });
      await epStub(ep.id).advance(60_000);
      const pending = await runInDurableObject(
        epStub(ep.id),
        async (_o, state) => state.storage.sql.exec(`SELECT COUNT(*) AS n FROM ticks WHERE status = 'pending'`).one().n,
      );
      expect(pending).toBe(1);
      await a.serve();
      await run(ep.id, 120, [a]);
    }
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
      billed_s: number;
    };
    expect(end.billed_s).toBe(300 + 2 * 180);
    expect(end.spent).toBe(cost(660));
    expect((await balances(acct.id)).spent).toBe(cost(660));
  });

  it("providers are credited their share of reserved time, idle time included", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    await run(ep.id, 3600, [a]);
    await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth);
    const provider = (await env.DB.prepare("SELECT provider_id AS p FROM agents WHERE id = ?")
      .bind(a.id)
      .first<{ p: string }>())!.p;
    const report = await typedLedger(`provider:${provider}`).earningsReport(0, Number.MAX_SAFE_INTEGER);
    // 80% of each tick's capture, rounded down per tick: at most one micro-USD short per tick.
    expect(report.totals.earned).toBeLessThanOrEqual(CPU_PRICE * 0.8);
    expect(report.totals.earned).toBeGreaterThanOrEqual(CPU_PRICE * 0.8 - 70);
  });
});
