/**
 * Platform benchmark, one run, side by side on this machine:
 *  (a) sync call latency against the model execution time the agent reported (the platform's overhead);
 *  (b) dispatch latency from submit to the agent starting the job, with an idle long-polling agent;
 *  (c) background removal: the platform's warm throughput against calling the library directly in a loop.
 * Usage: npm run bench [-- --n 10 --m 6]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ROOT, admin, startAgent, startPlatform } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("n", 10);
const M = arg("m", 6);
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Math.round(x * 10) / 10;

const dir = mkdtempSync(path.join(tmpdir(), "edge-bench-"));
const platform = await startPlatform({
  port: 19_500 + Math.floor(Math.random() * 400),
  adminToken: "bench-admin-token-0123456789",
  persistDir: path.join(dir, "state"),
  logDir: dir,
});
const agent = startAgent(
  platform.url,
  platform.demo.agent_token,
  ["--name", "bench", "--slots", "1"],
  path.join(dir, "agent.log"),
  { LOG_LEVEL: "info" },
);
await agent.waitFor(/"msg":"registered"/, 180_000);
// the benchmark measures the job path, not the plan's rate limit
await admin(platform.url, platform.adminToken, "PUT", `/admin/v1/accounts/${platform.demo.account_id}/plan`, {
  plan: "enterprise",
  limits: { rpm: 100_000 },
});
await admin(platform.url, platform.adminToken, "POST", `/admin/v1/accounts/${platform.demo.account_id}/credits`, {
  amount: 100_000_000,
  reason: "bench",
  idempotency_key: "bench",
});
const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, { ...init, headers: { "x-api-key": platform.demo.api_key, ...(init.headers ?? {}) } });
const nsfwBody = JSON.stringify({ image: photo.toString("base64") });

try {
  // warm the request path once
  await api("/v1/nsfw-detector", { method: "POST", headers: { "content-type": "application/json" }, body: nsfwBody });

  // (a) sync overhead
  const latency: number[] = [];
  const gpu: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await api("/v1/nsfw-detector", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: nsfwBody,
    });
    await r.arrayBuffer();
    latency.push(performance.now() - t);
    gpu.push(Number(r.headers.get("x-gpu-ms")));
  }
  const overhead = latency.map((l, i) => l - gpu[i]!);

  // (b) dispatch latency with an idle long-polling agent
  const brokerDispatch: number[] = [];
  const agentStart: number[] = [];
  for (let i = 0; i < N; i++) {
    await new Promise((r) => setTimeout(r, 300)); // the agent is parked in its long-poll
    const t = Date.now();
    const sub = await api("/v2/nsfw-detector", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: nsfwBody,
    });
    const { request_id } = (await sub.json()) as { request_id: string };
    const line = await agent.waitFor(new RegExp(`"job_id":"${request_id}".*"msg":"running"`), 30_000);
    agentStart.push((JSON.parse(line) as { time: number }).time - t);
    for (;;) {
      const s = (await (await api(`/v2/requests/${request_id}/status`)).json()) as {
        status: string;
        metrics: { queue_ms: number };
      };
      if (s.status === "COMPLETED") {
        brokerDispatch.push(s.metrics.queue_ms);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // (c) background removal throughput: platform (sync calls, warm agent) ...
  await api("/v1/background-removal", { method: "POST", headers: { "content-type": "image/jpeg" }, body: photo });
  let t = performance.now();
  for (let i = 0; i < M; i++) {
    const r = await api("/v1/background-removal", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: photo,
    });
    if (r.status !== 200)
      throw new Error(`platform call failed: ${r.status} ${await r.text()}\n${agent.lines.slice(-5).join("\n")}`);
    await r.arrayBuffer();
  }
  const platformS = (performance.now() - t) / 1000;

  // ... against the library called directly in a loop, doing the same work the agent does
  const require = createRequire(import.meta.url);
  const imgly = await import("@imgly/background-removal-node");
  const dist = path.dirname(require.resolve("@imgly/background-removal-node"));
  const config = { publicPath: `file://${dist}/`, model: "medium" as const, output: { format: "image/png" as const } };
  const direct = async () => {
    const png = await sharp(photo).rotate().png().toBuffer();
    const blob = await imgly.removeBackground(new Blob([new Uint8Array(png)], { type: "image/png" }), config);
    return blob.arrayBuffer();
  };
  await direct();
  t = performance.now();
  for (let i = 0; i < M; i++) await direct();
  const directS = (performance.now() - t) / 1000;

  const result = {
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    a_sync_overhead: {
      calls: N,
      model: "nsfw-detector",
      latency_ms_p50: round(pct(latency, 50)),
      gpu_ms_p50: round(pct(gpu, 50)),
      overhead_ms_p50: round(pct(overhead, 50)),
      overhead_ms_p95: round(pct(overhead, 95)),
      overhead_share_of_latency_p50: Math.round((pct(overhead, 50) / pct(latency, 50)) * 1000) / 1000,
    },
    b_dispatch: {
      jobs: N,
      broker_queue_ms_p50: round(pct(brokerDispatch, 50)),
      broker_queue_ms_p95: round(pct(brokerDispatch, 95)),
      submit_to_agent_running_ms_p50: round(pct(agentStart, 50)),
      submit_to_agent_running_ms_p95: round(pct(agentStart, 95)),
    },
    c_background_removal_throughput: {
      calls: M,
      platform_per_s: Math.round((M / platformS) * 10000) / 10000,
      direct_per_s: Math.round((M / directS) * 10000) / 10000,
      platform_vs_direct: Math.round((directS / platformS) * 1000) / 1000,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "latest.json"), JSON.stringify(result, null, 2));
} finally {
  agent.proc.kill("SIGTERM");
  await new Promise((r) => {
    agent.proc.once("exit", r);
    setTimeout(r, 10_000);
  });
  await platform.stop();
  rmSync(dir, { recursive: true, force: true });
}
