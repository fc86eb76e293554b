import type { Env } from "../env.ts";
import { COMFY_SPEC_KEY } from "../../schemas/index.ts";
import { broker } from "../services/broker.ts";
import { withModeration } from "../services/requests.ts";
import type { NodeRow } from "./workflow-run-sql.ts";
import type { PreparedInput, RunSpec } from "./workflow-run-values.ts";

/**
 * A run's nodes as broker jobs: each node's job `{run}:{node}` is queued in its model's pool (the broker dedupes by
 * job id, so queueing again after a crash is harmless) and cancelled when the run ends first.
 */

/** Copies the node's files into place and queues its job; returns why not when an upstream file is missing. */
export async function enqueueNode(env: Env, spec: RunSpec, n: NodeRow): Promise<string | null> {
  const m = spec.nodes[n.id]!;
  const { input, copies } = JSON.parse(n.input!) as PreparedInput;
  for (const [from, to] of copies) {
    const obj = await env.BLOBS.get(from);
    if (!obj) return `an upstream file of node '${n.id}' is missing`;
    await env.BLOBS.put(to, await obj.arrayBuffer(), { httpMetadata: obj.httpMetadata });
  }
  await broker(env, m.pool).enqueue({
    id: n.job_id,
    account_id: spec.account_id,
    model: m.model,
    runtime: m.runtime,
    gpu_classes: m.gpu_classes,
    // the model's moderation policy and a private model's graph travel with the job, as a request's do
    input: withModeration(m.comfy ? { ...input, [COMFY_SPEC_KEY]: m.comfy.spec } : input, {
      moderation: m.moderation ?? "none",
    }),
    priority: spec.priority,
    exec_timeout_ms: m.exec_timeout_ms,
    ttl_ms: spec.job_ttl_ms,
    ...(m.comfy ? { requires: m.comfy.requires } : {}),
  });
  return null;
}

/** Cancels the jobs of nodes the run's end cut short (a job already gone is fine). */
export async function cancelJobs(env: Env, nodes: NodeRow[]): Promise<void> {
  await Promise.all(
    nodes.map((a) =>
      broker(env, a.pool)
        .cancel(a.job_id)
        .catch(() => null),
    ),
  );
}
