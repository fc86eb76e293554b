import { typedLedger, typedRun } from "./support/stubs.ts";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { LeasedJob, WorkflowRunView } from "../../schemas/index.ts";
import { call, json, type FakeAgent } from "./helpers.ts";

/** The CPU models the workflow tests run: background removal, the NSFW classifier and the sharp utilities. */
export const ALL_MODELS = [
  "background-removal",
  "nsfw-detector",
  "image-resize",
  "image-crop",
  "image-composite",
  "image-convert",
  "text-overlay",
];
/** What one node of each model holds: the dearest allowed class's rate × max execution, or its fixed price. */
export const MAX = {
  "background-removal": 1400 * 120,
  "nsfw-detector": 1400 * 60,
  "image-resize": 100,
  "image-crop": 100,
  "image-composite": 200,
  "image-convert": 100,
  "text-overlay": 200,
} as const;

export const ref = (r: string) => ({ $ref: r });

/** The example: cut out, composite on a colour, check the result. */
export const CHAIN = {
  inputs: { image: { type: "image" }, background: { type: "string", default: "#ffffff" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
    flat: {
      model: "image-composite",
      input: { image: ref("nodes.cutout.output"), background: ref("inputs.background") },
    },
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
    join: {
      model: "image-composite",
      input: { image: ref("nodes.small.output"), background_image: ref("nodes.large.output") },
    },
  },
  outputs: { image: ref("nodes.join.output") },
};

/** Creates, publishes and (optionally) aliases a workflow; returns its slug. */
export async function publish(
  key: string,
  definition: unknown,
  slug = `wf-${crypto.randomUUID().slice(0, 8)}`,
): Promise<string> {
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

export async function waitRun(
  key: string,
  id: string,
  done: (v: WorkflowRunView) => boolean,
  ms = 10_000,
): Promise<WorkflowRunView> {
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
  while (got.length < n && Date.now() < end)
    got.push(...(await agent.lease({ wait_ms: 100, slots_free: Math.min(64, n - got.length) })));
  return got;
}

/** Completes a leased job as gpu-agent does: uploads a file (image models) or returns JSON (nsfw-detector). */
export async function complete(agent: FakeAgent, job: LeasedJob, gpuMs = 20, gpuClass = "cpu"): Promise<Response> {
  const isJson = job.model === "nsfw-detector";
  const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, ...new TextEncoder().encode(job.job_id)]);
  if (!isJson) {
    const put = await call(`/agent/v1/jobs/${job.job_id}/outputs/output.png`, {
      method: "PUT",
      headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" },
      body: bytes,
    });
    if (put.status !== 200) return put; // a cancelled or re-leased job refuses the upload (409) as it refuses completion
  }
  await new Promise((r) => setTimeout(r, Math.max(25, gpuMs + 5))); // reported time must fit in the lease window
  return agent.post(`/agent/v1/jobs/${job.job_id}/complete`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    outputs: isJson ? [] : [{ name: "output.png", content_type: "image/png", size: bytes.byteLength }],
    ...(isJson ? { output_json: { Neutral: 0.97, Porn: 0.01 } } : {}),
    metrics: { gpu_ms: gpuMs, load_ms: 0, gpu_class: gpuClass },
  });
}

export async function fail(
  agent: FakeAgent,
  job: LeasedJob,
  kind = "runtime_error",
  retryable = false,
): Promise<Response> {
  return agent.post(`/agent/v1/jobs/${job.job_id}/fail`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    kind,
    message: `test ${kind}`,
    retryable,
  });
}

export function ledgerOf(accountId: string) {
  return typedLedger(accountId);
}

export async function balances(accountId: string) {
  const s = await ledgerOf(accountId).summary(accountId, "pro");
  expect(s.deposits).toBe(s.available + s.held + s.spent);
  return s;
}

export function runDo(runId: string) {
  return typedRun(runId);
}

/** Rows of the ledger's journal for one run (captures, the commit), read from its SQLite. */
export async function journal(accountId: string, runId: string) {
  return runInDurableObject(ledgerOf(accountId), (_i, s) =>
    s.storage.sql
      .exec<{ op_id: string; kind: string; amount: number }>(
        `SELECT op_id, kind, amount FROM journal WHERE hold_id = ? ORDER BY seq`,
        runId,
      )
      .toArray(),
  );
}
