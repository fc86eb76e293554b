import { z } from "zod";

export const Plan = z.enum(["free", "pro", "business", "enterprise"]);
export type Plan = z.infer<typeof Plan>;

/**
 * The loosest output moderation a caller of this plan may ask for: `min_policy` (none < flag < block) and the highest
 * NSFW threshold. A caller may always be stricter than the model's default; looser only down to this.
 */
export const ModerationAllowance = z.object({
  min_policy: z.enum(["none", "flag", "block"]),
  max_threshold: z.number().min(0).max(1),
});
export type ModerationAllowance = z.infer<typeof ModerationAllowance>;

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
  /** how far a caller may loosen output moderation per request (absent on limits stored before it existed) */
  moderation: ModerationAllowance.optional(),
});
export type PlanLimits = z.infer<typeof PlanLimits>;

/** The defaults of ../shared/design.md; operators override per account (enterprise is custom). */
export const PLAN_DEFAULTS: Record<Plan, PlanLimits> = {
  free: {
    rpm: 5,
    in_flight: 1,
    daily_quota: 100,
    free_models_only: true,
    monthly_credit: 0,
    priority: 0,
    moderation: { min_policy: "block", max_threshold: 0.5 },
  },
  pro: {
    rpm: 50,
    in_flight: 5,
    daily_quota: null,
    free_models_only: false,
    monthly_credit: 39_000_000,
    priority: 10,
    moderation: { min_policy: "flag", max_threshold: 0.8 },
  },
  business: {
    rpm: 200,
    in_flight: 20,
    daily_quota: null,
    free_models_only: false,
    monthly_credit: 99_000_000,
    priority: 10,
    moderation: { min_policy: "none", max_threshold: 1 },
  },
  enterprise: {
    rpm: 1000,
    in_flight: 100,
    daily_quota: null,
    free_models_only: false,
    monthly_credit: 0,
    priority: 10,
    moderation: { min_policy: "none", max_threshold: 1 },
  },
};

/** An amount of micro-USD: a positive safe integer (no floats, no NaN, nothing beyond 2^53). */
export const MicroUsd = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
