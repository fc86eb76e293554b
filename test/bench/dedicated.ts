/**
 * Dedicated endpoint benchmark, one run, real agents and a real model (nsfw-detector on cpu) on wrangler dev: request
 * latency through a warm dedicated endpoint against the shared pool, first idle, then with a competing backlog on
 * the shared pool (each sample queues `--backlog` async jobs there, then times one sync call on each path at once).
 * Expected: the dedicated p50 stays flat while the shared pool's grows with its queue.
 * Usage: npm run bench:dedicated [-- --samples 10 --backlog 10]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, admin, startAgent, startPlatform, type AgentProcess } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SAMPLES = arg("samples", 10);
const BACKLOG = arg("backlog", 10);
const pct = (xs: number[], p: number) =>
  Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!);
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg")).toString("base64");

const dir = mkdtempSync(path.join(tmpdir(), "edge-bench-dedicated-"));
const platform = await startPlatform({
  port: 19_900 + Math.floor(Math.random() * 90),
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
const body = JSON.stringify({ image: photo });

async function timed(p: string): Promise<number> {
  const t = performance.now();
  const r = await api(p, { method: "POST", body, headers: { accept: "application/json" } });
  if (r.status !== 200) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
  return performance.now() - t;
}

const agents: AgentProcess[] = [];
try {
  const common = ["--models", "nsfw-detector", "--gpu-class", "cpu", "--lease-wait-ms", "5000", "--prefetch", "0"];
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
  const created = await api("/v1/endpoints", {
    method: "POST",
    body: JSON.stringify({
      name: "bench",
      model: "nsfw-detector",
      gpu_class: "cpu",
      min_instances: 1,
      max_instances: 1,
    }),
  });
  const ep = (await created.json()) as { id: string };
  for (let i = 0; ; i++) {
    const v = (await (await api(`/v1/endpoints/${ep.id}`)).json()) as { state: string };
    if (v.state === "running") break;
    if (i > 240) throw new Error(`endpoint not running: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  for (let i = 0; i < 3; i++) await Promise.all([timed(`/v1/endpoints/${ep.id}/run`), timed("/v1/nsfw-detector")]); // warm both paths

  const idle = { dedicated: [] as number[], shared: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    const [d, s] = await Promise.all([timed(`/v1/endpoints/${ep.id}/run`), timed("/v1/nsfw-detector")]);
    idle.dedicated.push(d);
    idle.shared.push(s);
  }
  const loaded = { dedicated: [] as number[], shared: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    await Promise.all(Array.from({ length: BACKLOG }, () => api("/v2/nsfw-detector", { method: "POST", body })));
    const [d, s] = await Promise.all([timed(`/v1/endpoints/${ep.id}/run`), timed("/v1/nsfw-detector")]);
    loaded.dedicated.push(d);
    loaded.shared.push(s);
  }
  const end = (await (await api(`/v1/endpoints/${ep.id}`, { method: "DELETE" })).json()) as {
    spent: number;
    billed_s: number;
  };
  const sum = (x: { dedicated: number[]; shared: number[] }) => ({
    dedicated_ms: { p50: pct(x.dedicated, 0.5), p90: pct(x.dedicated, 0.9) },
    shared_ms: { p50: pct(x.shared, 0.5), p90: pct(x.shared, 0.9) },
  });
  const result = {
    model: "nsfw-detector",
    gpu_class: "cpu",
    samples: SAMPLES,
    competing_backlog_per_sample: BACKLOG,
    idle: sum(idle),
    under_shared_load: sum(loaded),
    endpoint: { billed_s: end.billed_s, spent_micro_usd: end.spent, requests: 2 * SAMPLES + 3 },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "dedicated.json"), JSON.stringify(result, null, 2));
} finally {
  for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
  await platform.stop();
  if (process.env.BENCH_KEEP) console.log("logs kept in", dir);
  else rmSync(dir, { recursive: true, force: true });
}
