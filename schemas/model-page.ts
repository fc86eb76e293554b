import { z } from "zod";
import { ModelView } from "./api.ts";
import { GpuClass, Pricing } from "./models.ts";
import { ModelSlug } from "./manifest.ts";

/** `GET /v1/models/{model}`: what a model's page shows, as Segmind's model pages do (price, GPU, expected speed). */
export const ModelPage = ModelView.extend({
  moderation: z.enum(["none", "flag", "block"]),
  license: z.string().nullable(),
  license_url: z.string().nullable(),
  tags: z.array(z.string()),
  cover: z.string().nullable(),
  prices: z.array(
    z.object({
      gpu_class: GpuClass.nullable().describe("null for a per-generation price"),
      micro_usd: z.number().int().nonnegative(),
      per: z.enum(["gpu_second", "image", "megapixel", "video_second", "request"]),
      usd_per_hour: z.number().nullable().describe("per-GPU-second prices as USD per hour"),
    }),
  ),
  speed: z.object({
    note: z.string().describe('"no data yet" until completed requests exist'),
    by_gpu_class: z.array(z.object({ gpu_class: z.string(), p50_ms: z.number().int(), completed: z.number().int() })),
  }),
  example: z.object({ input: z.record(z.string(), z.unknown()), output: z.unknown().nullable() }),
  snippets: z.object({ curl: z.string(), javascript: z.string(), python: z.string() }),
  comfyui: z
    .object({
      node_types: z.array(z.string()),
      weights: z.array(z.object({ folder: z.string(), file: z.string(), source: z.string() })),
    })
    .nullable(),
});
export type ModelPage = z.infer<typeof ModelPage>;

/** One request field of a custom model and the node input it fills. */
export const CustomModelInput = z.strictObject({
  node: z.string().min(1).max(64),
  input: z.string().min(1).max(100),
  type: z.enum(["string", "integer", "number", "boolean", "image"]),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  description: z.string().max(500).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .max(100)
    .optional(),
});
export type CustomModelInput = z.infer<typeof CustomModelInput>;

export const CreateCustomModel = z.strictObject({
  slug: ModelSlug,
  name: z.string().min(1).max(100),
  description: z.string().max(1000).default(""),
  /** the graph in ComfyUI's API format (Export (API) in ComfyUI): node id → {class_type, inputs} */
  workflow: z.record(
    z.string(),
    z.object({
      class_type: z.string().min(1).max(200),
      inputs: z.record(z.string(), z.unknown()),
      _meta: z.unknown().optional(),
    }),
  ),
  inputs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), CustomModelInput),
  output_type: z.enum(["image", "video"]).default("image"),
  gpu_classes: z.array(GpuClass.exclude(["cpu"])).min(1),
  pricing: Pricing.optional(),
  max_execution_s: z.number().int().min(10).max(1800).default(300),
});
export type CreateCustomModel = z.input<typeof CreateCustomModel>;

export const CustomModelView = ModelView.extend({
  private: z.literal(true),
  workflow: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), CustomModelInput),
  requires: z.object({ node_types: z.array(z.string()), files: z.array(z.string()) }),
  created_at: z.iso.datetime(),
});
export type CustomModelView = z.infer<typeof CustomModelView>;
export const CustomModelList = z.object({ data: z.array(CustomModelView) });
export const Deleted = z.object({ slug: z.string(), deleted: z.literal(true) });
