import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";
import type { EndpointView } from "../../schemas/index.ts";

/**
 * A dedicated endpoint on a local start: wrangler dev, one shared agent and a second agent opted in with
 * --dedicated, both on the `cpu` class running the built-in nsfw-detector. The endpoint reserves the second agent,
 * which loads the model and reports ready; requests go through the endpoint; GET shows instances and spend; DELETE
 * settles to the second.
 */
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
const dir = mkdtempSync(path.join(tmpdir(), "edge-endpoints-"));
const port = 22_000 + Math.floor(Math.random() * 2000);
let platform: Platform;
const agents: AgentProcess[] = [];
const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": platform.demo.api_key, "content-type": "application/json", ...(init.headers ?? {}) },
  });

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  platform = await startPlatform({
    port,
    adminToken: "e2e-admin-token-0123456789",
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { LEASE_TTL_MS: "3000" },
  });
  const common = [
    "--models",
    "nsfw-detector",
    "--gpu-class",
    "cpu",
    "--lease-wait-ms",
    "5000",
    "--drain-grace-ms",
    "5000",
  ];
  agents.push(
    startAgent(platform.url, platform.demo.agent_token, ["--name", "shared", ...common], path.join(dir, "shared.log")),
  );
  agents.push(
    startAgent(
      platform.url,
      platform.demo.agent_token,
      ["--name", "dedicated", "--dedicated", ...common],
      path.join(dir, "dedicated.log"),
    ),
  );
  await Promise.all(agents.map((a) => a.waitFor(/"msg":"registered"/, 180_000)));
});

afterAll(async () => {
  for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("dedicated endpoint, end to end", () => {
  it("reserves the opted-in agent, serves requests through it, shows instances and spend, and settles on delete", async () => {
    const before = (await (await api("/v1/account")).json()) as { available: number; held: number };
    const created = await api("/v1/endpoints", {
      method: "POST",
      body: JSON.stringify({
        name: "moderation",
        model: "nsfw-detector",
        gpu_class: "cpu",
        min_instances: 1,
        max_instances: 1,
      }),
    });
    expect(created.status).toBe(201);
    const ep = (await created.json()) as EndpointView & { hold_required: number };
    expect(ep.price_per_hour).toBe(360_000);

    const running = await until(
      async () => (await (await api(`/v1/endpoints/${ep.id}`)).json()) as EndpointView,
      (v) => v.state === "running",
      120_000,
    );
    expect(running.state).toBe("running");
    expect(running.instances).toHaveLength(1);
    expect(running.instances[0]!.state).toMatch(/ready|busy/);
    const dedicatedId = running.instances[0]!.agent_id;
    await agents[1]!.waitFor(/dedicated instance ready/, 10_000);
    expect(running.spend_rate_per_hour).toBe(360_000);
    expect(running.held).toBe(ep.hold_required);

    // The same answers as /v1/nsfw-detector: the model's JSON as is, or the envelope with Accept: application/json.
    const plain = await api(`/v1/endpoints/${ep.id}/run`, {
      method: "POST",
      body: JSON.stringify({ image: photo.toString("base64") }),
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("x-request-cost")).toBe("0");
    expect(((await plain.json()) as { predictions: unknown[] }).predictions).toHaveLength(5);
    const sync = await api(`/v1/endpoints/${ep.id}/run`, {
      method: "POST",
      headers: { accept: "application/json" },
      body: JSON.stringify({ image: photo.toString("base64") }),
    });
    expect(sync.status).toBe(200);
    const out = (await sync.json()) as { output_json: { predictions: unknown[] }; cost: number };
    expect(out.output_json.predictions).toHaveLength(5);
    expect(out.cost).toBe(0);

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await api(`/v2/endpoints/${ep.id}/run`, {
        method: "POST",
        body: JSON.stringify({ image: photo.toString("base64") }),
      });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { request_id: string }).request_id);
    }
    for (const id of ids) {
      const s = await until(
        async () => (await (await api(`/v2/requests/${id}/status`)).json()) as { status: string },
        (x) => x.status === "COMPLETED" || x.status === "FAILED",
        60_000,
      );
      expect(s.status).toBe("COMPLETED");
    }
    // Only the reserved agent ran the endpoint's jobs: the shared agent's log never names them.
    const shared = agents[0]!.lines.join("\n");
    for (const id of ids) expect(shared).not.toContain(id);
    expect(agents[1]!.lines.join("\n")).toContain(ids[0]!);

    const view = (await (await api(`/v1/endpoints/${ep.id}`)).json()) as EndpointView;
    expect(view.instances[0]!.agent_id).toBe(dedicatedId);
    expect(view.queue_depth).toBe(0);
    const del = await api(`/v1/endpoints/${ep.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    const end = (await del.json()) as EndpointView;
    expect(end.state).toBe("deleted");
    expect(end.instances[0]!.state).toBe("released");
    expect(end.billed_s).toBeGreaterThanOrEqual(60);
    expect(end.spent + end.written_off).toBe(Math.floor((360_000 * end.billed_s * 1000) / 3_600_000));
    const after = (await (await api("/v1/account")).json()) as { available: number; held: number };
    expect(after.held).toBe(before.held);
    expect(before.available - after.available).toBe(end.spent);
    // Released, the agent goes back to the shared pool and serves public requests again.
    await agents[1]!.waitFor(/back to the shared pool/, 60_000);
  });
});
