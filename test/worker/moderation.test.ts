import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LeasedJob } from "../../schemas/index.ts";
import { PNG_1x1, adminHeaders, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

async function account(key: string) {
  return (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    held: number;
    available: number;
    spent: number;
    in_flight: number;
  };
}

/** What an agent reports when moderation blocks an output (gpu-agent/src/moderation.ts). */
const blocked = {
  kind: "content_moderated",
  retryable: true, // a buggy agent's "retryable" does not make the broker run it again
  message: "output blocked by moderation: output.png scored 0.91 (threshold 0.5)",
  moderation: {
    policy: "block",
    threshold: 0.5,
    flagged: true,
    outputs: [
      { name: "output.png", nsfw_score: 0.91, flagged: true, predictions: [{ className: "Porn", probability: 0.91 }] },
    ],
  },
};

describe("content_moderated", () => {
  it("fails the request with 422 content_moderated, refunds the hold in full, and the usage history shows the code", async () => {
    const a = await newAccount("pro");
    const before = await account(a.key);
    const agent = await newAgent();
    const pending = json("POST", "/v1/background-removal", { image: PNG_1x1 }, { "x-api-key": a.key });
    let jobs = await agent.lease({ wait_ms: 5000 });
    const job = jobs[0]!;
    expect((await account(a.key)).held).toBe(1400 * 120);
    const f = await agent.post(`/agent/v1/jobs/${job.job_id}/fail`, {
      lease_id: job.lease_id,
      epoch: job.epoch,
      ...blocked,
    });
    expect(f.status).toBe(200);
    const r = await pending;
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("content_moderated");
    expect(body.error.message).toContain("scored 0.91");
    // nothing charged: the whole hold is released
    expect(await account(a.key)).toMatchObject({
      held: 0,
      spent: before.spent,
      available: before.available,
      in_flight: 0,
    });
    // and it is not run again
    jobs = await agent.lease();
    expect(jobs).toEqual([]);
    let usage: {
      data: {
        request_id: string;
        status: string;
        cost: number | null;
        error?: { kind: string; code: string } | null;
      }[];
    } = { data: [] };
    for (let i = 0; i < 100; i++) {
      usage = (await (await call("/v1/usage", { headers: { "x-api-key": a.key } })).json()) as typeof usage;
      if (usage.data[0]?.status === "FAILED") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(usage.data[0]).toMatchObject({
      request_id: job.job_id,
      status: "FAILED",
      cost: 0,
      error: { kind: "content_moderated", code: "content_moderated" },
    });
    const row = await env.DB.prepare("SELECT error_kind FROM requests WHERE id = ?")
      .bind(job.job_id)
      .first<{ error_kind: string }>();
    expect(row?.error_kind).toBe("content_moderated");
  });

  it("an unknown failure kind is refused at the agent API (the list of kinds is closed)", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent();
    json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": a.key });
    const [job] = await agent.lease({ wait_ms: 5000 });
    const f = await agent.post(`/agent/v1/jobs/${job!.job_id}/fail`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      ...blocked,
      kind: "moderated",
    });
    expect(f.status).toBe(400);
  });
});

describe("the model's moderation policy arrives with the job", () => {
  it("a text-to-image job is leased with policy block (the default for its category); a classifier job with none", async () => {
    const a = await newAccount("pro");
    const sub = await json("POST", "/v2/sdxl1.0-txt2img", { prompt: "a lighthouse at dusk" }, { "x-api-key": a.key });
    expect(sub.status).toBe(202);
    const p = (await (
      await json("POST", "/admin/v1/providers", { name: "gpu", gpu_classes: ["H100"] }, adminHeaders)
    ).json()) as { id: string };
    const t = (await (
      await call(`/admin/v1/providers/${p.id}/agent-tokens`, { method: "POST", headers: adminHeaders })
    ).json()) as { token: string };
    const auth = { authorization: `Bearer ${t.token}` };
    const reg = {
      name: "h100",
      version: "test",
      gpu_class: "H100",
      gpus: [],
      runtimes: ["comfyui"],
      models: ["sdxl1.0-txt2img"],
      slots: 1,
    };
    const { agent_id } = (await (await json("POST", "/agent/v1/register", reg, auth)).json()) as { agent_id: string };
    const lease = await json("POST", "/agent/v1/lease", { agent_id, slots_free: 1, wait_ms: 3000 }, auth);
    const [job] = ((await lease.json()) as { jobs: LeasedJob[] }).jobs;
    expect(job!.moderation).toEqual({ policy: "block", threshold: 0.5 });
    // the policy travels beside the input, not in it: the agent sees only the caller's fields
    expect(job!.input).not.toHaveProperty("$moderation");
    expect(job!.input.prompt).toBe("a lighthouse at dusk");

    json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": a.key });
    const [nsfw] = await (await newAgent()).lease({ wait_ms: 3000 });
    expect(nsfw!.model).toBe("nsfw-detector");
    expect(nsfw!.moderation).toBeUndefined();
  });
});
