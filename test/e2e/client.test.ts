import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EdgeInference,
  EdgeInferenceError,
  WaitTimeoutError,
  verifyWebhook,
} from "../../clients/typescript/src/index.ts";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/** The TypeScript client against the real local platform (wrangler dev) and a real gpu-agent running nsfw-detector. */
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
const dir = mkdtempSync(path.join(tmpdir(), "edge-client-e2e-"));
const port = 20_000 + Math.floor(Math.random() * 2000);
let platform: Platform;
let agent: AgentProcess;
let client: EdgeInference;

/** A webhook receiver on a local port: keeps each delivery's headers and raw body. */
const received: { headers: Record<string, string>; body: string }[] = [];
let receiver: Server;
let receiverUrl = "";

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  platform = await startPlatform({
    port,
    adminToken: "client-e2e-admin-token-0123",
    persistDir: path.join(dir, "state"),
    logDir: dir,
  });
  client = new EdgeInference({ baseUrl: platform.url, apiKey: platform.demo.api_key });
  agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "client-e2e", "--models", "nsfw-detector", "--lease-wait-ms", "5000"],
    path.join(dir, "agent.log"),
  );
  await agent.waitFor(/"msg":"registered"/, 180_000);
});

afterAll(async () => {
  if (agent?.proc.exitCode === null) agent.proc.kill("SIGKILL");
  await platform?.stop();
  receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("TypeScript client against the local platform", () => {
  it("run: a photo through nsfw-detector, sync", async () => {
    const r = await client.run("nsfw-detector", { image: photo });
    expect(r.status).toBe("COMPLETED");
    const out = r.output_json as {
      top: string;
      nsfw: boolean;
      predictions: { className: string; probability: number }[];
    };
    expect(out.predictions).toHaveLength(5);
    expect(out.top).toBe(out.predictions[0]!.className);
    // a synthetic scene of a ball against sky and grass
    expect(out.nsfw).toBe(false);
    expect(r.metrics.gpu_ms).toBeGreaterThan(0);
    expect(r.cost).toBeGreaterThan(0);
  });

  it("submit with a webhook, wait, and verify the signed delivery; the delivery log shows the attempt", async () => {
    const sub = await client.submit(
      "nsfw-detector",
      { image: photo },
      { webhook: receiverUrl, idempotencyKey: `e2e-${Date.now()}` },
    );
    expect(["QUEUED", "PROCESSING"]).toContain(sub.status);
    const done = await client.wait(sub.request_id, { timeoutMs: 120_000 });
    expect(done.status).toBe("COMPLETED");
    expect(done.output_json).not.toBeNull();

    const { secret } = await client.webhooks.secret();
    let delivery: (typeof received)[number] | undefined;
    for (let i = 0; i < 120 && !delivery; i++) {
      delivery = received.find((d) => d.body.includes(sub.request_id));
      if (!delivery) await new Promise((r) => setTimeout(r, 250));
    }
    expect(delivery, "webhook delivered").toBeDefined();
    const payload = await verifyWebhook(secret, delivery!.headers, delivery!.body);
    expect(payload).toMatchObject({ request_id: sub.request_id, status: "COMPLETED" });
    await expect(
      verifyWebhook(secret, delivery!.headers, delivery!.body.replace("COMPLETED", "FAILED")),
    ).rejects.toThrow();

    let log = await client.webhooks.deliveries({ request_id: sub.request_id });
    for (let i = 0; i < 40 && log.data[0]?.status !== "succeeded"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      log = await client.webhooks.deliveries({ request_id: sub.request_id });
    }
    expect(log.data[0]).toMatchObject({ status: "succeeded", attempts: 1, last_status_code: 204 });
    expect(log.data[0]!.attempt_log[0]!.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("wait follows the Server-Sent Events stream: queued, started, then completed with the result", async () => {
    const sub = await client.submit("nsfw-detector", { image: photo });
    const seen: string[] = [];
    const r = await client.wait(sub.request_id, {
      events: true,
      timeoutMs: 120_000,
      onEvent: (e) => seen.push(e.event),
    });
    expect(r).toMatchObject({ request_id: sub.request_id, status: "COMPLETED" });
    expect(seen[0]).toBe("queued");
    expect(seen).toContain("started");
    expect(seen.at(-1)).toBe("completed");
    // a late subscriber replays the history and ends at once
    const replay: string[] = [];
    for await (const e of client.events(sub.request_id, { lastEventId: "1" })) replay.push(e.event);
    expect(replay[0]).toBe("started");
    expect(replay.at(-1)).toBe("completed");
  });

  it("run falls back to waiting when the sync wait ends, and cancel refunds a queued request", async () => {
    // No agent here serves SDXL: the sync call answers 202 after a second and the client waits on the queued request.
    const err = await client
      .run("sdxl1.0-txt2img", { prompt: "a lighthouse at dusk" }, { syncWaitSeconds: 1, timeoutMs: 1500 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    const id = (err as WaitTimeoutError).inferenceRequestId;
    const before = await client.account();
    expect(before.held).toBeGreaterThan(0);
    const c = await client.cancel(id);
    expect(c).toMatchObject({ request_id: id, status: "CANCELLED", outcome: "cancelled" });
    const r = await client.wait(id, { timeoutMs: 10_000 });
    expect(r.status).toBe("CANCELLED");
    const after = await client.account();
    expect(after.held).toBeLessThan(before.held);
    expect(after.spent).toBe(before.spent);
  });

  it("errors carry the stable codes: invalid_input with the failing field, unauthenticated, not_found", async () => {
    const bad = await client.submit("nsfw-detector", { image: 42 }).catch((e) => e);
    expect(bad).toBeInstanceOf(EdgeInferenceError);
    expect(bad).toMatchObject({ code: "invalid_input", status: 400 });
    expect((bad as EdgeInferenceError).fields.map((f) => f.path)).toContain("image");
    const anon = new EdgeInference({ baseUrl: platform.url, apiKey: "sk_wrong" });
    await expect(anon.account()).rejects.toMatchObject({ code: "unauthenticated", status: 401 });
    await expect(client.status("req_does_not_exist")).rejects.toMatchObject({ code: "not_found", status: 404 });
  });
});
