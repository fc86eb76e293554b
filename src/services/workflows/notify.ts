import type { Env } from "../../env.ts";

/** Node jobs of workflow runs have ids `{run}:{node}`, run ids start with `wfr_`. */
const NODE_JOB = /^(wfr_[A-Za-z0-9_-]+):([a-z][a-z0-9_-]{0,39})$/;

export function workflowRunOf(jobId: string): string | null {
  return NODE_JOB.exec(jobId)?.[1] ?? null;
}

/** The one call made here; named structurally so this module (imported by the broker) imports no run object. */
type RunNotify = { onJob(jobId: string): Promise<unknown> };

/** Tells a node job's run that the job changed; a no-op for ordinary requests. Idempotent on the run's side. */
export async function notifyWorkflowRun(env: Pick<Env, "WORKFLOW_RUN">, jobId: string): Promise<void> {
  const run = workflowRunOf(jobId);
  if (!run) return;
  const stub = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(run)) as unknown as RunNotify;
  await stub.onJob(jobId);
}
