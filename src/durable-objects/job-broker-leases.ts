import { failurePolicy, type HeartbeatResponse } from "../../schemas/index.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { BrokerStore } from "./job-broker-store.ts";
import type { JobEventLog } from "./job-events.ts";
import type {
  ComputeClaim,
  FinishFields,
  HeartbeatLease,
  LeaseFailure,
  LeaseProof,
  Transition,
} from "./job-broker-types.ts";

/** A transition refused: the job is gone, or the lease is not this agent's current one. */
type Refusal = Extract<Transition, { ok: false }>;

/**
 * What an agent's lease proves and what its work is billed at. Every transition an agent asks for carries the lease
 * id and its fencing epoch, so an agent whose lease expired can never finish a job that was leased again.
 */
export function fence(r: JobRow | undefined, agentId: string, proof: LeaseProof): JobRow | Refusal {
  if (!r) return { ok: false, error: "not_found" };
  if (r.status !== "PROCESSING" || r.lease_id !== proof.lease_id || r.epoch !== proof.epoch || r.agent_id !== agentId) {
    return { ok: false, error: "stale_lease", status: r.status };
  }
  return r;
}

/**
 * A heartbeat: the agent's leases on jobs still running are extended (with any progress it reports); the others it
 * must stop, told why. Call inside one transaction.
 */
export function renewLeases(
  store: BrokerStore,
  events: JobEventLog,
  agentId: string,
  leases: HeartbeatLease[],
  now: number,
  ttlMs: number,
): HeartbeatResponse {
  const out: HeartbeatResponse = { extended: [], cancel: [], drain: false };
  store.touchAgent(agentId, now);
  for (const l of leases) {
    const r = store.row(l.job_id);
    if (!r || r.lease_id !== l.lease_id || r.agent_id !== agentId) {
      out.cancel.push({ job_id: l.job_id, reason: "lease_lost" });
    } else if (r.status === "PROCESSING") {
      const exp = now + ttlMs;
      store.extendLease(r.id, exp);
      if (l.progress) events.progress(r.id, l.progress, now);
      out.extended.push({ job_id: r.id, lease_expires_at: exp });
    } else {
      const reason = r.error_kind === "timeout" ? "timeout" : r.status === "CANCELLED" ? "cancelled" : "lease_lost";
      out.cancel.push({ job_id: r.id, reason });
    }
  }
  return out;
}

/**
 * The compute a lease is billed at, or null when the claim names another GPU class or count than the agent
 * registered (recorded on the lease): what the caller pays for never comes from the agent's word alone. The agent's
 * clock is not trusted beyond what the broker saw either: execution cannot outlast the lease window.
 */
export function billedCompute(
  r: JobRow,
  claim: ComputeClaim,
  now: number,
): Required<Pick<FinishFields, "gpu_ms" | "load_ms" | "gpu_class" | "busy_gpu_ms">> | null {
  const cls = r.lease_gpu_class;
  const count = r.lease_gpu_count ?? 1;
  if ((cls !== null && claim.gpu_class !== cls) || claim.gpu_count !== count) return null;
  const window = Math.max(0, now - (r.leased_at ?? now));
  return {
    gpu_ms: Math.min(Math.round(claim.gpu_ms * count), window * count),
    load_ms: Math.min(claim.load_ms, window),
    gpu_class: cls ?? claim.gpu_class,
    busy_gpu_ms: claim.busy_gpu_ms === undefined ? null : Math.min(claim.busy_gpu_ms, window * count),
  };
}

/** A completion's claim of another GPU class or count than the lease's: the failure message and the answer. */
export function gpuMismatch(r: JobRow, claim: ComputeClaim): { message: string; transition: Transition } {
  const registered = { gpu_class: r.lease_gpu_class, gpu_count: r.lease_gpu_count ?? 1 };
  const claimed = `${claim.gpu_count}× ${claim.gpu_class}`;
  const message = `completion claimed ${claimed}; the agent registered ${registered.gpu_count}× ${r.lease_gpu_class}`;
  return { message, transition: { ok: false, error: "gpu_mismatch", registered } };
}

/**
 * What becomes of a job whose agent reports a failure: run again elsewhere, run again, or fail now.
 * - `invalid_input` the first time: the platform's own validation accepted this input, so one agent's word that it
 *   is invalid is not enough; the job runs once more, preferably on another agent (dispatch ranks the rejecting
 *   agent last). A second rejection fails it; the ledger voids its hold and gives a free call back either way.
 * - a retryable failure while attempts remain, except an output that moderation blocked: that is final whatever the
 *   agent says, since the same model would be paid again.
 */
export function afterFailure(r: JobRow, req: LeaseFailure): "retry_elsewhere" | "retry" | "fail" {
  const attemptsLeft = r.attempt < r.max_attempts;
  switch (failurePolicy(req.kind).retry) {
    case "once_elsewhere":
      return r.input_rejected_by === null && attemptsLeft ? "retry_elsewhere" : "fail";
    case "agent":
      return req.retryable && attemptsLeft ? "retry" : "fail";
    case "never":
      return "fail";
  }
}
