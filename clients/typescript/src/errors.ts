import type { ErrorCode, RequestResult, WorkflowRun } from "./types.ts";

const RETRYABLE = new Set<string>(["rate_limited", "internal", "no_capacity", "timeout"]);

/** An error answer of the API, with its stable code (`invalid_input`, `insufficient_credits`, `rate_limited`, …). */
export class EdgeInferenceError extends Error {
  override readonly name: string = "EdgeInferenceError";
  readonly code: ErrorCode;
  readonly status: number;
  /** the platform's id of the HTTP call (x-request-id), for support */
  readonly requestId: string | null;
  readonly details: unknown;
  /** seconds, from Retry-After on 429 */
  readonly retryAfter: number | null;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    requestId: string | null,
    details?: unknown,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** Worth trying again later: the platform was busy or failed, not the request. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The fields that failed validation, for `invalid_input`. */
  get fields(): { path: string; message: string }[] {
    const f = (this.details as { fields?: { path: string; message: string }[] } | undefined)?.fields;
    return Array.isArray(f) ? f : [];
  }
}

/** The request was accepted but its model run failed or was cancelled; `kind` says why (`invalid_input`, `oom`…). */
export class RequestFailedError extends EdgeInferenceError {
  override readonly name = "RequestFailedError";
  /** the inference request's id (req_…) */
  readonly inferenceRequestId: string;
  readonly kind: string;
  readonly result: RequestResult | null;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    inferenceRequestId: string,
    kind: string,
    result: RequestResult | null = null,
  ) {
    super(code, message, status, null, { request_id: inferenceRequestId, kind });
    this.inferenceRequestId = inferenceRequestId;
    this.kind = kind;
    this.result = result;
  }
}

/** A workflow run failed or was cancelled; `node` names the node that failed (null for a cancel or run-level error). */
export class WorkflowRunFailedError extends EdgeInferenceError {
  override readonly name = "WorkflowRunFailedError";
  readonly runId: string;
  readonly node: string | null;
  readonly kind: string;
  /** the run as it ended, when known (a sync call's error answer carries only its error) */
  readonly run: WorkflowRun | null;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    runId: string,
    node: string | null,
    kind: string,
    run: WorkflowRun | null = null,
  ) {
    super(code, message, status, null, { run_id: runId, error: { node, kind, message } });
    this.runId = runId;
    this.node = node;
    this.kind = kind;
    this.run = run;
  }

  /** The same codes the sync endpoint answers a failed run with. */
  static of(run: WorkflowRun): WorkflowRunFailedError {
    const e = run.error;
    const kind = e?.kind ?? (run.status === "CANCELLED" ? "cancelled" : "runtime_error");
    const code: ErrorCode =
      run.status === "CANCELLED"
        ? "conflict"
        : kind === "timeout"
          ? "timeout"
          : kind === "invalid_input"
            ? "unprocessable"
            : "internal";
    const status = { conflict: 409, timeout: 504, unprocessable: 422 }[code as string] ?? 500;
    const message = e?.message ?? `run ${run.status.toLowerCase()}`;
    return new WorkflowRunFailedError(code, message, status, run.run_id, e?.node ?? null, kind, run);
  }
}

/** `wait` gave up before the request finished; the request itself keeps running. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  readonly inferenceRequestId: string;
  readonly last: { status: string };

  constructor(inferenceRequestId: string, last: { status: string }) {
    super(`request ${inferenceRequestId} is still ${last.status}`);
    this.inferenceRequestId = inferenceRequestId;
    this.last = last;
  }
}

/** Turns a non-2xx response into an EdgeInferenceError (or RequestFailedError when a model run failed). */
export async function errorFrom(res: Response): Promise<EdgeInferenceError> {
  let body: { error?: { code?: string; message?: string; request_id?: string; details?: unknown } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not the envelope (a proxy's page, say): keep the HTTP status
  }
  const e = body.error ?? {};
  const code = (e.code ?? (res.status >= 500 ? "internal" : "invalid_input")) as ErrorCode;
  const message = e.message ?? `HTTP ${res.status}`;
  const details = e.details as
    | { request_id?: string; kind?: string; run_id?: string; error?: { node?: string | null; kind?: string } | null }
    | undefined;
  if (details?.run_id && details.error?.kind)
    return new WorkflowRunFailedError(
      code,
      message,
      res.status,
      details.run_id,
      details.error.node ?? null,
      details.error.kind,
    );
  if (details?.request_id && details.kind)
    return new RequestFailedError(code, message, res.status, details.request_id, details.kind);
  const retryAfter = res.headers.get("retry-after");
  return new EdgeInferenceError(
    code,
    message,
    res.status,
    e.request_id ?? res.headers.get("x-request-id"),
    e.details,
    retryAfter ? Number(retryAfter) : null,
  );
}
