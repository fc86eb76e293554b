import { z } from "zod";
import { GpuClass, OutputType, Pricing } from "./models.ts";

/**
 * A model of the catalog as data: `models/<slug>/manifest.json` (+ `workflow.json` for ComfyUI models). Adding a
 * model is adding a folder; `npm run models:index` regenerates `models/index.ts`, which the Worker imports (it cannot
 * read the filesystem) and a test keeps in step with the folders. Changes to this schema are additive only: agents
 * and other branches write manifests against it.
 */

export const ModelCategory = z.enum([
  "text-to-image",
  "image-to-image",
  "inpainting",
  "outpainting",
  "controlnet",
  "ip-adapter",
  "upscaling",
  "face-restore",
  "background-removal",
  "relighting",
  "image-editing",
  "image-to-video",
  "text-to-video",
  "moderation",
  "vision",
  "utility",
]);
export type ModelCategory = z.infer<typeof ModelCategory>;

export const Runtime = z.enum(["builtin", "comfyui", "cog"]);
export type Runtime = z.infer<typeof Runtime>;

/** What happens to a model's image outputs after it ran: the NSFW classifier scores them. */
export const ModerationPolicy = z.enum(["none", "flag", "block"]);
export type ModerationPolicy = z.infer<typeof ModerationPolicy>;

const slugPattern = /^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$/;
export const ModelSlug = z.string().regex(slugPattern, "lowercase letters, digits, '.', '_' and '-', 3-64 characters");

/**
 * The input schema as JSON Schema (draft 2020-12, the subset @cfworker/json-schema validates): an object whose
 * properties are the request's fields. A string property with `format: "image"` is an image input (base64, a data
 * URL or an https URL, resolved by the edge into R2 before the job is queued).
 */
export const InputJsonSchema = z
  .looseObject({
    type: z.literal("object"),
    properties: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.record(z.string(), z.unknown())),
    required: z.array(z.string()).optional(),
    additionalProperties: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    // Unknown fields are refused: the job's input may carry only what the schema names (and the platform's own keys).
    if (s.additionalProperties !== false) {
      ctx.addIssue({ code: "custom", path: ["additionalProperties"], message: "must be false" });
    }
    for (const r of s.required ?? []) {
      if (r in s.properties) continue;
      ctx.addIssue({ code: "custom", path: ["required"], message: `required field '${r}' is not a property` });
    }
  });
export type InputJsonSchema = z.infer<typeof InputJsonSchema>;

/** Where one input field lands in a ComfyUI graph: `workflow[node].inputs[input]`. */
export const ComfyTarget = z.strictObject({
  node: z.string().min(1).max(64),
  input: z.string().min(1).max(100),
  /** the field's values mapped to what the node takes (e.g. a scheduler label → `dpmpp_2m`) */
  map: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** a seed left unset by the caller is drawn at random instead of the workflow's fixed value */
  random_if_missing: z.boolean().optional(),
});
export type ComfyTarget = z.infer<typeof ComfyTarget>;

/** A weight file a ComfyUI host needs, under `ComfyUI/models/<folder>/<file>`, with its public source. */
export const WeightFile = z.strictObject({
  folder: z.enum([
    "checkpoints",
    "diffusion_models",
    "unet",
    "vae",
    "clip",
    "text_encoders",
    "clip_vision",
    "controlnet",
    "loras",
    "upscale_models",
    "ipadapter",
    "style_models",
  ]),
  file: z.string().min(1).max(200),
  source: z.url(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  license: z.string().optional(),
});
export type WeightFile = z.infer<typeof WeightFile>;

export const ComfySpec = z.strictObject({
  /** the API-format workflow beside the manifest */
  workflow: z.string().default("workflow.json"),
  /** request field → node input(s) it fills; a field mapped to several targets fills each */
  inputs: z.record(z.string(), z.union([ComfyTarget, z.array(ComfyTarget).min(1)])),
  /** ids of the output nodes whose files are the result (default: every output the history lists) */
  outputs: z.array(z.string()).optional(),
  weights: z.array(WeightFile).default([]),
});
export type ComfySpec = z.infer<typeof ComfySpec>;

export const ExampleOutput = z.strictObject({
  /** a file beside the manifest (an image or video the model made from `example_input`) */
  path: z.string().optional(),
  /** or the JSON a json-output model returns */
  json: z.unknown().optional(),
  description: z.string().optional(),
});

export const ModelManifestFile = z.strictObject({
  $schema: z.string().optional(),
  slug: ModelSlug,
  name: z.string().min(1).max(100),
  category: ModelCategory,
  description: z.string().min(1).max(1000),
  input_schema: InputJsonSchema,
  output_type: OutputType,
  runtime: Runtime,
  gpu_classes: z.array(GpuClass).min(1),
  pricing: Pricing,
  limits: z.strictObject({
    /** seconds of execution the broker allows before failing the job as timed out; also sizes the hold */
    max_execution_s: z.number().int().min(1).max(3600),
    max_outputs: z.number().int().min(1).max(16).optional(),
  }),
  /** free-plan accounts may call it */
  free: z.boolean().default(false),
  /** default: block for text-to-image and video models, none otherwise */
  moderation: ModerationPolicy.optional(),
  /** the broker pool whose queue holds its jobs */
  pool: z.string().min(1).max(64).default("public"),
  example_input: z.record(z.string(), z.unknown()),
  example_output: ExampleOutput.optional(),
  /** a cover image beside the manifest */
  cover: z.string().optional(),
  /** licence of the model weights (SPDX id or the model licence's name) */
  license: z.string().min(1).max(100),
  license_url: z.url().optional(),
  tags: z.array(z.string().max(40)).max(20).optional(),
  comfyui: ComfySpec.optional(),
});
export type ModelManifestFile = z.input<typeof ModelManifestFile>;

export function defaultModeration(category: ModelCategory, output: OutputType): ModerationPolicy {
  return category === "text-to-image" || category === "text-to-video" || output === "video" ? "block" : "none";
}

/** A manifest as parsed: defaults filled, the moderation policy resolved, runtime-specific parts checked. */
export const ModelManifest = ModelManifestFile.superRefine((m, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
  if (m.runtime === "comfyui" && !m.comfyui) issue(["comfyui"], "a comfyui model needs its workflow mapping");
  if (m.runtime !== "comfyui" && m.comfyui) issue(["comfyui"], "only comfyui models have a workflow mapping");
  for (const field of Object.keys(m.comfyui?.inputs ?? {})) {
    if (!(field in m.input_schema.properties)) issue(["comfyui", "inputs", field], `'${field}' is not an input field`);
  }
  if (m.pricing.kind === "per_gpu_second") {
    for (const cls of m.gpu_classes) {
      if (m.pricing.micro_usd_per_second[cls] !== undefined) continue;
      issue(["pricing", "micro_usd_per_second"], `no price for GPU class ${cls}`);
    }
  }
}).transform((m) => ({ ...m, moderation: m.moderation ?? defaultModeration(m.category, m.output_type) }));
export type ModelManifest = z.output<typeof ModelManifest>;

/** A manifest with its workflow loaded, as the generated `models/index.ts` carries it. */
export interface CatalogEntry {
  manifest: ModelManifestFile;
  workflow?: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
}

/** The reserved input key under which a private model's graph travels to the agent with its job. */
export const COMFY_SPEC_KEY = "$comfyui";

/** A graph and its field mapping, as a job carries it for a private ComfyUI model. */
export const ComfyJobSpec = z.object({
  workflow: z.record(z.string(), z.object({ class_type: z.string(), inputs: z.record(z.string(), z.unknown()) })),
  inputs: z.record(z.string(), z.union([ComfyTarget, z.array(ComfyTarget)])),
  outputs: z.array(z.string()).optional(),
});
export type ComfyJobSpec = z.infer<typeof ComfyJobSpec>;

/** What an agent must declare to be given a private ComfyUI model's job: custom node types and model files. */
export const ComfyRequirements = z.object({
  node_types: z.array(z.string().max(200)).max(500),
  files: z.array(z.string().max(300)).max(500),
});
export type ComfyRequirements = z.infer<typeof ComfyRequirements>;
