import { z } from "zod";
import {
  MODERATION_KEY,
  PLAN_DEFAULTS,
  type ModelDefinition,
  type Moderation,
  type Plan,
} from "../../schemas/index.ts";
import { ApiError } from "../errors.ts";

/** The NSFW score at or above which an output is flagged or blocked, unless the caller chooses another. */
export const DEFAULT_THRESHOLD = 0.5;

const RANK = { none: 0, flag: 1, block: 2 } as const;

/**
 * The request's optional `moderation` field (like fal's `enable_safety_checker` or Replicate's
 * `disable_safety_checker`, but one object for every model):
 * `{ "policy": "none" | "flag" | "block", "threshold": 0..1 }`.
 * Multipart requests send it as a JSON string.
 */
export const CallerModeration = z.strictObject({
  policy: z.enum(["none", "flag", "block"]).optional(),
  threshold: z.number().min(0).max(1).optional(),
});

/** Plans stored before the allowance existed get the strictest one: nothing looser than the model's default. */
const STRICTEST = { min_policy: "block", max_threshold: DEFAULT_THRESHOLD } as const;

/**
 * The moderation a request runs with: the model's default, or the caller's choice. Stricter is always allowed;
 * looser only down to the plan's allowance (free cannot turn blocking off, pro may flag, business may choose none).
 */
export function chosenModeration(requested: unknown, def: Pick<ModelDefinition, "moderation">, plan: Plan): Moderation {
  const base: Moderation = { policy: def.moderation, threshold: DEFAULT_THRESHOLD };
  if (requested === undefined) return base;
  let value = requested;
  if (typeof requested === "string") {
    try {
      value = JSON.parse(requested);
    } catch {
      value = requested;
    }
  }
  const parsed = CallerModeration.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) => [...i.path, i.message].join(": "))
      .join("; ")
      .slice(0, 300);
    throw new ApiError("invalid_input", "moderation must be an object { policy?, threshold? }", {
      fields: [{ path: "moderation", message }],
    });
  }
  const want: Moderation = {
    policy: parsed.data.policy ?? base.policy,
    threshold: parsed.data.threshold ?? base.threshold,
  };
  const allow = PLAN_DEFAULTS[plan].moderation ?? STRICTEST;
  const floor = Math.min(RANK[base.policy], RANK[allow.min_policy]);
  const ceiling = Math.max(base.threshold, allow.max_threshold);
  const allowed = { policy: (Object.keys(RANK) as Moderation["policy"][])[floor]!, max_threshold: ceiling };
  if (RANK[want.policy] < floor)
    throw new ApiError(
      "moderation_not_allowed",
      `the ${plan} plan cannot lower this model's moderation to '${want.policy}' (at least '${allowed.policy}')`,
      { allowed },
    );
  if (want.policy !== "none" && want.threshold > ceiling)
    throw new ApiError(
      "moderation_not_allowed",
      `the ${plan} plan allows a moderation threshold of at most ${ceiling}, not ${want.threshold}`,
      { allowed },
    );
  return want;
}

/** The job's input with its moderation policy stored beside it (lifted out again at lease time). */
export function withModeration(
  input: Record<string, unknown>,
  def: Pick<ModelDefinition, "moderation">,
  chosen?: Moderation,
): Record<string, unknown> {
  const m = chosen ?? { policy: def.moderation, threshold: DEFAULT_THRESHOLD };
  return m.policy === "none" ? input : { ...input, [MODERATION_KEY]: m };
}
