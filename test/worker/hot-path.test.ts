import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { Env } from "../../src/env.ts";
import type { LeasedJob } from "../../schemas/index.ts";
import { BASE, PNG_1x1, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import { FaultPlan } from "./support/faults.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

/**
 * Every binding call one request makes, in order, through the Worker's own fetch handler with a counting Env.
 * `before` is what happened before the response was returned; `after` what ran in waitUntil.
 */
async function traced(path: string, init: RequestInit): Promise<{ res: Response; before: string[]; after: string[] }> {
  const plan = new FaultPlan();
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, init), plan.wrap(env as unknown as Env) as never, ctx);
  const before = [...plan.calls];
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return { res, before, after: plan.calls.slice(before.length) };
}

const d1 = (calls: string[]) => calls.filter((c) => c.startsWith("d1:"));

describe("binding calls on the hot path (functional: what is called, never how long it takes)", () => {
  it("an async submission with a warm cache makes no D1 call: one ledger call, one broker call, nothing else", async () => {
    const a = await newAccount("pro");
    const submit = () =>
      traced("/v2/nsfw-detector", {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": a.key },
        body: JSON.stringify({ image: PNG_1x1 }),
      });
    // the first call fills the key, plan and catalog caches (and writes the key's last-used time, once a minute)
    expect((await submit()).res.status).toBe(202);
    const { res, before, after } = await submit();
    expect(res.status).toBe(202);
    expect(d1([...before, ...after])).toEqual([]);
    // the hold, the job, and nothing after the answer: the small input lives only inside the job (no R2 copy)
    expect([...before, ...after]).toEqual(["ledger.admit", "broker.enqueue"]);

    // read your own write: the status right after the 202, before the events queue wrote the D1 row
    const id = ((await res.json()) as { request_id: string }).request_id;
    const status = await traced(`/v2/requests/${id}/status`, { headers: { "x-api-key": a.key } });
    expect(status.res.status).toBe(200);
    expect(((await status.res.json()) as { request_id: string }).request_id).toBe(id);
    expect(status.before).toEqual(["broker.get"]);
    const result = await traced(`/v2/requests/${id}`, { headers: { "x-api-key": a.key } });
    expect(result.res.status).toBe(200);
    expect(((await result.res.json()) as { status: string }).status).toBe("QUEUED");
    expect(result.before).toEqual(["broker.get"]);
  });

  it("another account's request stays not found through the broker-first read", async () => {
    const a = await newAccount("pro");
    const b = await newAccount("pro");
    const sub = await traced("/v2/nsfw-detector", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": a.key },
      body: JSON.stringify({ image: PNG_1x1 }),
    });
    const id = ((await sub.res.json()) as { request_id: string }).request_id;
    const other = await traced(`/v2/requests/${id}/status`, { headers: { "x-api-key": b.key } });
    expect(other.res.status).toBe(404);
  });

  it("the agent's lease, complete and output upload make no D1 call; a small input rides in the lease reply", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(["nsfw-detector"]);
    const body = JSON.stringify({ image: PNG_1x1 });
    const headers = { "content-type": "application/json", "x-api-key": a.key };
    // warm the token, agent-row and earner caches with one full round
    for (let round = 0; round < 2; round++) {
      expect((await traced("/v2/nsfw-detector", { method: "POST", headers, body })).res.status).toBe(202);
      const lease = await traced("/agent/v1/lease", {
        method: "POST",
        headers: { "content-type": "application/json", ...agent.headers },
        body: JSON.stringify({ agent_id: agent.id, slots_free: 1, wait_ms: 0 }),
      });
      expect(lease.res.status).toBe(200);
      const [job] = ((await lease.res.json()) as { jobs: LeasedJob[] }).jobs;
      expect(job!.inline_inputs?.image?.content_type).toBe("image/png");
      expect(job!.inline_inputs?.image?.data).toBe(PNG_1x1);
      const complete = await traced(`/agent/v1/jobs/${job!.job_id}/complete`, {
        method: "POST",
        headers: { "content-type": "application/json", ...agent.headers },
        body: JSON.stringify({
          lease_id: job!.lease_id,
          epoch: job!.epoch,
          outputs: [],
          output_json: { nsfw: false },
          metrics: { gpu_ms: 5, load_ms: 0, gpu_class: "cpu" },
        }),
      });
      expect(complete.res.status).toBe(200);
      if (round === 0) continue;
      expect(d1(lease.before)).toEqual([]);
      expect(lease.before).toEqual(["broker.lease"]);
      expect(d1(complete.before)).toEqual([]);
      // a JSON-only completion: the completion (it checks the lease) and one settle; with files, one lease check
      // first names the owner whose R2 prefix holds them
      expect(complete.before.filter((c) => !c.startsWith("ledger.") || c === "ledger.settle")).toEqual([
        "broker.complete",
        "ledger.settle",
      ]);
    }
  });
});
