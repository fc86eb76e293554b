/**
 * Agent benchmark, one run, real agents and a real model (nsfw-detector) on wrangler dev:
 *  (1) with a queue of short jobs, the device's idle gap between consecutive runs with prefetch against without it
 *      (target: the gap with prefetch under 5% of the job time);
 *  (2) the share of jobs routed to a warm agent when one has capacity, with a cold agent polling beside it
 *      (target: all of them).
 * Usage: npm run bench:agent [-- --jobs 8]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, admin, startAgent, startPlatform, type AgentProcess } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const JOBS = arg("jobs", 8);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg")).toString("base64");

const dir = mkdtempSync(path.join(tmpdir(), "edge-bench-agent-"));
const platform = await startPlatform({
  port: 19_700 + Math.floor(Math.random() * 150),
  adminToken: "bench-admin-token-0123456789",
  persistDir: path.join(dir, "state"),
  logDir: dir,
});
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
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": platform.demo.api_key, "content-type": "application/json", ...(init.headers ?? {}) },
  });

async function submit(): Promise<string> {
  const r = await api("/v2/nsfw-detector", { method: "POST", body: JSON.stringify({ image: photo }) });
  if (r.status !== 202) throw new Error(`submit failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { request_id: string }).request_id;
}

async function finished(id: string): Promise<{ gpu_ms: number }> {
  for (;;) {
    const s = (await (await api(`/v2/requests/${id}/status`)).json()) as {
      status: string;
      metrics: { gpu_ms: number };
    };
    if (s.status === "COMPLETED") return s.metrics;
    if (s.status === "FAILED" || s.status === "CANCELLED") throw new Error(`${id} ${s.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(a: AgentProcess) {
  const exited = new Promise((r) => a.proc.once("exit", r));
  a.proc.kill("SIGTERM");
  await exited;
}

async function gaps(prefetch: number) {
  const a = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", `gap-${prefetch}`, "--models", "nsfw-detector", "--prefetch", String(prefetch)],
    path.join(dir, `gap-${prefetch}.log`),
  );
  await a.waitFor(/"msg":"registered"/, 120_000);
  const ids = [];
  for (let i = 0; i < JOBS; i++) ids.push(await submit());
  const metrics = await Promise.all(ids.map(finished));
  const runs = a.lines
    .filter((l) => l.includes('"msg":"running"') && l.includes("device_gap_ms"))
    .map((l) => (JSON.parse(l) as { device_gap_ms: number }).device_gap_ms);
  await stop(a);
  return { gaps: runs, job_ms: median(metrics.map((m) => m.gpu_ms)) };
}

try {
  const without = await gaps(0);
  const withPrefetch = await gaps(1);

  // routing: one agent with the model loaded, one cold agent polling beside it
  const warm = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "warm", "--models", "nsfw-detector"],
    path.join(dir, "warm.log"),
  );
  const cold = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "cold", "--models", "nsfw-detector", "--preload", "false"],
    path.join(dir, "cold.log"),
  );
  await Promise.all([warm.waitFor(/"msg":"registered"/, 120_000), cold.waitFor(/"msg":"registered"/, 120_000)]);
  let toWarm = 0;
  for (let i = 0; i < JOBS; i++) {
    await new Promise((r) => setTimeout(r, 300)); // both agents parked in their long-polls
    const id = await submit();
    await finished(id);
    if (warm.lines.some((l) => l.includes(id) && l.includes('"msg":"completed"'))) toWarm++;
  }
  await Promise.all([stop(warm), stop(cold)]);

  const result = {
    model: "nsfw-detector",
    jobs: JOBS,
    job_ms_median: withPrefetch.job_ms,
    idle_gap_ms_median: { without_prefetch: median(without.gaps), with_prefetch: median(withPrefetch.gaps) },
    idle_gap_share_of_job: {
      without_prefetch: Math.round((median(without.gaps) / without.job_ms) * 10000) / 10000,
      with_prefetch: Math.round((median(withPrefetch.gaps) / withPrefetch.job_ms) * 10000) / 10000,
    },
    idle_gaps_ms: { without_prefetch: without.gaps, with_prefetch: withPrefetch.gaps },
    routed_to_warm_agent: `${toWarm}/${JOBS}`,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "agent.json"), JSON.stringify(result, null, 2));
} finally {
  await platform.stop();
  if (process.env.BENCH_KEEP) console.log("logs kept in", dir);
  else rmSync(dir, { recursive: true, force: true });
}
