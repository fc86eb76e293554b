import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/**
 * A GPU-model job on a supervised backend: a real agent runs the Cog stand-in as its backend process
 * (--backend-cmd), and the backend is killed with SIGKILL mid-prediction.
 */
const dir = mkdtempSync(path.join(tmpdir(), "edge-e2e-backend-"));
let platform: Platform;
let agent: AgentProcess;
let cogPort = 0;

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });

beforeAll(async () => {
  platform = await startPlatform({
    port: await freePort(),
    adminToken: "e2e-admin-token-0123456789",
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { LEASE_TTL_MS: "3000" },
  });
  cogPort = await freePort();
  const standIn = path.join(ROOT, "test", "agent", "stand-ins", "cog-main.ts");
  agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    [
      "--name",
      "gpu-host",
      "--builtin",
      "false",
      "--gpu-class",
      "H100",
      "--lease-wait-ms",
      "3000",
      "--cog-url",
      `http://127.0.0.1:${cogPort}`,
      "--cog-model",
      "flux-schnell",
      "--backend-cmd",
      `${process.execPath} ${standIn}`,
    ],
    path.join(dir, "agent.log"),
    { PORT: String(cogPort), RUN_MS: "4000" },
  );
  await agent.waitFor(/"msg":"registered"/, 60_000);
});

afterAll(async () => {
  if (agent?.proc.exitCode === null) {
    // SIGTERM: the agent drains and stops the backend it supervises
    const exited = new Promise((r) => agent.proc.once("exit", r));
    agent.proc.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (agent.proc.exitCode === null) agent.proc.kill("SIGKILL");
  }
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": platform.demo.api_key, "content-type": "application/json", ...(init.headers ?? {}) },
  });
const account = async () =>
  (await (await api("/v1/account")).json()) as { available: number; held: number; spent: number };

describe("backend killed mid-job", () => {
  it("kill -9 of the backend: it restarts, the job is requeued and completes, and it is charged once", async () => {
    const before = await account();
    const sub = await api("/v2/flux-schnell", {
      method: "POST",
      body: JSON.stringify({ prompt: "a lighthouse at dusk" }),
    });
    expect(sub.status).toBe(202);
    const { request_id } = (await sub.json()) as { request_id: string };
    await agent.waitFor(new RegExp(`"job_id":"${request_id}".*"msg":"running"`), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    // the backend is the agent's child process: find it and SIGKILL it (the agent itself lives on)
    const { execFileSync } = await import("node:child_process");
    const pids = execFileSync("pgrep", ["-P", String(agent.proc.pid), "-f", "cog-main.ts"])
      .toString()
      .trim()
      .split("\n")
      .map(Number);
    expect(pids).toHaveLength(1);
    for (const pid of pids) process.kill(pid, "SIGKILL");

    let s: { status: string; metrics: { attempts: number }; cost: number | null } = {
      status: "",
      metrics: { attempts: 0 },
      cost: null,
    };
    for (let i = 0; i < 240 && s.status !== "COMPLETED" && s.status !== "FAILED"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      s = (await (await api(`/v2/requests/${request_id}/status`)).json()) as typeof s;
    }
    expect(s.status).toBe("COMPLETED");
    expect(agent.proc.exitCode).toBeNull();
    expect(s.metrics.attempts).toBe(2);
    expect(agent.lines.some((l) => l.includes(request_id) && l.includes("backend_crash"))).toBe(true);
    const result = (await (await api(`/v2/requests/${request_id}`)).json()) as { output: { url: string }[] };
    expect(result.output).toHaveLength(1);
    // FLUX schnell is priced per generation: 3,000 µUSD per image, charged once
    expect(s.cost).toBe(3000);
    const after = await account();
    expect(after.held).toBe(0);
    expect(before.available - after.available).toBe(3000);
  });
});
