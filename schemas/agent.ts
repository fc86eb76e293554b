import { z } from "zod";
import { GpuClass } from "./models.ts";
import { JobErrorKind } from "./errors.ts";
import { ComfyRequirements } from "./manifest.ts";
import { DedicatedAssignment } from "./endpoints.ts";

/** Every shape of the agent API, used by the Worker (src/routes/agent) and by gpu-agent (gpu-agent/src/client.ts). */

export const GpuInfo = z.object({
  index: z.number().int().nonnegative(),
  uuid: z.string().max(100),
  name: z.string().max(200),
  memory_mib: z.number().int().nonnegative(),
});

export const RegisterRequest = z.strictObject({
  name: z.string().min(1).max(100),
  version: z.string().max(50),
  gpu_class: GpuClass,
  gpus: z.array(GpuInfo).max(16),
  runtimes: z.array(z.string().max(50)).min(1).max(20),
  /** model slugs this agent can serve */
  models: z.array(z.string().max(100)).max(200),
  slots: z.number().int().min(1).max(64),
  driver: z.string().max(50).nullable().optional(),
  cuda: z.string().max(20).nullable().optional(),
  /** GPUs one job runs on (at most the GPUs listed); the count every job of this agent is billed for */
  gpus_per_job: z.number().int().min(1).max(16).default(1),
});
// the input type: what an agent sends (gpus_per_job may be left out)
export type RegisterRequest = z.input<typeof RegisterRequest>;

export const RegisterResponse = z.object({
  agent_id: z.string(),
  pool: z.string(),
  heartbeat_interval_ms: z.number().int().positive(),
  lease_ttl_ms: z.number().int().positive(),
  max_lease_wait_ms: z.number().int().positive(),
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

export const LeaseRequest = z.strictObject({
  agent_id: z.string(),
  slots_free: z.number().int().min(1).max(64),
  loaded_models: z.array(z.string().max(100)).max(200).default([]),
  cached_models: z.array(z.string().max(100)).max(200).default([]),
  wait_ms: z.number().int().min(0).max(25_000).default(20_000),
  /** true when every device slot is busy and this lease only fills the prefetch queue */
  prefetch: z.boolean().default(false),
  /** custom node types and model files (`folder/file`) of the agent's ComfyUI, for private ComfyUI models */
  comfyui: ComfyRequirements.optional(),
  /** the agent's provider opted it in to dedicated endpoints: it may be reserved for one */
  dedicated: z.boolean().optional(),
});
export type LeaseRequest = z.input<typeof LeaseRequest>;

/**
 * Output moderation for a job: after the model, the NSFW classifier scores every image output on the same agent;
 * `flag` completes with the scores attached, `block` fails the job as `content_moderated` when a score reaches the
 * threshold. Absent means `none`.
 */
export const Moderation = z.object({
  policy: z.enum(["none", "flag", "block"]).default("none"),
  /** an output whose NSFW score (probability of Porn + Hentai + Sexy) is at or above this is flagged or blocked */
  threshold: z.number().min(0).max(1).default(0.5),
});
export type Moderation = z.infer<typeof Moderation>;

/**
 * The reserved key under which a job's moderation policy is stored with its input in the broker, and lifted out
 * into `LeasedJob.moderation` when the job is leased (so the broker's storage needs no column of its own).
 */
export const MODERATION_KEY = "$moderation";
/** Small image inputs stored inside the job, lifted into `inline_inputs` of the lease (no download needed). */
export const INLINE_INPUTS_KEY = "$inline_inputs";

export const InlineInput = z.object({ content_type: z.string(), data: z.string() });

/** Moves small inputs stored inside the job out of its input, into the lease's own field. */
export function liftInlineInputs<J extends { input: Record<string, unknown> }>(
  job: J,
): J & { inline_inputs?: Record<string, z.infer<typeof InlineInput>> } {
  const { [INLINE_INPUTS_KEY]: stored, ...input } = job.input;
  const parsed = z.record(z.string(), InlineInput).safeParse(stored);
  return { ...job, input, ...(stored !== undefined && parsed.success ? { inline_inputs: parsed.data } : {}) };
}

/** Moves the stored policy out of the job's input into its own field of the lease. */
export function liftModeration<J extends { input: Record<string, unknown> }>(job: J): J & { moderation?: Moderation } {
  const { [MODERATION_KEY]: stored, ...input } = job.input;
  const parsed = Moderation.safeParse(stored);
  return { ...job, input, ...(stored !== undefined && parsed.success ? { moderation: parsed.data } : {}) };
}

/** What moderation found, per image output, as attached to a flagged result or a blocked failure. */
export const ModerationReport = z.object({
  policy: z.enum(["flag", "block"]),
  threshold: z.number(),
  flagged: z.boolean(),
  outputs: z.array(
    z.object({
      name: z.string(),
      nsfw_score: z.number(),
      flagged: z.boolean(),
      predictions: z.array(z.object({ className: z.string(), probability: z.number() })),
    }),
  ),
});
export type ModerationReport = z.infer<typeof ModerationReport>;

export const LeasedJob = z.object({
  job_id: z.string(),
  lease_id: z.string(),
  epoch: z.number().int().positive(),
  attempt: z.number().int().positive(),
  model: z.string(),
  runtime: z.string(),
  /** the validated input; image fields are replaced by platform URLs under /agent/v1/jobs/{id}/inputs/ */
  input: z.record(z.string(), z.unknown()),
  lease_expires_at: z.number().int(),
  /** wall-clock budget for the execution, enforced by the broker */
  execution_timeout_ms: z.number().int().positive(),
  moderation: Moderation.optional(),
  /** image inputs small enough to ride in the lease reply (base64), by field; the agent downloads the others */
  inline_inputs: z.record(z.string(), InlineInput).optional(),
});
export type LeasedJob = z.infer<typeof LeasedJob>;

export const LeaseResponse = z.object({
  jobs: z.array(LeasedJob),
  /** a dedicated agent's reservation: load this model and report ready; it serves only this endpoint's jobs */
  assignment: DedicatedAssignment.optional(),
});
export type LeaseResponse = z.infer<typeof LeaseResponse>;

export const LeaseRef = z.object({ job_id: z.string(), lease_id: z.string() });
export type LeaseRef = z.infer<typeof LeaseRef>;

export const DeregisterRequest = z.strictObject({ agent_id: z.string() });
export const DeregisterResponse = z.object({ released: z.number().int().nonnegative() });
export type DeregisterResponse = z.infer<typeof DeregisterResponse>;

/** How far a running job is, as its runtime reports it (ComfyUI's `progress` messages: value of max). */
export const JobProgress = z
  .strictObject({
    step: z.number().int().nonnegative().max(1_000_000_000),
    total: z.number().int().positive().max(1_000_000_000),
    message: z.string().max(200).optional(),
  })
  .refine((p) => p.step <= p.total, { message: "step must not exceed total", path: ["step"] });
export type JobProgress = z.infer<typeof JobProgress>;

/** A lease the agent holds, with the job's latest progress when its runtime reports any. */
export const HeartbeatLease = LeaseRef.extend({ progress: JobProgress.optional() });

export const HeartbeatRequest = z.strictObject({
  agent_id: z.string(),
  leases: z.array(HeartbeatLease).max(64),
  /** a dedicated agent: its heartbeat also keeps its endpoint's instance alive */
  dedicated: z.boolean().optional(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({
  /** leases still held, with their new expiry */
  extended: z.array(z.object({ job_id: z.string(), lease_expires_at: z.number().int() })),
  /** jobs to stop now: cancelled by the caller, timed out, or no longer this agent's */
  cancel: z.array(z.object({ job_id: z.string(), reason: z.enum(["cancelled", "timeout", "lease_lost"]) })),
  drain: z.boolean(),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const AgentOutput = z.object({
  name: z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/),
  content_type: z.string().max(100),
  size: z.number().int().nonnegative(),
});
export type AgentOutput = z.infer<typeof AgentOutput>;

export const UploadResponse = AgentOutput;
export type UploadResponse = z.infer<typeof UploadResponse>;

export const GpuEvidence = z.strictObject({
  window_ms: z.number().int().nonnegative(),
  samples: z.number().int().nonnegative(),
  busy_gpu_ms: z.number().int().nonnegative(),
  peak_memory_mib: z.number().nonnegative(),
  avg_power_w: z.number().nonnegative().nullable(),
  peak_power_w: z.number().nonnegative().nullable(),
  energy_j: z.number().nonnegative().nullable(),
});
export type GpuEvidence = z.infer<typeof GpuEvidence>;

export const CompleteRequest = z.strictObject({
  lease_id: z.string(),
  epoch: z.number().int().positive(),
  outputs: z.array(AgentOutput).max(16),
  output_json: z.unknown().optional(),
  metrics: z.strictObject({
    /** monotonic wall time of the model execution itself, in ms */
    gpu_ms: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 3600 * 1000),
    /** model load time for this job (0 when warm); reported, never billed */
    load_ms: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 3600 * 1000),
    gpu_class: GpuClass,
    gpu_count: z.number().int().min(1).max(16).default(1),
    /** what the GPU meter saw in the execution window: audit evidence, never the billed quantity */
    evidence: GpuEvidence.optional(),
    /** time the output moderation took, metered apart from gpu_ms */
    moderation_ms: z
      .number()
      .int()
      .nonnegative()
      .max(7 * 24 * 3600 * 1000)
      .optional(),
  }),
});
export type CompleteRequest = z.input<typeof CompleteRequest>;

export const FailMetrics = z.strictObject({
  gpu_ms: z
    .number()
    .int()
    .nonnegative()
    .max(7 * 24 * 3600 * 1000),
  load_ms: z
    .number()
    .int()
    .nonnegative()
    .max(7 * 24 * 3600 * 1000),
  gpu_class: GpuClass,
  gpu_count: z.number().int().min(1).max(16).default(1),
  moderation_ms: z
    .number()
    .int()
    .nonnegative()
    .max(7 * 24 * 3600 * 1000)
    .optional(),
});
export type FailMetrics = z.infer<typeof FailMetrics>;

export const FailRequest = z.strictObject({
  lease_id: z.string(),
  epoch: z.number().int().positive(),
  kind: JobErrorKind,
  message: z.string().max(2000),
  retryable: z.boolean(),
  /** for `content_moderated`: the scores that blocked the outputs */
  moderation: ModerationReport.optional(),
  /**
   * for `content_moderated`: the compute the blocked run measured (the provider's work was valid, so the platform
   * pays its share); capped by the broker like a completion's, with the registered class
   */
  metrics: FailMetrics.optional(),
});
export type FailRequest = z.infer<typeof FailRequest>;

export const ReleaseRequest = z.strictObject({
  lease_id: z.string(),
  epoch: z.number().int().positive(),
  reason: z.enum(["draining", "not_started", "backend_restart"]),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export const JobAck = z.object({ job_id: z.string(), status: z.string() });
export type JobAck = z.infer<typeof JobAck>;

/** Admin: the GPU classes a provider's agents may register with. */
export const SetProviderGpuClasses = z.strictObject({ gpu_classes: z.array(GpuClass).min(1).max(7) });
export type SetProviderGpuClasses = z.infer<typeof SetProviderGpuClasses>;

/** Admin: a provider's agents, with the strikes counted against each. */
export const AdminAgentView = z.object({
  id: z.string(),
  name: z.string(),
  gpu_class: z.string(),
  gpu_count: z.number().int(),
  registered_at: z.string(),
  deregistered_at: z.string().nullable(),
  rejected_completions: z.number().int(),
  input_rejections: z.number().int(),
});
export const ProviderView = z.object({
  id: z.string(),
  name: z.string(),
  gpu_classes: z.array(z.string()),
  agents: z.array(AdminAgentView),
});
export type ProviderView = z.infer<typeof ProviderView>;
