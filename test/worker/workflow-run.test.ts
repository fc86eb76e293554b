import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, brokerStub, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import {
  ALL_MODELS,
  CHAIN,
  DIAMOND,
  MAX,
  balances,
  complete,
  ended,
  fail,
  journal,
  leaseN,
  publish,
  runDo,
  runView,
  waitRun,
} from "./workflow-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

type Submitted = {
  run_id: string;
  status: string;
  version: number;
  held: number;
  poll_url: string;
  status_url: string;
  events_url: string;
  cancel_url: string;
};

async function start(
  key: string,
  slug: string,
  body: unknown = { image: PNG_1x1 },
  headers: Record<string, string> = {},
) {
  const r = await json("POST", `/v2/workflows/${slug}`, body, { "x-api-key": key, ...headers });
  expect(r.status, await r.clone().text()).toBe(202);
  return (await r.json()) as Submitted;
}

const CHAIN_MAX = MAX["background-removal"] + MAX["image-composite"] + MAX["nsfw-detector"];

describe("a workflow run", () => {
  it("chain: hold == estimate, early release per node, charge == Σ node charges, only mapped outputs reachable", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const est = (await (
      await json("POST", `/v1/workflows/${slug}/validate`, undefined, { "x-api-key": a.key })
    ).json()) as { estimate: { max_cost: number } };
    const before = await balances(a.id);

    const s = await start(a.key, slug);
    expect(s.held).toBe(est.estimate.max_cost);
    expect(s.held).toBe(CHAIN_MAX);
    expect(s.poll_url).toBe(s.status_url);
    expect((await balances(a.id)).held).toBe(before.held + CHAIN_MAX);

    // node 1 runs; its excess goes back at once while the rest stays held
    const [j1] = await leaseN(agent, 1);
    expect(j1!.job_id).toBe(`${s.run_id}:cutout`);
    // the node's input is the caller's image, copied inside the platform
    const input = await call(`/agent/v1/jobs/${j1!.job_id}/inputs/image`, {
      headers: { ...agent.headers, "x-lease-id": j1!.lease_id },
    });
    expect(new Uint8Array(await input.arrayBuffer())).toEqual(Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0)));
    expect((await complete(agent, j1!, 30)).status).toBe(200);
    let v = await waitRun(a.key, s.run_id, (x) => x.nodes.flat!.status === "QUEUED");
    const c1 = v.nodes.cutout!.cost!;
    expect(c1).toBe(Math.ceil((100 * 30) / 1000));
    expect((await balances(a.id)).held).toBe(before.held + CHAIN_MAX - (MAX["background-removal"] - c1));

    const [j2] = await leaseN(agent, 1);
    expect(j2!.job_id).toBe(`${s.run_id}:flat`);
    // the upstream output reached node 2 by reference: the bytes node 1 uploaded
    const passed = await call(`/agent/v1/jobs/${j2!.job_id}/inputs/image`, {
      headers: { ...agent.headers, "x-lease-id": j2!.lease_id },
    });
    expect(new TextDecoder().decode((await passed.arrayBuffer()).slice(4))).toBe(j1!.job_id);
    expect(j2!.input.background).toBe("#ffffff");
    await complete(agent, j2!, 40);
    const [j3] = await leaseN(agent, 1);
    await complete(agent, j3!, 50);

    v = await waitRun(a.key, s.run_id, ended);
    expect(v.status).toBe("COMPLETED");
    const nodeSum = Object.values(v.nodes).reduce((acc, n) => acc + n.cost!, 0);
    expect(v.cost).toBe(nodeSum);
    expect(v.cost).toBeLessThanOrEqual(s.held);
    const after = await balances(a.id);
    expect([after.held, after.spent]).toEqual([before.held, before.spent + v.cost!]);
    expect(v.outputs!.safety).toEqual({ type: "json", value: { Neutral: 0.97, Porn: 0.01 } });
    expect(v.output).toBe((v.outputs!.image as { url: string }).url);

    // the mapped output downloads; an intermediate file has no URL at all, and guessing one fails
    const out = await call((v.outputs!.image as { url: string }).url.replace("http://platform.test", ""));
    expect(out.status).toBe(200);
    expect(new TextDecoder().decode((await out.arrayBuffer()).slice(4))).toBe(`${s.run_id}:flat`);
    expect((await call(`/v2/requests/${s.run_id}:cutout`, { headers: { "x-api-key": a.key } })).status).toBe(404);
    // a node's job id is no request id: the output route refuses it before any signature is checked
    expect(
      (
        await call(
          `/v2/requests/${encodeURIComponent(`${s.run_id}:cutout`)}/outputs/output.png?expires=9999999999&sig=x`,
        )
      ).status,
    ).toBe(404);
    expect((await call(`/v2/workflow-runs/${s.run_id}/outputs/cutout?expires=9999999999&sig=x`)).status).toBe(403);
    // one capture per node and one commit in the ledger's journal
    expect((await journal(a.id, s.run_id)).map((j) => j.kind)).toEqual([
      "hold",
      "capture",
      "capture",
      "capture",
      "settle",
    ]);
  });

  it("a node failure rolls the whole run back: nothing is charged, later nodes never start, outputs are not exposed", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const before = await balances(a.id);
    const s = await start(a.key, slug);
    const [j1] = await leaseN(agent, 1);
    await complete(agent, j1!, 30);
    await waitRun(a.key, s.run_id, (x) => x.nodes.flat!.status === "QUEUED");
    const [j2] = await leaseN(agent, 1);
    expect((await fail(agent, j2!, "runtime_error", false)).status).toBe(200);

    const v = await waitRun(a.key, s.run_id, ended);
    expect(v.status).toBe("FAILED");
    expect(v.error).toMatchObject({ node: "flat", kind: "runtime_error" });
    expect([v.cost, v.nodes.cutout!.cost, v.nodes.flat!.cost, v.nodes.check!.cost]).toEqual([0, 0, 0, 0]);
    expect(v.nodes.check!.status).toBe("PENDING");
    expect(v.outputs).toBeNull();
    const after = await balances(a.id);
    expect([after.held, after.spent, after.available]).toEqual([before.held, before.spent, before.available]);
    expect(await leaseN(agent, 1, 300)).toEqual([]);
  });

  it("a retried node is captured once; a duplicate notification changes nothing", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, {
      inputs: { image: { type: "image" } },
      nodes: { only: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } } },
      outputs: { safety: { $ref: "nodes.only.json" } },
    });
    const s = await start(a.key, slug);
    const [first] = await leaseN(agent, 1);
    await fail(agent, first!, "oom", true); // retryable: the broker queues it again
    const [second] = await leaseN(agent, 1);
    expect(second!.attempt).toBe(2);
    await complete(agent, second!, 70);
    const v = await waitRun(a.key, s.run_id, ended);
    expect(v.status).toBe("COMPLETED");
    expect(v.nodes.only!.attempts).toBe(2);
    await runDo(s.run_id).onJob(`${s.run_id}:only`);
    await runDo(s.run_id).onJob(`${s.run_id}:only`);
    expect((await journal(a.id, s.run_id)).filter((j) => j.kind === "capture")).toEqual([
      { op_id: `${s.run_id}:only:capture`, kind: "capture", amount: 7 },
    ]);
    expect((await runView(a.key, s.run_id)).cost).toBe(7);
  });

  it("diamond: both branches are queued together and overlap in time; the join runs once", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, DIAMOND);
    const s = await start(a.key, slug);
    const [top] = await leaseN(agent, 1);
    await complete(agent, top!, 20);
    await waitRun(a.key, s.run_id, (x) => x.nodes.small!.status === "QUEUED" && x.nodes.large!.status === "QUEUED");
    const branches = await leaseN(agent, 2);
    expect(branches.map((j) => j.job_id.split(":")[1]).sort()).toEqual(["large", "small"]);
    await Promise.all(branches.map((j) => complete(agent, j, 30)));
    const [join] = await leaseN(agent, 1);
    expect(join!.job_id).toBe(`${s.run_id}:join`);
    await complete(agent, join!, 20);
    const v = await waitRun(a.key, s.run_id, ended);
    expect(v.status).toBe("COMPLETED");
    const t = (n: string) => ({ start: Date.parse(v.nodes[n]!.started_at!), end: Date.parse(v.nodes[n]!.ended_at!) });
    const small = t("small");
    const large = t("large");
    // overlap: each branch started before the other ended
    expect(small.start).toBeLessThan(large.end);
    expect(large.start).toBeLessThan(small.end);
    expect(t("join").start).toBeGreaterThanOrEqual(Math.max(small.end, large.end));
    expect(await leaseN(agent, 1, 300)).toEqual([]);
  });

  it("crash between a node's capture and the next node's enqueue, and a lost event: the alarm finishes the step once", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const s = await start(a.key, slug);
    const [j1] = await leaseN(agent, 1);
    await complete(agent, j1!, 30);
    await waitRun(a.key, s.run_id, (x) => x.nodes.flat!.status === "QUEUED");
    await new Promise((r) => setTimeout(r, 1500)); // let the events queue's copy of the notification arrive too
    // The state a crash leaves: node 1 captured in the ledger but not marked in the run, node 2 never queued.
    await runInDurableObject(brokerStub(), (_i, st) =>
      st.storage.sql.exec(`DELETE FROM jobs WHERE id = ?`, `${s.run_id}:flat`),
    );
    await runInDurableObject(runDo(s.run_id), (_i, st) => {
      st.storage.sql.exec(`UPDATE nodes SET status = 'PROCESSING', charge = NULL WHERE id = 'cutout'`);
      st.storage.sql.exec(`UPDATE nodes SET status = 'PENDING', input = NULL, queued_at = NULL WHERE id = 'flat'`);
    });
    expect(await leaseN(agent, 1, 200)).toEqual([]);
    expect(await runDurableObjectAlarm(runDo(s.run_id))).toBe(true);
    const v = await runView(a.key, s.run_id);
    expect(v.nodes.cutout!.status).toBe("COMPLETED");
    expect(v.nodes.flat!.status).toBe("QUEUED");
    const [j2] = await leaseN(agent, 1);
    expect(j2!.job_id).toBe(`${s.run_id}:flat`);
    expect((await journal(a.id, s.run_id)).filter((j) => j.kind === "capture").map((j) => j.op_id)).toEqual([
      `${s.run_id}:cutout:capture`,
    ]);

    // A node marked queued whose job never reached the broker is queued again by the alarm.
    await runInDurableObject(brokerStub(), (_i, st) =>
      st.storage.sql.exec(`DELETE FROM jobs WHERE id = ?`, `${s.run_id}:flat`),
    );
    await runInDurableObject(runDo(s.run_id), (_i, st) =>
      st.storage.sql.exec(`UPDATE nodes SET status = 'QUEUED' WHERE id = 'flat'`),
    );
    await runDurableObjectAlarm(runDo(s.run_id));
    const [again] = await leaseN(agent, 1);
    expect(again!.job_id).toBe(`${s.run_id}:flat`);
    await complete(agent, again!, 10);
    const [j3] = await leaseN(agent, 1);
    await complete(agent, j3!, 10);
    expect((await waitRun(a.key, s.run_id, ended)).status).toBe("COMPLETED");
  });

  it("a dead agent: its lease expires, the broker queues the node again, another agent finishes it; charged once", async () => {
    const a = await newAccount("pro");
    const dead = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, {
      inputs: { image: { type: "image" } },
      nodes: { only: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } } },
      outputs: { safety: { $ref: "nodes.only.json" } },
    });
    const s = await start(a.key, slug);
    const [lost] = await leaseN(dead, 1);
    await new Promise((r) => setTimeout(r, 1_100)); // LEASE_TTL_MS is 1 s in tests; no heartbeat comes
    await runDurableObjectAlarm(brokerStub());
    const alive = await newAgent(ALL_MODELS);
    const [again] = await leaseN(alive, 1);
    expect([again!.job_id, again!.attempt]).toEqual([lost!.job_id, 2]);
    expect((await complete(dead, lost!, 10)).status).toBe(409);
    await complete(alive, again!, 30);
    const v = await waitRun(a.key, s.run_id, ended);
    expect([v.status, v.cost, v.nodes.only!.attempts]).toEqual(["COMPLETED", 3, 2]);
    expect((await journal(a.id, s.run_id)).filter((j) => j.kind === "capture")).toHaveLength(1);
  });

  it("a webhook that cannot be delivered is retried by the alarm with backoff, keyed by one webhook id", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, {
      inputs: { image: { type: "image" } },
      nodes: { only: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } } },
      outputs: { safety: { $ref: "nodes.only.json" } },
    });
    const s = await start(a.key, slug, { image: PNG_1x1, webhook: "http://127.0.0.1:9/hook" });
    const [j] = await leaseN(agent, 1);
    await fail(agent, j!, "runtime_error", false);
    await waitRun(a.key, s.run_id, ended);
    const hooks = () =>
      runInDurableObject(runDo(s.run_id), (_i, st) =>
        st.storage.sql
          .exec<{ id: string; attempts: number; done: number; next_at: number }>(`SELECT * FROM webhooks`)
          .toArray(),
      );
    let h = await hooks();
    for (let i = 0; i < 40 && h[0]?.attempts !== 1; i++)
      h = (await new Promise((r) => setTimeout(r, 50)), await hooks());
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ id: `wh_${s.run_id}_failed`, attempts: 1, done: 0 });
    expect(h[0]!.next_at).toBeGreaterThan(Date.now());
    await runInDurableObject(runDo(s.run_id), (_i, st) => st.storage.sql.exec(`UPDATE webhooks SET next_at = 0`));
    await runDurableObjectAlarm(runDo(s.run_id));
    expect((await hooks())[0]).toMatchObject({ attempts: 2, done: 0 });
  });

  it("deadline: the alarm fails an overdue run, cancels its running job and refunds everything", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const before = await balances(a.id);
    const s = await start(a.key, slug);
    const [j1] = await leaseN(agent, 1);
    await runInDurableObject(runDo(s.run_id), (_i, st) =>
      st.storage.sql.exec(`UPDATE run SET deadline = ?`, Date.now() - 1),
    );
    await runDurableObjectAlarm(runDo(s.run_id));
    const v = await runView(a.key, s.run_id);
    expect(v.status).toBe("FAILED");
    expect(v.error!.kind).toBe("timeout");
    expect(v.nodes.cutout!.status).toBe("CANCELLED");
    expect(v.cost).toBe(0);
    expect((await complete(agent, j1!, 10)).status).toBe(409);
    const after = await balances(a.id);
    expect([after.held, after.spent]).toEqual([before.held, before.spent]);
  });

  it("cancel mid-run charges exactly the completed nodes; the running job is cancelled and not charged", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const before = await balances(a.id);
    const s = await start(a.key, slug);
    const [j1] = await leaseN(agent, 1);
    await complete(agent, j1!, 40);
    await waitRun(a.key, s.run_id, (x) => x.nodes.flat!.status === "QUEUED");
    const [j2] = await leaseN(agent, 1);
    const c = await call(`/v2/workflow-runs/${s.run_id}/cancel`, { method: "POST", headers: { "x-api-key": a.key } });
    const v = (await c.json()) as {
      status: string;
      cost: number;
      nodes: Record<string, { status: string; cost: number }>;
    };
    expect(v.status).toBe("CANCELLED");
    expect(v.nodes.cutout!.cost).toBe(4);
    expect(v.cost).toBe(4);
    expect([v.nodes.flat!.status, v.nodes.flat!.cost]).toEqual(["CANCELLED", 0]);
    expect((await complete(agent, j2!, 10)).status).toBe(409);
    const after = await balances(a.id);
    expect([after.held, after.spent]).toEqual([before.held, before.spent + 4]);
  });

  it("SSE: events in order, ending with the run's final event; resumable from Last-Event-ID", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const s = await start(a.key, slug);
    const read = async (headers: Record<string, string> = {}) => {
      const r = await call(`/v2/workflow-runs/${s.run_id}/events`, { headers: { "x-api-key": a.key, ...headers } });
      expect(r.headers.get("content-type")).toBe("text/event-stream");
      return (await r.text())
        .trim()
        .split("\n\n")
        .map((b) =>
          Object.fromEntries(b.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)])),
        );
    };
    // the stream is opened before any node ran, and stays open until the run's final event
    const live = read();
    for (let i = 0; i < 3; i++) {
      const [j] = await leaseN(agent, 1);
      await complete(agent, j!, 10);
    }
    const evs = await live;
    expect(evs.map((e) => `${e.event}${JSON.parse(e.data!).node ? ` ${JSON.parse(e.data!).node}` : ""}`)).toEqual([
      "run.created",
      "node.queued cutout",
      "node.started cutout",
      "node.completed cutout",
      "node.queued flat",
      "node.started flat",
      "node.completed flat",
      "node.queued check",
      "node.started check",
      "node.completed check",
      "run.completed",
    ]);
    const ids = evs.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const resumed = await read({ "last-event-id": String(ids[6]) });
    expect(resumed.map((e) => e.event)).toEqual(["node.queued", "node.started", "node.completed", "run.completed"]);
  });

  it("Idempotency-Key: the same body returns the same run; another body is a conflict; bad input holds nothing", async () => {
    const a = await newAccount("pro");
    const slug = await publish(a.key, CHAIN);
    const before = await balances(a.id);
    const r1 = await start(a.key, slug, { image: PNG_1x1 }, { "idempotency-key": "k1" });
    const r2 = await start(a.key, slug, { image: PNG_1x1 }, { "idempotency-key": "k1" });
    expect(r2.run_id).toBe(r1.run_id);
    const conflict = await json(
      "POST",
      `/v2/workflows/${slug}`,
      { image: PNG_1x1, background: "#000" },
      { "x-api-key": a.key, "idempotency-key": "k1" },
    );
    expect(conflict.status).toBe(409);
    expect((await balances(a.id)).held).toBe(before.held + CHAIN_MAX);
    const bad = await json("POST", `/v2/workflows/${slug}`, { background: 3, extra: 1 }, { "x-api-key": a.key });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { error: { details: { fields: { path: string }[] } } }).error.details.fields
      .map((f) => f.path)
      .sort();
    expect(fields).toEqual(["", "background", "image"]);
    expect((await balances(a.id)).held).toBe(before.held + CHAIN_MAX);
  });

  it("a run input the node's model would refuse is the caller's 400, with the input's name; nothing is held or run", async () => {
    const a = await newAccount("pro");
    const slug = await publish(a.key, CHAIN);
    const before = await balances(a.id);
    // `background` is a free string to the workflow, but image-composite takes a colour or a gradient
    const bad = await json(
      "POST",
      `/v2/workflows/${slug}`,
      { image: PNG_1x1, background: "red" },
      { "x-api-key": a.key },
    );
    expect(bad.status).toBe(400);
    const err = (
      (await bad.json()) as { error: { code: string; details: { fields: { path: string; message: string }[] } } }
    ).error;
    expect(err.code).toBe("invalid_input");
    expect(err.details.fields.map((f) => f.path)).toEqual(["background"]);
    expect(err.details.fields[0]!.message).toMatch(/image-composite\.background \(node 'flat'\)/);
    expect(await balances(a.id)).toEqual(before);
    const runs = await env.DB.prepare(`SELECT count(*) AS n FROM workflow_runs WHERE account_id = ?`)
      .bind(a.id)
      .first<{ n: number }>();
    expect(runs!.n).toBe(0);
  });

  it("402 before any node starts when Σ node maxima is not available", async () => {
    const a = await newAccount("pro");
    const slug = await publish(a.key, CHAIN);
    const s = await balances(a.id);
    await json(
      "POST",
      `/admin/v1/accounts/${a.id}/debits`,
      { amount: s.available - (CHAIN_MAX - 1), reason: "test", idempotency_key: "drain" },
      { authorization: "Bearer test-admin-token-0123456789" },
    );
    const r = await json("POST", `/v2/workflows/${slug}`, { image: PNG_1x1 }, { "x-api-key": a.key });
    expect(r.status).toBe(402);
    expect(((await r.json()) as { error: { details: { required: number } } }).error.details.required).toBe(CHAIN_MAX);
    const runs = await env.DB.prepare("SELECT COUNT(*) AS n FROM workflow_runs WHERE account_id = ?")
      .bind(a.id)
      .first<{ n: number }>();
    expect(runs!.n).toBe(0);
    expect((await balances(a.id)).held).toBe(0);
  });

  it("sync run: the first output as the body; JSON with accept: application/json; 202 when the wait runs out", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const pending = json(
      "POST",
      `/v1/workflows/${slug}`,
      { image: PNG_1x1 },
      { "x-api-key": a.key, prefer: "wait=20" },
    );
    for (let i = 0; i < 3; i++) {
      const [j] = await leaseN(agent, 1);
      await complete(agent, j!, 10);
    }
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/png");
    const id = r.headers.get("x-workflow-run-id")!;
    expect(new TextDecoder().decode((await r.arrayBuffer()).slice(4))).toBe(`${id}:flat`);
    expect(Number(r.headers.get("x-request-cost"))).toBe((await runView(a.key, id)).cost);

    const late = await json(
      "POST",
      `/v1/workflows/${slug}`,
      { image: PNG_1x1 },
      { "x-api-key": a.key, prefer: "wait=0", accept: "application/json" },
    );
    expect(late.status).toBe(202);
    expect(((await late.json()) as { status: string }).status).toBe("QUEUED");
  });

  it("a run keeps the version it resolved: publishing v2 and moving production leaves a v1 run in flight alone", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const h = { "x-api-key": a.key };
    await json("PUT", `/v1/workflows/${slug}/aliases/production`, { version: 1 }, h);
    const s = await start(a.key, slug);
    expect(s.version).toBe(1);
    const v2 = structuredClone(CHAIN);
    v2.inputs.background.default = "#123456";
    const g = await call(`/v1/workflows/${slug}`, { headers: h });
    await json("PUT", `/v1/workflows/${slug}/draft`, { definition: v2 }, { ...h, "if-match": g.headers.get("etag")! });
    await json("POST", `/v1/workflows/${slug}/versions`, undefined, h);
    await json("PUT", `/v1/workflows/${slug}/aliases/production`, { version: 2 }, h);
    const [j1] = await leaseN(agent, 1);
    await complete(agent, j1!, 10);
    const [j2] = await leaseN(agent, 1);
    expect(j2!.input.background).toBe("#ffffff");
    await complete(agent, j2!, 10);
    const [j3] = await leaseN(agent, 1);
    await complete(agent, j3!, 10);
    const v = await waitRun(a.key, s.run_id, ended);
    expect([v.status, v.version]).toEqual(["COMPLETED", 1]);
    expect((await start(a.key, slug)).version).toBe(2);
  });

  it("200 concurrent runs, some failing: money is conserved and every charge is the sum of its nodes", async () => {
    const a = await newAccount("pro");
    await json(
      "PUT",
      `/admin/v1/accounts/${a.id}/plan`,
      { plan: "enterprise", limits: { rpm: 100_000, in_flight: 1_000 } },
      { authorization: "Bearer test-admin-token-0123456789" },
    );
    await json(
      "POST",
      `/admin/v1/accounts/${a.id}/credits`,
      { amount: 100_000_000, reason: "test", idempotency_key: "bulk" },
      { authorization: "Bearer test-admin-token-0123456789" },
    );
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, {
      inputs: { image: { type: "image" } },
      nodes: {
        a: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } },
        b: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } },
      },
      outputs: { a: { $ref: "nodes.a.json" }, b: { $ref: "nodes.b.json" } },
    });
    const before = await balances(a.id);
    const runs = await Promise.all(Array.from({ length: 200 }, () => start(a.key, slug)));
    expect((await balances(a.id)).held).toBe(before.held + 200 * 2 * MAX["nsfw-detector"]);
    let served = 0;
    for (let rounds = 0; served < 400 && rounds < 200; rounds++) {
      const jobs = await agent.lease({ wait_ms: 50, slots_free: 64 });
      await Promise.all(
        jobs.map((j, i) =>
          (served + i) % 13 === 0
            ? fail(agent, j, "runtime_error", false)
            : complete(agent, j, 1 + ((served + i) % 50)),
        ),
      );
      served += jobs.length;
    }
    const views = await Promise.all(runs.map((r) => waitRun(a.key, r.run_id, ended, 30_000)));
    expect(views.every(ended)).toBe(true);
    const failed = views.filter((v) => v.status === "FAILED");
    expect(failed.length).toBeGreaterThan(0);
    for (const v of views) expect(v.cost).toBe(Object.values(v.nodes).reduce((acc, n) => acc + (n.cost ?? 0), 0));
    for (const v of failed) expect(v.cost).toBe(0);
    const after = await balances(a.id);
    expect(after.held).toBe(before.held);
    expect(after.spent - before.spent).toBe(views.reduce((acc, v) => acc + v.cost!, 0));
  });
});
