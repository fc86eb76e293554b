import { z } from "zod";
import { imageField } from "./fields.ts";
import type { GpuClass, Pricing } from "./models.ts";

/**
 * The models that the agent's built-in runtime runs on any host, CPU included: image utilities on sharp (priced per
 * request) and ESRGAN upscalers on TensorFlow.js. Each takes an image field `image` and returns an image, so
 * workflows can chain them with background removal and the NSFW detector.
 */

/** A CSS-style colour: #rgb, #rgba, #rrggbb or #rrggbbaa. */
const hex = "#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})";
// no regex flags: the patterns travel in JSON Schema, which has none
export const Colour = z.string().regex(new RegExp(`^${hex}$`), "a colour like #ffffff");
/** `linear-gradient(<angle>deg, <colour>, <colour>[, ...])`, angles as in CSS (0deg: bottom to top). */
export const Gradient = z
  .string()
  .regex(
    new RegExp(`^linear-gradient\\(\\s*-?\\d{1,3}(?:\\.\\d+)?deg(?:\\s*,\\s*${hex}){2,8}\\s*\\)$`),
    "linear-gradient(<angle>deg, #c1, #c2, ...)",
  );
export const Gravity = z.enum([
  "center",
  "top",
  "bottom",
  "left",
  "right",
  "top-left",
  "top-right",
  "bottom-left",
  "bottom-right",
]);
export type Gravity = z.infer<typeof Gravity>;
export const ImageFormat = z.enum(["png", "jpeg", "webp", "avif"]);

const px = z.number().int().min(1).max(8192);
const output = {
  format: ImageFormat.default("png").describe("Output format"),
  quality: z.number().int().min(1).max(100).default(90).describe("Quality of lossy formats (jpeg, webp, avif)"),
  base64: z.boolean().default(false).describe("Return the output inline as base64 JSON"),
};

export const ImageResizeInput = z
  .strictObject({
    image: imageField("Image to resize: base64, data URL, or https URL"),
    width: px.optional().describe("Target width in pixels"),
    height: px.optional().describe("Target height in pixels"),
    mode: z
      .enum(["fit", "fill", "crop"])
      .default("fit")
      .describe("fit: inside the box, aspect kept; fill: exactly the box, stretched; crop: cover the box, then crop"),
    gravity: Gravity.default("center").describe("Which part to keep when mode is crop"),
    ...output,
  })
  .refine((v) => v.width !== undefined || v.height !== undefined, {
    message: "give width, height or both",
    path: ["width"],
  });

export const ImageCropInput = z
  .strictObject({
    image: imageField("Image to crop: base64, data URL, or https URL"),
    left: z.number().int().min(0).max(65_535).optional().describe("Box: left edge in pixels"),
    top: z.number().int().min(0).max(65_535).optional().describe("Box: top edge in pixels"),
    width: px.optional().describe("Box: width in pixels"),
    height: px.optional().describe("Box: height in pixels"),
    aspect_ratio: z
      .string()
      .regex(/^\d{1,4}:\d{1,4}$/, "like 16:9")
      .optional()
      .describe("Instead of a box: the largest region of this aspect ratio, placed by gravity"),
    gravity: Gravity.default("center").describe("Where the aspect-ratio region sits"),
    ...output,
  })
  .refine((v) => (v.aspect_ratio !== undefined) !== [v.left, v.top, v.width, v.height].every((n) => n !== undefined), {
    message: "give either a box (left, top, width, height) or aspect_ratio",
    path: ["aspect_ratio"],
  });

export const ImageCompositeInput = z.strictObject({
  image: imageField("Foreground (a cutout with transparency): base64, data URL, or https URL"),
  background: z
    .union([Colour, Gradient])
    .default("#ffffff")
    .describe("A colour (#ffffff) or linear-gradient(<angle>deg, #c1, #c2, ...) under the foreground"),
  background_image: imageField("An image under the foreground instead of the colour; sets the canvas size").optional(),
  width: px.optional().describe("Canvas width (default: the background image's, else the foreground's)"),
  height: px.optional().describe("Canvas height (default: the background image's, else the foreground's)"),
  scale: z.number().min(0.01).max(4).default(1).describe("Foreground size relative to the largest that fits"),
  position: Gravity.default("center").describe("Where the foreground sits"),
  x: z.number().int().min(0).max(65_535).optional().describe("Left edge of the foreground (overrides position)"),
  y: z.number().int().min(0).max(65_535).optional().describe("Top edge of the foreground (overrides position)"),
  ...output,
});

export const ImageConvertInput = z.strictObject({
  image: imageField("Image to convert: base64, data URL, or https URL"),
  format: ImageFormat.describe("Output format"),
  quality: output.quality,
  lossless: z.boolean().default(false).describe("Lossless webp or avif"),
  background: Colour.default("#ffffff").describe("Fill of transparent pixels when the format has no alpha (jpeg)"),
  base64: output.base64,
});

export const TextOverlayInput = z.strictObject({
  image: imageField("Image to watermark: base64, data URL, or https URL"),
  text: z.string().min(1).max(200).describe("Text to draw"),
  position: Gravity.default("bottom-right"),
  font_size: z.number().int().min(6).max(512).default(32).describe("Font size in pixels"),
  font: z.enum(["sans", "serif", "mono"]).default("sans"),
  color: Colour.default("#ffffff"),
  opacity: z.number().min(0).max(1).default(0.6),
  margin: z.number().int().min(0).max(2048).default(16).describe("Distance from the edges in pixels"),
  ...output,
});

export const UpscaleInput = z.strictObject({
  image: imageField("Image to upscale (at most 1024x1024): base64, data URL, or https URL"),
  scale: z
    .union([z.literal(2), z.literal(3), z.literal(4)])
    .default(2)
    .describe("Upscaling factor"),
  ...output,
});

export const FaceDetectionInput = z.strictObject({
  image: imageField("Image to search for faces: base64, data URL, or https URL"),
  min_confidence: z.number().min(0.05).max(1).default(0.5).describe("Faces scored below this are left out"),
  landmarks: z.boolean().default(true).describe("Also return the 68 facial landmarks of each face"),
  base64: z.boolean().default(false).describe("Return the output inline as base64 JSON"),
});

const anywhere: GpuClass[] = ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"];
const perRequest = (micro: number): Pricing => ({ kind: "per_generation", micro_usd_per_unit: micro, unit: "request" });
const perSecond: Pricing = {
  kind: "per_gpu_second",
  micro_usd_per_second: { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1000, H100: 1400 },
};
const utility = {
  category: "image-editing",
  output_type: "image",
  runtime: "builtin",
  gpu_classes: anywhere,
  free: true,
  pool: "public",
} as const;

/**
 * The built-in CPU models as the agent checks their parameters (zod). The catalog serves them from their manifests
 * (models/<slug>/manifest.json); test/agent/cpu-manifests.test.ts keeps the two saying the same thing.
 */
export interface CpuModelSpec {
  slug: string;
  name: string;
  description: string;
  category: string;
  input: z.ZodType;
  output_type: "image" | "json";
  runtime: "builtin";
  gpu_classes: GpuClass[];
  pricing: Pricing;
  free: boolean;
  pool: string;
  max_execution_s: number;
}

export const CPU_MODEL_DEFINITIONS: CpuModelSpec[] = [
  {
    ...utility,
    slug: "image-resize",
    name: "Image Resize",
    input: ImageResizeInput,
    pricing: perRequest(100),
    max_execution_s: 30,
    description: "Resizes an image to a width and/or height: fit inside, fill exactly, or cover and crop.",
  },
  {
    ...utility,
    slug: "image-crop",
    name: "Image Crop",
    input: ImageCropInput,
    pricing: perRequest(100),
    max_execution_s: 30,
    description: "Crops an image to a pixel box, or to the largest region of an aspect ratio placed by gravity.",
  },
  {
    ...utility,
    slug: "image-composite",
    name: "Image Composite",
    input: ImageCompositeInput,
    pricing: perRequest(200),
    max_execution_s: 30,
    description: "Places a cutout over a solid colour, a linear gradient or another image, with position and scale.",
  },
  {
    ...utility,
    slug: "image-convert",
    name: "Image Convert",
    input: ImageConvertInput,
    pricing: perRequest(100),
    max_execution_s: 60,
    description: "Converts an image to PNG, JPEG, WebP or AVIF with a quality setting.",
  },
  {
    ...utility,
    slug: "text-overlay",
    name: "Text Overlay (watermark)",
    input: TextOverlayInput,
    pricing: perRequest(200),
    max_execution_s: 30,
    description: "Draws watermark text on an image with position, size, colour and opacity.",
  },
  {
    ...utility,
    slug: "esrgan-slim",
    name: "ESRGAN Upscaler (slim)",
    input: UpscaleInput,
    pricing: perSecond,
    max_execution_s: 300,
    description: "Upscales an image 2x, 3x or 4x with UpscalerJS's ESRGAN-slim RDN model (MIT), on TensorFlow.js.",
  },
  {
    ...utility,
    slug: "esrgan-medium",
    name: "ESRGAN Upscaler (medium)",
    input: UpscaleInput,
    pricing: perSecond,
    max_execution_s: 600,
    description: "Upscales an image 2x, 3x or 4x with UpscalerJS's larger ESRGAN-medium RDN model (MIT).",
  },
  {
    ...utility,
    slug: "face-detection",
    name: "Face Detection (SSD MobileNetV1 + landmarks)",
    input: FaceDetectionInput,
    category: "vision",
    output_type: "json",
    pricing: perSecond,
    max_execution_s: 60,
    description: "Finds faces in an image: a box and score per face, and 68 landmarks (face-api.js models, MIT).",
  },
];
