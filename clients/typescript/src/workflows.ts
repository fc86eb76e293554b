/**
 * Workflow runs: submit (202 with the run id), wait (polls the run with backoff until it ended and its cost is
 * final), and run (the sync endpoint with Accept: application/json, falling back to waiting on a 202).
 */
import { WaitTimeoutError, WorkflowRunFailedError } from "./errors.ts";
import { isTerminal } from "./status.ts";
import type { ModelInput, WorkflowRun, WorkflowRunSubmitted } from "./types.ts";

/** What the helpers need of the client: its one JSON call. */
export interface JsonCaller {
  request<T>(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<{ status: number; body: T; headers: Headers }>;
}

export interface WorkflowSubmitOptions {
  webhook?: string;
  /** a retry with the same key returns the first run instead of starting another */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitRunOptions {
  /** give up after this many ms with WaitTimeoutError (default 10 minutes); the run keeps going */
  timeoutMs?: number;
  /** first poll interval in ms, doubling to 2 s (default 250) */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

export interface WorkflowRunOptions {
  /** seconds the sync call waits before the platform answers 202 and this falls back to waiting (default 60) */
  syncWaitSeconds?: number;
  timeoutMs?: number;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A run has ended once its status is terminal and its charge is settled (cost stops being null). */
const ended = (r: WorkflowRun) => isTerminal(r.status) && r.cost !== null;
/** `slug`, `slug@3`, `slug@production`: the @ stays readable, the rest is escaped. */
const refPath = (ref: string) => ref.split("@").map(encodeURIComponent).join("@");

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export async function submitWorkflow(
  c: JsonCaller,
  ref: string,
  inputs: ModelInput,
  opts: WorkflowSubmitOptions = {},
): Promise<WorkflowRunSubmitted> {
  const body = { ...inputs, ...(opts.webhook ? { webhook: opts.webhook } : {}) };
  const headers: Record<string, string> = opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {};
  const path = `/v2/workflows/${refPath(ref)}`;
  return (await c.request<WorkflowRunSubmitted>("POST", path, { body, headers, signal: opts.signal })).body;
}

export async function getRun(c: JsonCaller, runId: string, signal?: AbortSignal): Promise<WorkflowRun> {
  return (await c.request<WorkflowRun>("GET", `/v2/workflow-runs/${encodeURIComponent(runId)}`, { signal })).body;
}

/** Resolves with the run once it ended (COMPLETED, FAILED or CANCELLED: check `status`; `runWorkflow` throws). */
export async function waitRun(c: JsonCaller, runId: string, opts: WaitRunOptions = {}): Promise<WorkflowRun> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let interval = opts.pollIntervalMs ?? 250;
  for (;;) {
    const r = await getRun(c, runId, opts.signal);
    if (ended(r)) return r;
    if (Date.now() >= deadline) throw new WaitTimeoutError(runId, r);
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
    interval = Math.min(2000, interval * 2);
  }
}

/** Runs a published workflow and returns the completed run (outputs by name); throws WorkflowRunFailedError. */
export async function runWorkflow(
  c: JsonCaller,
  ref: string,
  inputs: ModelInput,
  opts: WorkflowRunOptions = {},
): Promise<WorkflowRun> {
  const wait = Math.max(1, Math.min(300, opts.syncWaitSeconds ?? 60));
  const headers: Record<string, string> = {
    prefer: `wait=${wait}`,
    ...(opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {}),
  };
  const res = await c.request<WorkflowRun>("POST", `/v1/workflows/${refPath(ref)}`, {
    body: inputs,
    headers,
    signal: opts.signal,
  });
  const run = ended(res.body)
    ? res.body
    : await waitRun(c, res.body.run_id, { timeoutMs: opts.timeoutMs, signal: opts.signal });
  if (run.status !== "COMPLETED") throw WorkflowRunFailedError.of(run);
  return run;
}
