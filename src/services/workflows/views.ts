import type { AgentOutput, WorkflowRunView } from "../../../schemas/index.ts";
import { parseRef } from "../../../schemas/workflow.ts";
import type { RunSnapshot } from "../../durable-objects/workflow-run-sql.ts";
import { outputKey, runInputKey } from "../../durable-objects/workflow-run-values.ts";
import { base64url, hmacSha256, safeEqual } from "../crypto.ts";
import { OUTPUT_URL_TTL_S } from "../urls.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function runUrls(base: string, id: string) {
  const status = `${base}/v2/workflow-runs/${id}`;
  return { poll_url: status, status_url: status, events_url: `${status}/events`, cancel_url: `${status}/cancel` };
}

async function signature(secret: string, run: string, name: string, expires: number) {
  return base64url(await hmacSha256(secret, `workflow-output:${run}/${name}:${expires}`));
}

export async function verifyRunOutput(
  secret: string,
  run: string,
  name: string,
  expires: number,
  sig: string,
  now: number,
) {
  if (!Number.isInteger(expires) || expires * 1000 < now) return false;
  return safeEqual(await signature(secret, run, name, expires), sig);
}

type Mapped = { type: "file"; key: string; content_type: string; size: number } | { type: "json"; value: unknown };

/**
 * What a run's mapped output is. Only a completed run has outputs: intermediate nodes and failed runs expose none.
 */
export function mappedOutput(snap: RunSnapshot, name: string): Mapped | null {
  if (snap.run.status !== "COMPLETED") return null;
  const o = snap.spec.definition.outputs[name];
  const ref = o ? parseRef(o.$ref) : null;
  if (!ref) return null;
  if (ref.kind === "input") {
    const v = snap.spec.inputs[ref.name];
    return snap.spec.image_inputs.includes(ref.name)
      ? { type: "file", key: v as string, content_type: "application/octet-stream", size: 0 }
      : { type: "json", value: v };
  }
  const n = snap.nodes.find((x) => x.id === ref.node);
  if (!n) return null;
  if (ref.kind === "json") {
    let v: unknown = n.output_json ? JSON.parse(n.output_json) : null;
    for (const p of ref.path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
    return { type: "json", value: v ?? null };
  }
  const f = (JSON.parse(n.outputs ?? "[]") as AgentOutput[])[ref.index];
  return f
    ? {
        type: "file",
        key: outputKey(snap.run.account_id, n.job_id, f.name),
        content_type: f.content_type,
        size: f.size ?? 0,
      }
    : null;
}

/** The public view of a run: status words as requests use them, outputs (signed URLs), cost, and every node. */
export async function runView(snap: RunSnapshot, secret: string, now: number): Promise<WorkflowRunView> {
  const { run, spec } = snap;
  const base = spec.base_url;
  let outputs: WorkflowRunView["outputs"] = null;
  if (run.status === "COMPLETED") {
    outputs = {};
    const expires = Math.floor(now / 1000) + OUTPUT_URL_TTL_S;
    for (const name of Object.keys(spec.definition.outputs)) {
      const m = mappedOutput(snap, name);
      if (!m) continue;
      outputs[name] =
        m.type === "json"
          ? m
          : {
              type: "file",
              url: `${base}/v2/workflow-runs/${run.run_id}/outputs/${encodeURIComponent(name)}?expires=${expires}&sig=${await signature(secret, run.run_id, name, expires)}`,
              content_type: m.content_type,
              size: m.size,
              expires_at: new Date(expires * 1000).toISOString(),
            };
    }
  }
  const first = outputs ? Object.values(outputs)[0] : undefined;
  return {
    run_id: run.run_id,
    workflow: spec.workflow,
    version: spec.version,
    status: run.status,
    created_at: iso(run.created_at)!,
    started_at: iso(run.started_at),
    completed_at: iso(run.completed_at),
    cost: run.charge,
    held: run.held,
    outputs,
    output: first ? (first.type === "file" ? first.url : first.value) : null,
    error: run.error_kind
      ? { node: run.error_node, kind: run.error_kind, message: run.error_message ?? run.error_kind }
      : null,
    nodes: Object.fromEntries(
      snap.nodes.map((n) => [
        n.id,
        {
          status: n.status,
          model: n.model,
          request_id: n.job_id,
          attempts: n.attempts,
          queued_at: iso(n.queued_at),
          started_at: iso(n.started_at),
          ended_at: iso(n.ended_at),
          gpu_ms: n.gpu_ms,
          max_cost: n.max_cost,
          cost: n.charge,
          error: n.error_kind ? { kind: n.error_kind, message: n.error_message ?? n.error_kind } : null,
        },
      ]),
    ),
    ...runUrls(base, run.run_id),
  };
}

export { runInputKey };
