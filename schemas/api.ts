import { z } from "zod";
import { GpuClass, OutputType, Pricing } from "./models.ts";
import { JobErrorKind } from "./errors.ts";
import { MicroUsd, Plan, PlanLimits } from "./plans.ts";
import { RequestStatus } from "./status.ts";
import { WorkflowCatalogEntry } from "./workflow-api.ts";

export const Metrics = z.object({
  gpu_ms: z.number().int().nonnegative().nullable(),
  load_ms: z.number().int().nonnegative().nullable(),
  gpu_class: GpuClass.nullable(),
  queue_ms: z.number().int().nonnegative().nullable(),
  /** utilization-weighted busy GPU time the agent's meter saw (evidence; billing uses gpu_ms) */
  busy_gpu_ms: z.number().int().nonnegative().nullable(),
  attempts: z.number().int().nonnegative(),
});
export type Metrics = z.infer<typeof Metrics>;

export const OutputFile = z.object({
  name: z.string(),
  content_type: z.string(),
  size: z.number().int().nonnegative(),
  url: z.url(),
  expires_at: z.iso.datetime(),
});
export type OutputFile = z.infer<typeof OutputFile>;

export const RequestError = z.object({ kind: JobErrorKind, code: z.string(), message: z.string() });

/** The status object of one request (async or sync), as `GET /v2/requests/{id}/status` returns it. */
export const RequestStatusView = z.object({
  request_id: z.string(),
  model: z.string(),
  status: RequestStatus,
  queue_position: z.number().int().nonnegative().nullable(),
  /** `no_capacity` while queued and no connected agent can serve the model */
  capacity: z.enum(["available", "no_capacity"]).nullable(),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  completed_at: z.iso.datetime().nullable(),
  metrics: Metrics,
  cost: z.number().int().nonnegative().nullable().describe("micro-USD charged; null until settled"),
  error: RequestError.nullable(),
  status_url: z.url(),
  response_url: z.url(),
  cancel_url: z.url(),
});
export type RequestStatusView = z.infer<typeof RequestStatusView>;

export const RequestResult = RequestStatusView.extend({
  output: z.array(OutputFile).nullable(),
  /** structured output of JSON models (classification, detection) */
  output_json: z.unknown().nullable(),
});
export type RequestResult = z.infer<typeof RequestResult>;

export const AsyncSubmitted = z.object({
  request_id: z.string(),
  status: RequestStatus,
  status_url: z.url(),
  response_url: z.url(),
  cancel_url: z.url(),
  queue_position: z.number().int().nonnegative().nullable(),
});
export type AsyncSubmitted = z.infer<typeof AsyncSubmitted>;

export const CancelResult = z.object({
  request_id: z.string(),
  status: RequestStatus,
  outcome: z.enum(["cancelled", "cancellation_requested", "already_completed"]),
});
export type CancelResult = z.infer<typeof CancelResult>;

/**
 * The signature of an output URL (`GET /v2/requests/{id}/outputs/{name}`). Both are optional here: a missing or
 * malformed one is a bad signature (403), never a validation error.
 */
export const OutputQuery = z.object({
  expires: z
    .string()
    .optional()
    .meta({ description: "Unix seconds after which the URL stops working", examples: ["1764594000"] }),
  sig: z
    .string()
    .optional()
    .meta({ description: "HMAC of the request id, output name and expiry", examples: ["9f2c41d0"] }),
});

export const SyncJsonOutput = z.object({
  request_id: z.string(),
  status: RequestStatus,
  output: z.array(OutputFile).nullable(),
  output_json: z.unknown().nullable(),
  /** base64 of each output, present when the request body had `base64: true` */
  output_base64: z.array(z.object({ name: z.string(), content_type: z.string(), data: z.string() })).optional(),
  metrics: Metrics,
  cost: z.number().int().nonnegative().nullable().describe("micro-USD charged"),
});

export const ModelView = z.object({
  slug: z.string(),
  name: z.string(),
  category: z.string(),
  description: z.string(),
  input_schema: z.record(z.string(), z.unknown()),
  output_type: OutputType,
  runtime: z.string(),
  gpu_classes: z.array(GpuClass),
  pricing: Pricing,
  free: z.boolean(),
  max_execution_s: z.number().int(),
});
export type ModelView = z.infer<typeof ModelView>;
export const ModelList = z.object({
  data: z.array(ModelView),
  /** with an API key: the account's published workflows (the version each serves), callable like models */
  workflows: z.array(WorkflowCatalogEntry).optional(),
});

export const Health = z.object({ status: z.literal("ok"), version: z.string(), time: z.iso.datetime() });

// Admin
export const CreateAccount = z.strictObject({ email: z.email().max(320), plan: Plan.default("free") });
export const CreatedId = z.object({ id: z.string() });
export const CreatedKey = z.object({ id: z.string(), key: z.string(), prefix: z.string() });
export const CreateKey = z.strictObject({ name: z.string().max(100).optional() });
export const CreateProvider = z.strictObject({
  name: z.string().min(1).max(100),
  /** GPU classes this provider's agents may register with; a new provider gets CPU only until an admin says more */
  gpu_classes: z.array(GpuClass).min(1).max(7).default(["cpu"]),
  /** the address the provider signs in to the console with */
  email: z.email().max(254).optional(),
});
export const UpdateProvider = z.strictObject({ email: z.email().max(254).nullable() });
export const ProviderEmailView = z.object({ id: z.string(), name: z.string(), email: z.string().nullable() });
export const CreatedToken = z.object({ id: z.string(), token: z.string(), prefix: z.string() });
export const Revoked = z.object({ id: z.string(), revoked: z.literal(true) });
export const CatalogSynced = z.object({ models: z.number().int() });

export const AccountView = z.object({
  id: z.string(),
  plan: Plan,
  limits: PlanLimits,
  /** micro-USD: deposits - spent */
  balance: z.number().int(),
  held: z.number().int().nonnegative(),
  available: z.number().int().nonnegative(),
  spent: z.number().int().nonnegative(),
  in_flight: z.number().int().nonnegative(),
  requests_today: z.number().int().nonnegative(),
  total_requests: z.number().int().nonnegative(),
  daily_quota: z.object({
    used: z.number().int().nonnegative(),
    limit: z.number().int().nullable(),
    resets_at: z.iso.datetime(),
  }),
});
export type AccountView = z.infer<typeof AccountView>;

/** Segmind's `GET /v1/get-user-credits` shape (credits in USD). */
export const UserCredits = z.object({
  remaining_credits: z.number(),
  used_credits: z.number(),
  held_credits: z.number(),
  plan: z.string(),
});

export const UsageRow = z.object({
  request_id: z.string(),
  model: z.string(),
  status: z.string(),
  gpu_seconds: z.number().nullable(),
  gpu_class: z.string().nullable(),
  cost: z.number().int().nullable(),
  created_at: z.iso.datetime(),
  completed_at: z.iso.datetime().nullable(),
  /** why a failed request failed: the job's error kind and its stable error code (e.g. content_moderated) */
  error: z.object({ kind: z.string(), code: z.string() }).nullable().optional(),
});
export const UsagePage = z.object({ data: z.array(UsageRow), next_cursor: z.string().nullable() });
export type UsagePage = z.infer<typeof UsagePage>;
/** `GET /v1/usage`: a page size and the cursor of the previous page (unknown parameters are ignored). */
export const UsageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "next_cursor of the previous page", examples: ["MTczMzA1OTIwMDAwMHxyZXFfNWYwYzFkMmUzYTRi"] }),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const AdminLedgerOp = z.strictObject({
  amount: MicroUsd,
  reason: z.string().min(1).max(500),
  idempotency_key: z.string().min(1).max(255),
});
export type AdminLedgerOp = z.infer<typeof AdminLedgerOp>;
/** An applied (or replayed) credit or debit of an account. */
export const Adjustment = z.object({
  op_id: z.string(),
  kind: z.enum(["credit", "debit"]),
  amount: z.number().int(),
  available: z.number().int(),
  replayed: z.boolean(),
});
export type Adjustment = z.infer<typeof Adjustment>;
export const ChangePlan = z.strictObject({ plan: Plan, limits: PlanLimits.partial().optional() });
export const PlanChanged = z.object({ id: z.string(), plan: Plan, limits: PlanLimits });

/** Admin: an account's money and its holds by status, to reconcile against its requests. */
export const AdminLedgerView = z.object({
  account_id: z.string(),
  deposits: z.number().int(),
  spent: z.number().int(),
  held: z.number().int(),
  available: z.number().int(),
  in_flight: z.number().int(),
  holds: z.array(
    z.object({ status: z.string(), count: z.number().int(), amount: z.number().int(), charged: z.number().int() }),
  ),
});
export type AdminLedgerView = z.infer<typeof AdminLedgerView>;
