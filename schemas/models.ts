import { z } from "zod";

export { imageField } from "./fields.ts";

/**
 * Shared shapes of the model catalog. The models themselves are data: `models/<slug>/manifest.json`, validated by
 * schemas/manifest.ts and loaded through schemas/catalog.ts. A model's input is a JSON Schema; a string property
 * with `format: "image"` is an image input: base64, a data URL, or an https URL that the edge fetches itself.
 */

/** The body of an inference call, as the OpenAPI document shows it: each model's fields are in its input_schema. */
export const ModelInput = z
  .record(z.string(), z.unknown())
  .describe(
    "The model's input fields: see input_schema in GET /v1/models/{model}. Image fields take base64, a data URL or an https URL.",
  )
  .meta({ example: { image: "https://example.com/photo.jpg" } });

export const GpuClass = z.enum(["cpu", "A40", "L40S", "A100-40", "A100-80", "H100", "other"]);
export type GpuClass = z.infer<typeof GpuClass>;

export const Pricing = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("per_gpu_second"),
    /** micro-USD per GPU-second, per GPU class the model may run on */
    micro_usd_per_second: z.partialRecord(GpuClass, z.number().int().nonnegative()),
  }),
  z.object({
    kind: z.literal("per_generation"),
    micro_usd_per_unit: z.number().int().nonnegative(),
    /** what one unit is: an output image, a megapixel, a second of video */
    unit: z.enum(["image", "megapixel", "video_second", "request"]),
  }),
]);
export type Pricing = z.infer<typeof Pricing>;

export const OutputType = z.enum(["image", "video", "json"]);
export type OutputType = z.infer<typeof OutputType>;

/** A model as the Worker serves it: a catalog manifest, or an account's private ComfyUI model. */
export interface ModelDefinition {
  slug: string;
  name: string;
  category: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the request body; validated with @cfworker/json-schema */
  input_schema: Record<string, unknown>;
  output_type: OutputType;
  /** the runtime adapter an agent needs to serve it */
  runtime: "builtin" | "comfyui" | "cog";
  gpu_classes: GpuClass[];
  pricing: Pricing;
  /** free-plan accounts may call it */
  free: boolean;
  /** the broker pool whose queue holds its jobs */
  pool: string;
  /** seconds of execution the broker allows before failing the job as timed out */
  max_execution_s: number;
  /** what happens to image outputs after the run (scored by the NSFW classifier) */
  moderation: "none" | "flag" | "block";
  /** the account that owns a private model; absent for catalog models */
  owner_account_id?: string;
}

/** Names of the image inputs of a model, read from the `format: "image"` marks in its JSON Schema. */
export function imageFields(schema: Record<string, unknown>): string[] {
  const props = (schema.properties ?? {}) as Record<string, { format?: unknown }>;
  return Object.entries(props)
    .filter(([, p]) => p?.format === "image")
    .map(([k]) => k);
}
