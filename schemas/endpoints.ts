import { z } from "zod";
import { GpuClass } from "./models.ts";

/** Dedicated endpoints: private instances of one model, billed per instance-second while ready. */
export const EndpointState = z.enum([
  "pending",
  "provisioning",
  "running",
  "scaled_to_zero",
  "paused",
  "suspended",
  "failed",
  "deleted",
]);
export type EndpointState = z.infer<typeof EndpointState>;
export const InstanceState = z.enum(["reserving", "loading", "ready", "busy", "draining", "released", "lost"]);
export type InstanceState = z.infer<typeof InstanceState>;

const Knobs = {
  min_instances: z.number().int().min(0).max(10),
  max_instances: z.number().int().min(1).max(10),
  /** an instance idle this long above min_instances is released */
  idle_timeout_s: z.number().int().min(5).max(86_400),
  /** add an instance when the oldest queued request has waited this long */
  scale_up_queue_delay_s: z.number().int().min(1).max(3600),
  /** an instance not ready this long after it was reserved is released unbilled and another is tried */
  init_timeout_s: z.number().int().min(10).max(3600),
  /** micro-USD per hour across all instances; caps scale-up (and the running hold at a quarter of it) */
  max_hourly_spend: z.number().int().positive().max(1e12).nullable(),
};

export const CreateEndpoint = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes, at most 63"),
    model: z.string().min(1).max(100),
    gpu_class: GpuClass,
    min_instances: Knobs.min_instances.default(0),
    max_instances: Knobs.max_instances.default(1),
    idle_timeout_s: Knobs.idle_timeout_s.default(300),
    scale_up_queue_delay_s: Knobs.scale_up_queue_delay_s.default(10),
    init_timeout_s: Knobs.init_timeout_s.default(900),
    max_hourly_spend: Knobs.max_hourly_spend.optional(),
  })
  .refine((e) => e.max_instances >= e.min_instances, {
    message: "max_instances must be at least min_instances",
    path: ["max_instances"],
  });
export type CreateEndpoint = z.infer<typeof CreateEndpoint>;

export const PatchEndpoint = z.strictObject({
  min_instances: Knobs.min_instances.optional(),
  max_instances: Knobs.max_instances.optional(),
  idle_timeout_s: Knobs.idle_timeout_s.optional(),
  scale_up_queue_delay_s: Knobs.scale_up_queue_delay_s.optional(),
  init_timeout_s: Knobs.init_timeout_s.optional(),
  max_hourly_spend: Knobs.max_hourly_spend.optional(),
});
export type PatchEndpoint = z.infer<typeof PatchEndpoint>;

export const EndpointInstance = z.object({
  id: z.string(),
  agent_id: z.string(),
  state: InstanceState,
  /** ISO time the instance entered its state, by the endpoint's clock */
  since: z.string(),
  /** seconds billed for this instance's session so far (0 while reserving or loading) */
  billed_s: z.number().int().nonnegative(),
});
export type EndpointInstance = z.infer<typeof EndpointInstance>;

export const EndpointView = z.object({
  id: z.string(),
  name: z.string(),
  model: z.string(),
  gpu_class: GpuClass,
  state: EndpointState,
  /** frozen at creation: later catalog price changes do not apply (micro-USD per instance-hour) */
  price_per_hour: z.number().int().nonnegative(),
  min_instances: z.number().int(),
  max_instances: z.number().int(),
  idle_timeout_s: z.number().int(),
  scale_up_queue_delay_s: z.number().int(),
  init_timeout_s: z.number().int(),
  max_hourly_spend: z.number().int().nullable(),
  instances: z.array(EndpointInstance),
  queue_depth: z.number().int().nonnegative(),
  /** what the ready instances cost per hour now (micro-USD) */
  spend_rate_per_hour: z.number().int().nonnegative(),
  /** the running hold (about 15 minutes of runway at the current instance count) */
  held: z.number().int().nonnegative(),
  /** seconds the account's credit (available + held) lasts at the current rate; null when nothing is billed */
  runway_s: z.number().int().nonnegative().nullable(),
  /** micro-USD charged so far (captured), and what the account could not cover (written off) */
  spent: z.number().int().nonnegative(),
  written_off: z.number().int().nonnegative(),
  billed_s: z.number().int().nonnegative(),
  created_at: z.string(),
  run_url: z.string(),
});
export type EndpointView = z.infer<typeof EndpointView>;

export const EndpointList = z.object({ data: z.array(EndpointView) });

/** Agent side: the endpoint an opted-in agent is reserved for (in lease replies), and its readiness report. */
export const DedicatedAssignment = z.object({
  endpoint_id: z.string(),
  model: z.string(),
  epoch: z.number().int().positive(),
});
export type DedicatedAssignment = z.infer<typeof DedicatedAssignment>;
export const DedicatedReady = z.strictObject({
  agent_id: z.string(),
  endpoint_id: z.string(),
  epoch: z.number().int().positive(),
});
export type DedicatedReady = z.infer<typeof DedicatedReady>;
