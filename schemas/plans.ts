import { z } from "zod";

export const Plan = z.enum(["free", "pro", "business", "enterprise"]);
export type Plan = z.infer<typeof Plan>;

export const PlanLimits = z.object({
  /** requests per minute (GCRA, burst = the per-minute limit) */
  rpm: z.number().int().min(1).max(1_000_000),
  /** jobs holding credit at once */
  in_flight: z.number().int().min(1).max(100_000),
  /** calls per UTC day; null = unlimited */
  daily_quota: z.number().int().min(1).max(10_000_000).nullable(),
  free_models_only: z.boolean(),
  /** micro-USD credited once per calendar month (UTC) */
  monthly_credit: z.number().int().min(0).max(1_000_000_000_000),
  /** queue priority in the broker: dedicated 20 > paid 10 > free 0 */
  priority: z.number().int().min(0).max(20),
});
export type PlanLimits = z.infer<typeof PlanLimits>;

/** The defaults of ../shared/design.md; operators override per account (enterprise is custom). */
export const PLAN_DEFAULTS: Record<Plan, PlanLimits> = {
  free: { rpm: 5, in_flight: 1, daily_quota: 100, free_models_only: true, monthly_credit: 0, priority: 0 },
  pro: { rpm: 50, in_flight: 5, daily_quota: null, free_models_only: false, monthly_credit: 39_000_000, priority: 10 },
  business: { rpm: 200, in_flight: 20, daily_quota: null, free_models_only: false, monthly_credit: 99_000_000, priority: 10 },
  enterprise: { rpm: 1000, in_flight: 100, daily_quota: null, free_models_only: false, monthly_credit: 0, priority: 10 },
};

/** An amount of micro-USD: a positive safe integer (no floats, no NaN, nothing beyond 2^53). */
export const MicroUsd = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
