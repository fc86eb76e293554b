import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { json, PNG_1x1 } from "./helpers.ts";
import { CATALOG_CACHE_KEY } from "../../src/services/catalog.ts";
import { invalidate } from "../../src/services/edge-cache.ts";
import {
  CPU_PRICE,
  MODEL,
  balances,
  createEndpoint,
  dedicatedAgent,
  epStub,
  fundedAccount,
  getEndpoint,
  resetReservations,
  run,
} from "./endpoint-helpers.ts";

beforeEach(resetReservations);

const HOUR = 3600;
const cost = (seconds: number) => Math.floor((CPU_PRICE * seconds * 1000) / 3_600_000);

describe("dedicated endpoints: metering by the endpoint's clock", () => {
  it("one simulated hour of one instance costs exactly the price; loading is not billed", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { status, body: ep } = await createEndpoint(acct.auth, { min_instances: 1, max_instances: 1 });
    expect(status).toBe(201);
    expect(ep.price_per_hour).toBe(CPU_PRICE);
    expect(ep.hold_required).toBe(CPU_PRICE / 4);
    expect(ep.instances.map((i) => i.state)).toEqual(["reserving"]);

    // Five simulated minutes of loading: the agent saw its assignment but has not reported ready.
    const first = await a.poll();
    expect(first.assignment).toMatchObject({ endpoint_id: ep.id, model: MODEL });
    expect(first.jobs).toEqual([]);
    await epStub(ep.id).advance(30_000);
    await a.poll();
    let view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances[0]).toMatchObject({ state: "loading", billed_s: 0 });
    expect(view.state).toBe("provisioning");

    await a.serve(); // ready now: the billed session starts
    await run(ep.id, HOUR, [a]);
    view = await getEndpoint(acct.auth, ep.id);
    expect(view.state).toBe("running");
    expect(view.instances[0]!.billed_s).toBe(HOUR);
    const del = await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth);
    expect(del.status).toBe(200);
    const end = (await del.json()) as typeof view;
    expect(end.state).toBe("deleted");
    expect(end.spent).toBe(CPU_PRICE);
    const s = await balances(acct.id);
    expect(s.spent).toBe(CPU_PRICE);
    expect(s.held).toBe(0);
  });

  it("a 59-second session bills 60 seconds", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    await run(ep.id, 59, [a]);
    const end = (await (await json("POST", `/v1/endpoints/${ep.id}/pause`, undefined, acct.auth)).json()) as {
      spent: number;
      state: string;
    };
    expect(end.state).toBe("paused");
    expect(end.spent).toBe(cost(60));
    expect((await balances(acct.id)).spent).toBe(cost(60));
  });

  it("an hour with a prewarm and an idle release bills each session to the second", async () => {
    const acct = await fundedAccount();
    const [a, b] = [await dedicatedAgent(), await dedicatedAgent()];
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1, max_instances: 2, idle_timeout_s: 300 });
    await a.serve();
    await b.serve();
    await run(ep.id, 600, [a, b]);
    // Prewarm: min 2 reserves the second agent at once; it is billed from when it is ready.
    const pre = await json("PATCH", `/v1/endpoints/${ep.id}`, { min_instances: 2 }, acct.auth);
    expect(pre.status).toBe(200);
    await a.serve();
    await b.serve();
    let view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances.filter((i) => i.state === "ready")).toHaveLength(2);
    await run(ep.id, 1200, [a, b]);
    // Back to min 1: the instance idle for 20 minutes (> idle_timeout_s) is released now.
    await json("PATCH", `/v1/endpoints/${ep.id}`, { min_instances: 1 }, acct.auth);
    view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances.map((i) => i.state).sort()).toEqual(["ready", "released"]);
    expect(view.instances.find((i) => i.state === "released")!.billed_s).toBe(1200);
    await run(ep.id, 1800, [a, b]);
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
      billed_s: number;
    };
    expect(end.billed_s).toBe(3600 + 1200);
    expect(end.spent).toBe(cost(4800));
    expect((await balances(acct.id)).spent).toBe(cost(4800));
  });

  it("an instance not ready within init_timeout_s is released unbilled and another agent is reserved", async () => {
    const acct = await fundedAccount();
    const slow = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1, init_timeout_s: 60 });
    await slow.poll(); // loading, never ready
    const good = await dedicatedAgent();
    await epStub(ep.id).advance(30_000);
    await slow.poll();
    await epStub(ep.id).advance(40_000);
    const view = await getEndpoint(acct.auth, ep.id);
    const failed = view.instances.find((i) => i.agent_id === slow.id)!;
    expect(failed).toMatchObject({ state: "released", billed_s: 0 });
    const next = view.instances.find((i) => i.agent_id === good.id)!;
    expect(next.state).toBe("reserving");
    // The released agent is free again: its next poll carries no assignment.
    expect((await slow.poll()).assignment).toBeUndefined();
    await good.serve();
    await run(ep.id, 120, [good]);
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
    };
    expect(end.spent).toBe(cost(120));
  });

  it("an agent lost mid-session is billed to its last heartbeat, and a replacement is reserved", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    await run(ep.id, 300, [a]);
    const b = await dedicatedAgent();
    // a stops heartbeating; the endpoint's clock runs on.
    await run(ep.id, 120, [b]);
    const view = await getEndpoint(acct.auth, ep.id);
    expect(view.instances.find((i) => i.agent_id === a.id)).toMatchObject({ state: "lost", billed_s: 300 });
    expect(view.instances.find((i) => i.agent_id === b.id)!.state).toBe("ready");
    await run(ep.id, 60, [b]);
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
      billed_s: number;
    };
    const bReady = view.instances.find((i) => i.agent_id === b.id)!.billed_s;
    expect(end.billed_s).toBe(300 + bReady + 60);
    expect(end.spent).toBe(cost(300 + bReady + 60));
  });
});

describe("dedicated endpoints: lifecycle and money", () => {
  it("pause and resume settle exactly; the price stays frozen when the catalog price changes", async () => {
    const acct = await fundedAccount();
    const a = await dedicatedAgent();
    const { body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    await a.serve();
    await run(ep.id, 90, [a]);
    const paused = (await (await json("POST", `/v1/endpoints/${ep.id}/pause`, undefined, acct.auth)).json()) as {
      spent: number;
      held: number;
      instances: { state: string }[];
    };
    expect(paused.spent).toBe(cost(90));
    expect(paused.held).toBe(0);
    expect((await balances(acct.id)).held).toBe(0);
    // A paused endpoint bills nothing, however long.
    await epStub(ep.id).advance(3600_000);
    expect((await getEndpoint(acct.auth, ep.id)).spent).toBe(cost(90));
    const run402 = await json("POST", `/v2/endpoints/${ep.id}/run`, { image: PNG_1x1 }, acct.auth);
    expect(run402.status).toBe(409);

    await env.DB.prepare(
      `UPDATE models SET pricing = json_set(pricing, '$.micro_usd_per_second.cpu', 1000) WHERE slug = ?`,
    )
      .bind(MODEL)
      .run();
    await invalidate(CATALOG_CACHE_KEY); // what an operator's catalog change does (the Worker caches the catalog)
    const resumed = await json("POST", `/v1/endpoints/${ep.id}/resume`, undefined, acct.auth);
    expect(resumed.status).toBe(200);
    await a.serve();
    await run(ep.id, 200, [a]);
    const end = (await (await json("DELETE", `/v1/endpoints/${ep.id}`, undefined, acct.auth)).json()) as {
      spent: number;
      price_per_hour: number;
    };
    expect(end.price_per_hour).toBe(CPU_PRICE);
    expect(end.spent).toBe(cost(90 + 200));
    const fresh = await createEndpoint(acct.auth, { min_instances: 0 });
    expect(fresh.body.price_per_hour).toBe(3_600_000);
    await env.DB.prepare(
      `UPDATE models SET pricing = json_set(pricing, '$.micro_usd_per_second.cpu', 100) WHERE slug = ?`,
    )
      .bind(MODEL)
      .run();
    await invalidate(CATALOG_CACHE_KEY);
  });

  it("credit running out suspends the endpoint: 402 on new requests, instances released, nothing overdrawn", async () => {
    // Enough for the first 15-minute hold and a little more: the top-up after a few ticks fails.
    const acct = await fundedAccount(CPU_PRICE / 4 + 20_000);
    const a = await dedicatedAgent();
    const { status, body: ep } = await createEndpoint(acct.auth, { min_instances: 1 });
    expect(status).toBe(201);
    await a.serve();
    await run(ep.id, 600, [a]);
    const view = await getEndpoint(acct.auth, ep.id);
    expect(view.state).toBe("suspended");
    expect(view.instances[0]!.state).toBe("released");
    const s = await balances(acct.id);
    expect(s.spent).toBeLessThanOrEqual(s.deposits);
    expect(s.spent).toBe(view.spent);
    const r = await json("POST", `/v2/endpoints/${ep.id}/run`, { image: PNG_1x1 }, acct.auth);
    expect(r.status).toBe(402);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("insufficient_credits");
    // Still suspended and nothing more is billed however long it stays so.
    await run(ep.id, 3600, [a]);
    const later = await getEndpoint(acct.auth, ep.id);
    expect(later.spent + later.written_off).toBe(view.spent + view.written_off);
    expect((await balances(acct.id)).held).toBe(0);
  });

  it("rejects bad input with stable codes and creates nothing", async () => {
    const acct = await fundedAccount();
    const bad = [
      [{ min_instances: 3, max_instances: 2 }, 400],
      [{ min_instances: 11, max_instances: 11 }, 400],
      [{ gpu_class: "TPU" }, 400],
      [{ model: "no-such-model" }, 404],
      [{ name: "Bad Name!" }, 400],
      [{ min_instances: 1, max_hourly_spend: 1000 }, 400],
    ] as const;
    for (const [body, code] of bad) expect((await createEndpoint(acct.auth, body)).status).toBe(code);
    const poor = await fundedAccount(0);
    expect((await createEndpoint(poor.auth, { min_instances: 1 })).status).toBe(402);
    const list = await json("GET", "/v1/endpoints", undefined, acct.auth);
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(0);
    const other = await fundedAccount();
    const { body: ep } = await createEndpoint(acct.auth, {});
    expect((await json("GET", `/v1/endpoints/${ep.id}`, undefined, other.auth)).status).toBe(404);
    expect((await json("POST", `/v2/endpoints/${ep.id}/run`, { image: PNG_1x1 }, other.auth)).status).toBe(404);
    expect((await json("POST", `/v2/endpoints/${ep.id}/run`, { nope: 1 }, acct.auth)).status).toBe(400);
    expect((await getEndpoint(acct.auth, ep.id)).state).toBe("scaled_to_zero");
    expect((await balances(acct.id)).held).toBe(0);
  });
});
