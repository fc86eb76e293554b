import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/**
 * The real thing: wrangler dev (workerd + Miniflare with D1, Durable Objects, Queues, R2), real gpu-agent processes
 * running real models, driven through the public API with an API key.
 */
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
const dir = mkdtempSync(path.join(tmpdir(), "edge-e2e-"));
const port = 18_000 + Math.floor(Math.random() * 2000);
let platform: Platform;
const agents: AgentProcess[] = [];

function agent(name: string, models = "background-removal,nsfw-detector"): AgentProcess {
  const a = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", name, "--models", models, "--lease-wait-ms", "5000", "--drain-grace-ms", "60000"],
    path.join(dir, `${name}.log`),
  );
  agents.push(a);
  return a;
}

const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, { ...init, headers: { "x-api-key": platform.demo.api_key, ...(init.headers ?? {}) } });

async function waitStatus(id: string, done: (s: { status: string }) => boolean, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const s = (await (await api(`/v2/requests/${id}/status`)).json()) as {
      status: string;
      metrics: { attempts: number; gpu_ms: number };
      error: { kind: string } | null;
    };
    if (done(s) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  platform = await startPlatform({
    port,
    adminToken: "e2e-admin-token-0123456789",
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { LEASE_TTL_MS: "3000", MAX_ATTEMPTS: "3" },
  });
  await agent("agent-a").waitFor(/"msg":"registered"/, 180_000);
});

afterAll(async () => {
  for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("end to end", () => {
  it("a sync call on a photo returns a PNG whose background is transparent", async () => {
    const r = await api("/v1/background-removal", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: photo,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/png");
    expect(Number(r.headers.get("x-gpu-ms"))).toBeGreaterThan(0);
    // the demo account is on the pro plan: the hold was settled on the measured CPU time
    expect(Number(r.headers.get("x-request-cost"))).toBeGreaterThan(0);
    expect(Number(r.headers.get("x-remaining-credits"))).toBe(39_000_000 - Number(r.headers.get("x-request-cost")));
    const { data, info } = await sharp(Buffer.from(await r.arrayBuffer()))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const alpha = (x: number, y: number) => data[(y * info.width + x) * 4 + 3]!;
    expect([info.width, info.height]).toEqual([512, 384]);
    // corners are sky: cut away; the centre of the ball is kept
    for (const [x, y] of [
      [3, 3],
      [info.width - 4, 3],
    ])
      expect(alpha(x!, y!)).toBeLessThan(32);
    expect(alpha(256, 220)).toBeGreaterThan(224);
  });

  it("async: submit, poll status, fetch the result", async () => {
    const sub = await api("/v2/nsfw-detector", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image: photo.toString("base64") }),
    });
    expect(sub.status).toBe(202);
    const { request_id } = (await sub.json()) as { request_id: string };
    const s = await waitStatus(request_id, (x) => x.status === "COMPLETED" || x.status === "FAILED", 60_000);
    expect(s.status).toBe("COMPLETED");
    const result = (await (await api(`/v2/requests/${request_id}`)).json()) as {
      output_json: { top: string; predictions: unknown[] };
    };
    expect(result.output_json.predictions).toHaveLength(5);
  });

  it("an image the model cannot decode fails cleanly with 422 and leaves no job behind", async () => {
    const r = await api("/v1/nsfw-detector", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image: Buffer.from("GIF89a but not really").toString("base64") }),
    });
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { code: string; details: { request_id: string } } };
    expect(body.error.code).toBe("unprocessable");
    expect((await waitStatus(body.error.details.request_id, () => true, 0)).status).toBe("FAILED");
  });

  it("an agent killed with SIGKILL mid-job: the lease expires and the job completes on another agent", async () => {
    const a = agents[0]!;
    const sub = await api("/v2/background-removal", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: photo,
    });
    const { request_id } = (await sub.json()) as { request_id: string };
    await a.waitFor(new RegExp(`"job_id":"${request_id}".*"msg":"running"`), 30_000);
    a.proc.kill("SIGKILL");
    expect((await waitStatus(request_id, () => true, 0)).status).toBe("PROCESSING");

    const b = agent("agent-b");
    await b.waitFor(/"msg":"registered"/, 180_000);
    const s = await waitStatus(request_id, (x) => x.status !== "QUEUED" && x.status !== "PROCESSING", 120_000);
    expect(s.status).toBe("COMPLETED");
    expect(s.metrics.attempts).toBe(2);
    expect(b.lines.some((l) => l.includes(request_id) && l.includes('"msg":"completed"'))).toBe(true);
  });

  it("SIGTERM drains: the running job finishes, then the agent exits 0", async () => {
    const b = agents[1]!;
    const sub = await api("/v2/background-removal", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: photo,
    });
    const { request_id } = (await sub.json()) as { request_id: string };
    await b.waitFor(new RegExp(`"job_id":"${request_id}".*"msg":"running"`), 30_000);
    const exited = new Promise<number | null>((r) => b.proc.once("exit", r));
    b.proc.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect((await waitStatus(request_id, () => true, 0)).status).toBe("COMPLETED");
  });

  it("routing: with a warm and a cold agent both polling, every job goes to the agent that has the model loaded", async () => {
    const warm = startAgent(
      platform.url,
      platform.demo.agent_token,
      ["--name", "warm", "--models", "nsfw-detector", "--lease-wait-ms", "5000"],
      path.join(dir, "warm.log"),
    );
    const cold = startAgent(
      platform.url,
      platform.demo.agent_token,
      ["--name", "cold", "--models", "nsfw-detector", "--preload", "false", "--lease-wait-ms", "5000"],
      path.join(dir, "cold.log"),
    );
    agents.push(warm, cold);
    await Promise.all([warm.waitFor(/"msg":"registered"/, 120_000), cold.waitFor(/"msg":"registered"/, 120_000)]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 300)); // both parked in their long-polls
      const sub = await api("/v2/nsfw-detector", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ image: photo.toString("base64") }),
      });
      const { request_id } = (await sub.json()) as { request_id: string };
      expect(
        (await waitStatus(request_id, (x) => x.status === "COMPLETED" || x.status === "FAILED", 60_000)).status,
      ).toBe("COMPLETED");
      ids.push(request_id);
    }
    for (const id of ids) expect(warm.lines.some((l) => l.includes(id) && l.includes('"msg":"completed"'))).toBe(true);
    expect(cold.lines.some((l) => l.includes('"msg":"running"'))).toBe(false);
  });
});
