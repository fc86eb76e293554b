/**
 * Workflow benchmark: a 3-node chain (background removal → background removal → NSFW check, real models on the CPU)
 * run as one workflow call, against the same three model calls made one after another by a client that downloads
 * each output and uploads it to the next call. Rounds alternate A B B A so drift hits both sides alike. For each
 * side: wall time, the compute the agent measured (Σ gpu_ms), and overhead per node = (wall − Σ gpu_ms) / 3; the
 * ratio is the workflow's overhead per node over the client chain's.
 * Usage: node test/bench/workflow.ts [--n 4]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, admin, startAgent, startPlatform } from "../../scripts/platform.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("n", 4);
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

const dir = mkdtempSync(path.join(tmpdir(), "edge-wf-bench-"));
const platform = await startPlatform({
  port: 21_500 + Math.floor(Math.random() * 400),
  adminToken: "bench-admin-token-0123456789",
  persistDir: path.join(dir, "state"),
  logDir: dir,
});
const agent = startAgent(
  platform.url,
  platform.demo.agent_token,
  ["--name", "bench", "--models", "background-removal,nsfw-detector"],
  path.join(dir, "agent.log"),
  { LOG_LEVEL: "info" },
);
await agent.waitFor(/"msg":"registered"/, 180_000);
await admin(platform.url, platform.adminToken, "PUT", `/admin/v1/accounts/${platform.demo.account_id}/plan`, {
  plan: "enterprise",
  limits: { rpm: 100_000 },
});
await admin(platform.url, platform.adminToken, "POST", `/admin/v1/accounts/${platform.demo.account_id}/credits`, {
  amount: 100_000_000,
  reason: "bench",
  idempotency_key: "wf-bench",
});
const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, { ...init, headers: { "x-api-key": platform.demo.api_key, ...(init.headers ?? {}) } });

const chain = {
  inputs: { image: { type: "image" } },
  nodes: {
    cut: { model: "background-removal", input: { image: { $ref: "inputs.image" }, model: "small" } },
    recut: { model: "background-removal", input: { image: { $ref: "nodes.cut.output" }, model: "small" } },
    check: { model: "nsfw-detector", input: { image: { $ref: "nodes.recut.output" } } },
  },
  outputs: { safety: { $ref: "nodes.check.json" } },
};

async function viaWorkflow(): Promise<{ wall: number; gpu: number }> {
  const t = performance.now();
  const r = await api("/v1/workflows/chain3", {
    method: "POST",
    headers: { "content-type": "image/jpeg", accept: "application/json", prefer: "wait=300" },
    body: photo,
  });
  const v = (await r.json()) as { status: string; nodes: Record<string, { gpu_ms: number }> };
  const wall = performance.now() - t;
  if (r.status !== 200 || v.status !== "COMPLETED")
    throw new Error(`workflow run failed: ${r.status} ${JSON.stringify(v)}`);
  return { wall, gpu: Object.values(v.nodes).reduce((a, n) => a + n.gpu_ms, 0) };
}

async function viaClient(): Promise<{ wall: number; gpu: number }> {
  const t = performance.now();
  let gpu = 0;
  const step = async (model: string, type: string, body: Uint8Array) => {
    const r = await api(`/v1/${model}${model === "background-removal" ? "?model=small" : ""}`, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });
    if (r.status !== 200) throw new Error(`${model} failed: ${r.status} ${await r.text()}`);
    gpu += Number(r.headers.get("x-gpu-ms"));
    return new Uint8Array(await r.arrayBuffer());
  };
  const a = await step("background-removal", "image/jpeg", photo);
  const b = await step("background-removal", "image/png", a);
  await step("nsfw-detector", "image/png", b);
  return { wall: performance.now() - t, gpu };
}

try {
  const c = await api("/v1/workflows", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ slug: "chain3", name: "chain3", definition: chain }),
  });
  if (c.status !== 201) throw new Error(`create failed: ${await c.text()}`);
  await api("/v1/workflows/chain3/versions", { method: "POST" });
  await viaClient(); // warm both models and both paths once
  await viaWorkflow();
  const wf: { wall: number; gpu: number }[] = [];
  const cl: { wall: number; gpu: number }[] = [];
  for (let i = 0; i < N; i++) {
    if (i % 2 === 0) {
      wf.push(await viaWorkflow());
      cl.push(await viaClient());
    } else {
      cl.push(await viaClient());
      wf.push(await viaWorkflow());
    }
  }
  const perNode = (xs: { wall: number; gpu: number }[]) => xs.map((x) => (x.wall - x.gpu) / 3);
  const result = {
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    rounds: N,
    chain: "background-removal(small) → background-removal(small) → nsfw-detector",
    workflow: {
      wall_ms_median: round(median(wf.map((x) => x.wall))),
      gpu_ms_median: round(median(wf.map((x) => x.gpu))),
      overhead_per_node_ms_median: round(median(perNode(wf))),
    },
    client_chain: {
      wall_ms_median: round(median(cl.map((x) => x.wall))),
      gpu_ms_median: round(median(cl.map((x) => x.gpu))),
      overhead_per_node_ms_median: round(median(perNode(cl))),
    },
    overhead_per_node_ratio_workflow_over_client: Math.round((median(perNode(wf)) / median(perNode(cl))) * 1000) / 1000,
    wall_ratio_workflow_over_client:
      Math.round((median(wf.map((x) => x.wall)) / median(cl.map((x) => x.wall))) * 1000) / 1000,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(ROOT, "test", "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "test", "bench", "results", "workflow.json"), JSON.stringify(result, null, 2));
} finally {
  agent.proc.kill("SIGTERM");
  await new Promise((r) => {
    agent.proc.once("exit", r);
    setTimeout(r, 10_000);
  });
  await platform.stop();
  rmSync(dir, { recursive: true, force: true });
}
