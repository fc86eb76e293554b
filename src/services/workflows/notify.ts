import type { Env } from "../../env.ts";

/** Node jobs of workflow runs have ids `{run}:{node}`, run ids start with `wfr_`. */
const NODE_JOB = /^(wfr_[A-Za-z0-9_-]+):([a-z][a-z0-9_-]{0,39})$/;

export function workflowRunOf(jobId: string): string | null {
  return NODE_JOB.exec(jobId)?.[1] ?? null;
}

/** Tells a node job's run that the job changed; a no-op for ordinary requests. Idempotent on the run's side. */
export async function notifyWorkflowRun(env: Pick<Env, "WORKFLOW_RUN">, jobId: string): Promise<void> {
  const run = workflowRunOf(jobId);
  if (!run) return;
  await env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(run)).onJob(jobId);
}
