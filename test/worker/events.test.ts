import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/services/crypto.ts";
import { PNG_1x1, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

describe("webhook signatures", () => {
  it("match the Standard Webhooks reference vector", async () => {
    // from the standard-webhooks specification's test vectors
    const sig = await signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });
});

describe("usage projection", () => {
  it("terminal states reach the D1 request row through the events queue", async () => {
    const { key } = await newAccount();
    const sub = (await (await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": key })).json()) as {
      request_id: string;
    };
    const agent = await newAgent();
    const [job] = await agent.lease();
    await new Promise((r) => setTimeout(r, 30));
    const done = await agent.post(`/agent/v1/jobs/${job!.job_id}/complete`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      outputs: [],
      output_json: { top: "Neutral" },
      metrics: { gpu_ms: 10, load_ms: 0, gpu_class: "cpu" },
    });
    expect(done.status).toBe(200);
    let row: { status: string; gpu_ms: number; gpu_class: string } | null = null;
    for (let i = 0; i < 100; i++) {
      row = await env.DB.prepare("SELECT status, gpu_ms, gpu_class FROM requests WHERE id = ?")
        .bind(sub.request_id)
        .first();
      if (row?.status === "COMPLETED") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(row).toEqual({ status: "COMPLETED", gpu_ms: 10, gpu_class: "cpu" });
  });

  it("a cancelled request is projected as CANCELLED", async () => {
    const { key } = await newAccount();
    const sub = (await (await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": key })).json()) as {
      request_id: string;
    };
    await call(`/v2/requests/${sub.request_id}/cancel`, { method: "POST", headers: { "x-api-key": key } });
    let status = "";
    for (let i = 0; i < 100 && status !== "CANCELLED"; i++) {
      // the row itself is projected from the broker's outbox too, so it may not exist for the first polls
      status =
        (
          await env.DB.prepare("SELECT status FROM requests WHERE id = ?")
            .bind(sub.request_id)
            .first<{ status: string }>()
        )?.status ?? "";
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe("CANCELLED");
  });
});

describe("the request row projected from the broker's outbox", () => {
  const finished = (id: string, account: string) => ({
    type: "request.finished" as const,
    event_id: `${id}:finished`,
    request_id: id,
    account_id: account,
    model: "nsfw-detector",
    status: "COMPLETED" as const,
    error_kind: null,
    gpu_ms: 10,
    load_ms: 0,
    gpu_class: "cpu",
    started_at: Date.now() - 50,
    completed_at: Date.now(),
    agent_id: null,
  });
  async function handle(body: unknown, attempts: number) {
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const { handleEvents } = await import("../../src/queues/events.ts");
    const batch = createMessageBatch("edge-inference-events", [
      { id: `m-${Math.random()}`, timestamp: new Date(), attempts, body },
    ]);
    const ctx = createExecutionContext();
    await handleEvents(batch as MessageBatch<unknown>, env);
    return getQueueResult(batch, ctx);
  }

  it("a finished event waits for the accepted one; the accepted one then the finished one make one terminal row", async () => {
    const { id: account } = await newAccount();
    const id = `req_projtest${Date.now()}`;
    expect((await handle(finished(id, account), 1)).retryMessages).toHaveLength(1);
    const accepted = {
      type: "request.accepted",
      event_id: `${id}:accepted`,
      request_id: id,
      account_id: account,
      model: "nsfw-detector",
      pool: "public",
      mode: "async",
      webhook_url: null,
      base_url: "http://platform.test",
      created_at: Date.now() - 100,
    };
    expect((await handle(accepted, 1)).explicitAcks).toHaveLength(1);
    expect((await handle(accepted, 2)).explicitAcks).toHaveLength(1); // redelivered: changes nothing
    expect((await handle(finished(id, account), 2)).explicitAcks).toHaveLength(1);
    const row = await env.DB.prepare("SELECT status, mode, base_url FROM requests WHERE id = ?").bind(id).first();
    expect(row).toEqual({ status: "COMPLETED", mode: "async", base_url: "http://platform.test" });
    // a late redelivery of the accepted event does not move the row back
    await handle(accepted, 3);
    expect(await env.DB.prepare("SELECT status FROM requests WHERE id = ?").bind(id).first()).toEqual({
      status: "COMPLETED",
    });
  });

  it("an accepted event that never comes (lost with a local queue on a crash): the finished event writes the row", async () => {
    const { id: account } = await newAccount();
    const id = `req_projlost${Date.now()}`;
    expect((await handle(finished(id, account), 4)).explicitAcks).toHaveLength(1);
    const row = await env.DB.prepare("SELECT status, gpu_ms, account_id FROM requests WHERE id = ?").bind(id).first();
    expect(row).toEqual({ status: "COMPLETED", gpu_ms: 10, account_id: account });
  });
});
