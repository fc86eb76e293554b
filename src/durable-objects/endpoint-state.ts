import type { EndpointState } from "../../schemas/index.ts";
import type { EndpointRecord, InstanceRow } from "./endpoint-sql.ts";

/**
 * The endpoint's own state rules, pure: what a new endpoint starts with, which states refuse a request, and which
 * state its instances put it in. The Durable Object applies them (endpoint.ts); nothing here writes.
 */

/** How often the endpoint looks at its queue and instances while it has any. */
export const STEP_MS = 10_000;
/** init timeouts in a row, with no instance ever ready, after which the endpoint fails */
const MAX_INIT_FAILURES = 3;
export const ACTIVE: ReadonlySet<EndpointState> = new Set(["pending", "provisioning", "running", "scaled_to_zero"]);

/** What a new endpoint is created with: its configuration; the rest of the record starts at zero. */
export type EndpointConfig = Omit<
  EndpointRecord,
  | "state"
  | "last_tick_at"
  | "charged"
  | "captured"
  | "written_off"
  | "held"
  | "queued_since"
  | "queue_depth"
  | "init_failures"
>;
export type Knob =
  | "min_instances"
  | "max_instances"
  | "idle_timeout_s"
  | "scale_up_queue_delay_s"
  | "init_timeout_s"
  | "max_hourly_spend";

/** The endpoint's answer to a request: where to queue it, or why not (not the ledger's admission, billing.ts). */
export type EndpointAdmission =
  | { ok: true; pool: string; model: string; gpu_class: string; runtime: string }
  | { ok: false; code: "insufficient_credits" | "conflict" | "not_found"; message: string };

export interface EndpointSnapshot {
  record: EndpointRecord;
  instances: InstanceRow[];
  now: number;
}

export function newRecord(config: EndpointConfig, now: number): EndpointRecord {
  return {
    ...config,
    created_at: now,
    state: "pending",
    last_tick_at: now,
    charged: 0,
    captured: 0,
    written_off: 0,
    held: 0,
    queued_since: null,
    queue_depth: 0,
    init_failures: 0,
  };
}

/** Why an endpoint in this state takes no request (null when it takes one). */
export function refusal(e: EndpointRecord | null): Extract<EndpointAdmission, { ok: false }> | null {
  if (!e || e.state === "deleted") return { ok: false, code: "not_found", message: "endpoint not found" };
  if (e.state === "suspended") {
    return {
      ok: false,
      code: "insufficient_credits",
      message: "endpoint is suspended: the account's credit ran out; add credit and resume it",
    };
  }
  if (e.state === "paused") return { ok: false, code: "conflict", message: "endpoint is paused: resume it first" };
  if (e.state === "failed") {
    return { ok: false, code: "conflict", message: "endpoint failed: no instance became ready; see its instances" };
  }
  return null;
}

/** The state an active endpoint's live instances put it in (a stopped endpoint keeps its own). */
export function derivedState(e: EndpointRecord, live: InstanceRow[]): EndpointState {
  if (!ACTIVE.has(e.state)) return e.state;
  if (e.init_failures >= MAX_INIT_FAILURES && !live.some((i) => i.ready_at !== null)) return "failed";
  if (live.some((i) => i.state === "ready" || i.state === "busy")) return "running";
  if (live.length > 0) return "provisioning";
  if (e.min_instances === 0 && e.queue_depth === 0) return "scaled_to_zero";
  return e.state === "pending" ? "pending" : "provisioning";
}
