import { z } from "zod";
import { imageField } from "./fields.ts";
import { CPU_MODEL_DEFINITIONS } from "./cpu-models.ts";

export { imageField };

/**
 * Input schemas of the models in the built-in catalog. The catalog in D1 stores their JSON Schema; requests are
 * validated with these zod schemas. A field whose JSON Schema carries `format: "image"` is an image input: base64,
 * a data URL, or an https URL that the edge fetches itself.
 */

const seed = z.number().int().min(0).max(2 ** 32 - 1).optional().describe("Random seed; omit for a random one");
const common = { base64: z.boolean().default(false).describe("Return the output inline as base64 JSON") };

export const BackgroundRemovalInput = z.strictObject({
  image: imageField("Image to cut out: base64, data URL, or https URL"),
  model: z.enum(["small", "medium"]).default("medium").describe("ISNet variant: small is quantized and faster"),
  format: z.enum(["png", "webp"]).default("png"),
  ...common,
});

export const NsfwDetectorInput = z.strictObject({
  image: imageField("Image to classify: base64, data URL, or https URL"),
  ...common,
});

const dims = z.number().int().min(256).max(2048).multipleOf(8);
export const SdxlInput = z.strictObject({
  prompt: z.string().min(1).max(2000),
  negative_prompt: z.string().max(2000).default(""),
  width: dims.default(1024),
  height: dims.default(1024),
  samples: z.number().int().min(1).max(4).default(1),
  num_inference_steps: z.number().int().min(1).max(100).default(30),
  guidance_scale: z.number().min(1).max(25).default(7.5),
  scheduler: z.enum(["DDIM", "DPM++ 2M Karras", "Euler", "Euler a", "UniPC"]).default("DPM++ 2M Karras"),
  seed,
  ...common,
});

export const FluxSchnellInput = z.strictObject({
  prompt: z.string().min(1).max(2000),
  width: dims.default(1024),
  height: dims.default(1024),
  samples: z.number().int().min(1).max(4).default(1),
  num_inference_steps: z.number().int().min(1).max(8).default(4),
  seed,
  ...common,
});

export const SvdInput = z.strictObject({
  image: imageField("First frame: base64, data URL, or https URL"),
  video_length: z.enum(["14_frames_with_svd", "25_frames_with_svd_xt"]).default("25_frames_with_svd_xt"),
  fps: z.number().int().min(1).max(30).default(6),
  motion_bucket_id: z.number().int().min(1).max(255).default(127),
  cond_aug: z.number().min(0).max(1).default(0.02),
  seed,
  ...common,
});

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

export interface ModelDefinition {
  slug: string;
  name: string;
  category: "image-editing" | "moderation" | "text-to-image" | "image-to-video" | "vision";
  description: string;
  input: z.ZodType;
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
  /** what happens to its image outputs (default: block for text-to-image and video models, none otherwise) */
  moderation?: "none" | "flag" | "block";
}

/** The model's output moderation policy, with the default the catalog manifests use. */
export function moderationPolicy(m: Pick<ModelDefinition, "moderation" | "category" | "output_type">) {
  return m.moderation ?? (m.category === "text-to-image" || m.output_type === "video" ? "block" : "none");
}

const datacenter: GpuClass[] = ["A40", "L40S", "A100-40", "A100-80", "H100"];

export const MODEL_DEFINITIONS: ModelDefinition[] = [
  {
    slug: "background-removal",
    name: "Background Removal (ISNet)",
    category: "image-editing",
    description: "Removes the background of a photo and returns a PNG with a transparent background.",
    input: BackgroundRemovalInput,
    output_type: "image",
    runtime: "builtin",
    gpu_classes: ["cpu", ...datacenter],
    pricing: { kind: "per_gpu_second", micro_usd_per_second: { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1000, H100: 1400 } },
    free: true,
    pool: "public",
    max_execution_s: 120,
  },
  {
    slug: "nsfw-detector",
    name: "NSFW Detector (MobileNetV2)",
    category: "moderation",
    description: "Classifies an image as Drawing, Hentai, Neutral, Porn or Sexy with probabilities.",
    input: NsfwDetectorInput,
    output_type: "json",
    runtime: "builtin",
    gpu_classes: ["cpu", ...datacenter],
    pricing: { kind: "per_gpu_second", micro_usd_per_second: { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1000, H100: 1400 } },
    free: true,
    pool: "public",
    max_execution_s: 60,
  },
  {
    slug: "sdxl1.0-txt2img",
    name: "Stable Diffusion XL 1.0",
    category: "text-to-image",
    description: "Stability AI's SDXL base 1.0 text-to-image model, served through a ComfyUI backend.",
    input: SdxlInput,
    output_type: "image",
    runtime: "comfyui",
    gpu_classes: datacenter,
    pricing: { kind: "per_gpu_second", micro_usd_per_second: { A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1000, H100: 1400 } },
    free: false,
    pool: "public",
    max_execution_s: 300,
  },
  {
    slug: "flux-schnell",
    name: "FLUX.1 [schnell]",
    category: "text-to-image",
    description: "Black Forest Labs' 4-step distilled FLUX.1 model, served through a Cog backend.",
    input: FluxSchnellInput,
    output_type: "image",
    runtime: "cog",
    gpu_classes: ["L40S", "A100-80", "H100"],
    pricing: { kind: "per_generation", micro_usd_per_unit: 3000, unit: "image" },
    free: false,
    pool: "public",
    max_execution_s: 120,
  },
  {
    slug: "svd-img2vid",
    name: "Stable Video Diffusion (img2vid-xt)",
    category: "image-to-video",
    description: "Turns one image into a 14 or 25 frame video clip, served through a ComfyUI backend.",
    input: SvdInput,
    output_type: "video",
    runtime: "comfyui",
    gpu_classes: ["A100-80", "H100"],
    pricing: { kind: "per_gpu_second", micro_usd_per_second: { "A100-80": 1000, H100: 1400 } },
    free: false,
    pool: "public",
    max_execution_s: 600,
  },
  ...CPU_MODEL_DEFINITIONS,
];

export const MODEL_BY_SLUG = new Map(MODEL_DEFINITIONS.map((m) => [m.slug, m]));

/** Names of the image inputs of a model, read from the `format: "image"` marks in its schema. */
const imageFieldCache = new WeakMap<z.ZodType, string[]>();
export function imageFields(schema: z.ZodType): string[] {
  const hit = imageFieldCache.get(schema);
  if (hit) return hit;
  const json = z.toJSONSchema(schema, { io: "input" }) as { properties?: Record<string, { format?: string }> };
  const fields = Object.entries(json.properties ?? {})
    .filter(([, p]) => p.format === "image")
    .map(([k]) => k);
  imageFieldCache.set(schema, fields);
  return fields;
}
