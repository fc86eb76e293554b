import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { z } from "zod";
import { MODEL_BY_SLUG, MODEL_DEFINITIONS, imageField, type LeasedJob, type ModelDefinition, type WorkflowRunView } from "../../schemas/index.ts";
import { call, json, syncCatalog, type FakeAgent } from "./helpers.ts";

/**
 * Stand-ins for the sharp utility models another branch adds to the catalog (image-resize, image-crop,
 * image-composite, image-convert, text-overlay), registered only inside these tests and only when the catalog does
 * not already define them: same slugs, same input names, CPU, priced per CPU-second.
 */
const util = (slug: string, input: z.ZodType): ModelDefinition => ({
  slug, name: slug, category: "image-editing", description: `${slug} (test stand-in)`, input, output_type: "image", runtime: "builtin",
  gpu_classes: ["cpu"], pricing: { kind: "per_gpu_second", micro_usd_per_second: { cpu: 20 } }, free: true, pool: "public", max_execution_s: 30,
});
const STAND_INS = [
  util("image-resize", z.strictObject({ image: imageField("image"), width: z.number().int().min(1).max(8192).optional(), height: z.number().int().min(1).max(8192).optional(), mode: z.enum(["fit", "fill", "crop"]).default("fit") })),
  util("image-crop", z.strictObject({ image: imageField("image"), left: z.number().int().min(0), top: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1) })),
  util("image-composite", z.strictObject({ image: imageField("cutout"), background: imageField("colour, gradient or image").default("#ffffff"), x: z.number().optional(), y: z.number().optional(), scale: z.number().min(0.01).max(10).default(1) })),
  util("image-convert", z.strictObject({ image: imageField("image"), format: z.enum(["png", "jpeg", "webp", "avif"]), quality: z.number().int().min(1).max(100).default(80) })),
  util("text-overlay", z.strictObject({ image: imageField("image"), text: z.string().min(1).max(500), position: z.enum(["top", "center", "bottom"]).default("bottom") })),
];

export const ALL_MODELS = ["background-removal", "nsfw-detector", ...STAND_INS.map((m) => m.slug)];
/** the dearest allowed class's rate × max execution: what one node of each model holds */
export const MAX = { "background-removal": 1400 * 120, "nsfw-detector": 1400 * 60, util: 20 * 30 } as const;

export async function syncWithStandIns() {
  for (const m of STAND_INS) {
    if (MODEL_BY_SLUG.has(m.slug)) continue;
    MODEL_DEFINITIONS.push(m);
    MODEL_BY_SLUG.set(m.slug, m);
  }
  await syncCatalog();
}

export const ref = (r: string) => ({ $ref: r });

/** The example: cut out, composite on a colour, check the result. */
export const CHAIN = {
  inputs: { image: { type: "image" }, background: { type: "string", default: "#ffffff" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
    flat: { model: "image-composite", input: { image: ref("nodes.cutout.output"), background: ref("inputs.background") } },
    check: { model: "nsfw-detector", input: { image: ref("nodes.flat.output") } },
  },
  outputs: { image: ref("nodes.flat.output"), safety: ref("nodes.check.json") },
};

/** A diamond: one cut-out feeding two branches that a composite joins. */
export const DIAMOND = {
  inputs: { image: { type: "image" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
    small: { model: "image-resize", input: { image: ref("nodes.cutout.output"), width: 64 } },
    large: { model: "image-resize", input: { image: ref("nodes.cutout.output"), width: 512 } },
    join: { model: "image-composite", input: { image: ref("nodes.small.output"), background: ref("nodes.large.output") } },
  },
  outputs: { image: ref("nodes.join.output") },
};

/** Creates, publishes and (optionally) aliases a workflow; returns its slug. */
export async function publish(key: string, definition: unknown, slug = `wf-${crypto.randomUUID().slice(0, 8)}`): Promise<string> {
  const h = { "x-api-key": key };
  const c = await json("POST", "/v1/workflows", { slug, name: slug, definition }, h);
  expect(c.status, await c.clone().text()).toBe(201);
  const p = await json("POST", `/v1/workflows/${slug}/versions`, undefined, h);
  expect(p.status).toBe(201);
  return slug;
}

export async function runView(key: string, id: string): Promise<WorkflowRunView> {
  const r = await call(`/v2/workflow-runs/${id}`, { headers: { "x-api-key": key } });
  expect(r.status).toBe(200);
  return (await r.json()) as WorkflowRunView;
}

export async function waitRun(key: string, id: string, done: (v: WorkflowRunView) => boolean, ms = 10_000): Promise<WorkflowRunView> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await runView(key, id);
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const ended = (v: WorkflowRunView) => ["COMPLETED", "FAILED", "CANCELLED"].includes(v.status) && v.cost !== null;

/** Leases until `n` jobs are in hand (or the wait ends). */
export async function leaseN(agent: FakeAgent, n: number, ms = 5_000): Promise<LeasedJob[]> {
  const got: LeasedJob[] = [];
  const end = Date.now() + ms;
  while (got.length < n && Date.now() < end) got.push(...(await agent.lease({ wait_ms: 100, slots_free: Math.min(64, n - got.length) })));
  return got;
}

/** Completes a leased job as gpu-agent does: uploads a file (image models) or returns JSON (nsfw-detector). */
export async function complete(agent: FakeAgent, job: LeasedJob, gpuMs = 20): Promise<Response> {
  const isJson = job.model === "nsfw-detector";
  const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, ...new TextEncoder().encode(job.job_id)]);
  if (!isJson) {
    const put = await call(`/agent/v1/jobs/${job.job_id}/outputs/output.png`, { method: "PUT", headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" }, body: bytes });
    if (put.status !== 200) return put; // a cancelled or re-leased job refuses the upload (409) as it refuses completion
  }
  await new Promise((r) => setTimeout(r, Math.max(25, gpuMs + 5))); // reported time must fit in the lease window
  return agent.post(`/agent/v1/jobs/${job.job_id}/complete`, {
    lease_id: job.lease_id, epoch: job.epoch, outputs: isJson ? [] : [{ name: "output.png", content_type: "image/png", size: bytes.byteLength }],
    ...(isJson ? { output_json: { Neutral: 0.97, Porn: 0.01 } } : {}),
    metrics: { gpu_ms: gpuMs, load_ms: 0, gpu_class: "cpu" },
  });
}

export async function fail(agent: FakeAgent, job: LeasedJob, kind = "runtime_error", retryable = false): Promise<Response> {
  return agent.post(`/agent/v1/jobs/${job.job_id}/fail`, { lease_id: job.lease_id, epoch: job.epoch, kind, message: `test ${kind}`, retryable });
}

export function ledgerOf(accountId: string) {
  return env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(accountId));
}

export async function balances(accountId: string) {
  const s = await ledgerOf(accountId).summary(accountId, "pro");
  expect(s.deposits).toBe(s.available + s.held + s.spent);
  return s;
}

export function runDo(runId: string) {
  return env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(runId));
}

/** Rows of the ledger's journal for one run (captures, the commit), read from its SQLite. */
export async function journal(accountId: string, runId: string) {
  return runInDurableObject(ledgerOf(accountId), (_i, s) => s.storage.sql.exec<{ op_id: string; kind: string; amount: number }>(`SELECT op_id, kind, amount FROM journal WHERE hold_id = ? ORDER BY seq`, runId).toArray());
}
