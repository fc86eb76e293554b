import type { Adjustment, Plan, PlanLimits } from "../../schemas/index.ts";
import type { HoldPricing } from "../services/pricing.ts";
import type { Earner } from "./account-ledger-earnings.ts";
import type { AutoRechargeClaim } from "./account-ledger-money-types.ts";
import type { HoldStatus } from "./account-ledger-sql.ts";

/** What callers of the AccountLedger send and get back (the words are defined in docs/glossary.md). */

export interface AdmitRequest {
  /** the request id: the hold, its settle and its void are idempotent by it */
  id: string;
  amount: number;
  pricing: HoldPricing;
  /** ms after now when the hold expires if nothing closed it */
  ttl_ms: number;
  model_free: boolean;
  /** the job the hold pays for: set by the request path, so the alarm can void a hold whose job never came to be */
  job?: { pool: string; model: string };
}

export interface RateInfo {
  limit: number;
  remaining: number;
  reset_s: number;
}

export type AdmitResult =
  | { ok: true; replayed: boolean; hold: number; available: number; rate: RateInfo; priority: number }
  | {
      ok: false;
      code: "insufficient_credits" | "rate_limited" | "daily_quota_exceeded" | "forbidden" | "invalid_input";
      message: string;
      retry_after_s?: number;
      available: number;
      rate?: RateInfo;
    };

export interface HoldOutcome {
  status: HoldStatus;
  amount: number;
  charge: number;
  /** false when this call found the hold already closed and returned its first outcome */
  first: boolean;
  /** the account's available credit after this call */
  available: number;
  /** an auto-recharge charge this settle claimed (the caller creates the PaymentIntent) */
  auto_recharge?: AutoRechargeClaim | null;
}

/** One operation of a group commit: what `admit`, `settle` and `void` do, one by one. */
export type LedgerOp =
  | { op: "admit"; account_id: string; plan: Plan; req: AdmitRequest }
  | { op: "settle"; id: string; gpu_ms: number; gpu_class: string | null; earner?: Earner }
  | { op: "void"; id: string; reason: string };

/** The group-hold operations of workflow runs, applied in the same group commit as the rest. */
export type GroupLedgerOp =
  | { op: "reserve_group"; account_id: string; plan: Plan; req: GroupReserve }
  | { op: "settle_node"; group: string; node: string; gpu_ms: number; gpu_class: string | null }
  | { op: "close_group"; group: string; mode: "settle" | "void"; reason: string };

export type SettleResult = HoldOutcome | { error: "not_found" | "invalid_input" };
export type VoidResult = HoldOutcome | { error: "not_found" };
/** The result of one operation of a group commit, in order; `failed` when that operation threw and was rolled back. */
export type LedgerOpResult =
  | AdmitResult
  | SettleResult
  | VoidResult
  | NodeSettleResult
  | GroupOutcome
  | null
  | { failed: string };

/** A credit or debit: applied (or replayed) as an `Adjustment`, or refused. */
export type AdjustResult =
  | ({ ok: true } & Adjustment)
  | { ok: false; code: "insufficient_credits" | "invalid_input" | "idempotency_conflict"; message: string };

export interface LedgerSummary {
  account_id: string;
  plan: Plan;
  limits: PlanLimits;
  deposits: number;
  spent: number;
  held: number;
  available: number;
  in_flight: number;
  requests_today: number;
  total_requests: number;
  daily_reset_at: number;
}

// ---- workflow runs: group holds (account-ledger-groups.ts) ----

export interface GroupNode {
  node: string;
  max: number;
  pricing: HoldPricing;
}

export interface GroupReserve {
  /** the run id: the hold's id */
  id: string;
  nodes: GroupNode[];
  ttl_ms: number;
  /** every node's model is free (free-plan accounts may run only those) */
  model_free: boolean;
}

/** A node's share settled: its charge, and what returned to available from its share. */
export type NodeSettleResult =
  | { ok: true; node: string; charge: number; returned: number; first: boolean; held: number; available: number }
  | { ok: false; error: "not_found" | "closed" | "invalid_input" };

export interface GroupOutcome {
  status: "pending" | "settled" | "voided" | "expired";
  /** what the group's hold still holds (while pending) */
  held: number;
  charge: number;
  reserved: number;
  first: boolean;
  available: number;
  nodes: { node: string; max: number; charge: number; status: string }[];
}
