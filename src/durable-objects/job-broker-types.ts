import type {
  AgentOutput,
  ComfyRequirements,
  FailMetrics,
  JobErrorKind,
  RequestAcceptedEvent,
} from "../../schemas/index.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { Progress } from "./job-events.ts";

/** What the JobBroker's RPC methods take and give; callers import them from job-broker.ts. */

export interface EnqueueJob {
  id: string;
  account_id: string;
  model: string;
  runtime: string;
  gpu_classes: string[];
  input: Record<string, unknown>;
  priority: number;
  exec_timeout_ms: number;
  ttl_ms: number;
  /** a private ComfyUI graph's custom node types and model files: only agents declaring them may lease it */
  requires?: ComfyRequirements;
  /** the request row's fields, for a submission that wrote none: projected into D1 from this broker's outbox */
  record?: Omit<RequestAcceptedEvent, "type" | "event_id" | "request_id" | "account_id" | "model">;
}

export interface AgentCaps {
  agent_id: string;
  runtimes: string[];
  models: string[];
  gpu_class: string;
  /** GPUs per job, from the agent's registration */
  gpu_count?: number;
  slots_free: number;
  loaded_models: string[];
  cached_models: string[];
  /** a prefetch lease from an agent whose device slots are all busy: an idle agent is preferred */
  prefetch?: boolean;
  /** custom node types and model files the agent's ComfyUI has */
  comfyui?: ComfyRequirements;
}

export interface JobView {
  id: string;
  account_id: string;
  model: string;
  status: JobRow["status"];
  attempt: number;
  queue_position: number | null;
  capacity: "available" | "no_capacity" | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  outputs: AgentOutput[] | null;
  output_json: unknown;
  error_kind: JobErrorKind | null;
  error_message: string | null;
  gpu_ms: number | null;
  load_ms: number | null;
  gpu_class: string | null;
  busy_gpu_ms: number | null;
}

/** An agent's proof that it holds a job's lease: the lease id and its fencing epoch. */
export interface LeaseProof {
  lease_id: string;
  epoch: number;
}

/** The compute an agent reports for a finished lease, before the broker caps it. */
export interface ComputeClaim {
  gpu_ms: number;
  load_ms: number;
  gpu_class: string;
  gpu_count: number;
  busy_gpu_ms?: number;
}

/** A lease an agent's heartbeat keeps, with the progress it reports. */
export interface HeartbeatLease {
  job_id: string;
  lease_id: string;
  progress?: Progress;
}

export interface LeaseCompletion extends LeaseProof, ComputeClaim {
  outputs: AgentOutput[];
  output_json?: unknown;
}

export interface LeaseFailure extends LeaseProof {
  kind: JobErrorKind;
  message: string;
  retryable: boolean;
  metrics?: FailMetrics;
}

/** The fields a terminal transition writes on the job row. */
export type FinishFields = Partial<
  Pick<
    JobRow,
    "outputs" | "output_json" | "gpu_ms" | "load_ms" | "gpu_class" | "busy_gpu_ms" | "error_kind" | "error_message"
  >
>;
export type FinalStatus = "COMPLETED" | "FAILED" | "CANCELLED";

export type ReconcileAnswer = { id: string; present: boolean };
export type LeaseCheck =
  | { ok: true; account_id: string; job: JobView }
  | { ok: false; error: "not_found" | "stale_lease" };
export type Transition =
  | { ok: true; job: JobView }
  | { ok: false; error: "not_found" | "stale_lease"; status?: string }
  | { ok: false; error: "gpu_mismatch"; registered: { gpu_class: string | null; gpu_count: number } };
