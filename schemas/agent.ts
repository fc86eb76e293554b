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
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

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
export const JobProgress = z.strictObject({
  step: z.number().int().nonnegative().max(1_000_000_000),
  total: z.number().int().positive().max(1_000_000_000),
  message: z.string().max(200).optional(),
}).refine((p) => p.step <= p.total, { message: "step must not exceed total", path: ["step"] });
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
    gpu_ms: z.number().int().nonnegative().max(7 * 24 * 3600 * 1000),
    /** model load time for this job (0 when warm); reported, never billed */
    load_ms: z.number().int().nonnegative().max(7 * 24 * 3600 * 1000),
    gpu_class: GpuClass,
    gpu_count: z.number().int().min(1).max(16).default(1),
    /** what the GPU meter saw in the execution window: audit evidence, never the billed quantity */
    evidence: GpuEvidence.optional(),
  }),
});
export type CompleteRequest = z.input<typeof CompleteRequest>;

export const FailRequest = z.strictObject({
  lease_id: z.string(),
  epoch: z.number().int().positive(),
  kind: JobErrorKind,
  message: z.string().max(2000),
  retryable: z.boolean(),
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
