import { z } from "zod";

/** The stable error codes of the public and agent APIs, each with its HTTP status. */
export const ERROR_STATUS = {
  invalid_input: 400,
  unauthenticated: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  stale_lease: 409,
  precondition_failed: 412,
  /** an agent's completion claims a GPU class or count other than the one it registered with */
  gpu_class_mismatch: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  precondition_required: 428,
  content_moderated: 422,
  /** the request's `moderation` field is looser than the account's plan allows */
  moderation_not_allowed: 403,
  rate_limited: 429,
  daily_quota_exceeded: 429,
  /** an agent token already has its maximum of live agent registrations */
  agent_limit_exceeded: 429,
  internal: 500,
  no_capacity: 503,
  timeout: 504,
} as const;

export const ErrorCode = z.enum(
  Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]],
);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorEnvelope = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    request_id: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/**
 * Why a job failed, as the agent or the broker reports it. Each kind maps to the public error code the caller sees;
 * `invalid_input` is the caller's fault (the model could not use the input) and is never retried; nor is
 * `content_moderated` (an output scored over the moderation threshold under a `block` policy).
 */
export const JobErrorKind = z.enum([
  "invalid_input",
  "oom",
  "runtime_error",
  "backend_crash",
  "model_unavailable",
  "timeout",
  "worker_lost",
  "no_capacity",
  "cancelled",
  /** the submission was cut off (a crash) before its job was queued; the reconciler failed it */
  "submission_interrupted",
  "content_moderated",
]);
export type JobErrorKind = z.infer<typeof JobErrorKind>;

export const JOB_ERROR_CODE: Record<JobErrorKind, ErrorCode> = {
  invalid_input: "unprocessable",
  oom: "unprocessable",
  runtime_error: "internal",
  backend_crash: "internal",
  model_unavailable: "no_capacity",
  timeout: "timeout",
  worker_lost: "internal",
  no_capacity: "no_capacity",
  cancelled: "conflict",
  submission_interrupted: "internal",
  content_moderated: "content_moderated",
};
