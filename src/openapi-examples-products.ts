/**
 * Examples of the model page and private ComfyUI models (billing and the provider API are in
 * src/openapi-examples-billing.ts); see src/openapi-examples.ts. Prices in micro-USD, as the API uses them.
 */
import type { OperationExample } from "./openapi-examples.ts";

const BASE = "https://api.example.com";
const body = { image: "https://example.com/photo.jpg", model: "medium", format: "png" };
const RATES = { cpu: 100, A40: 400, L40S: 600, "A100-40": 800, "A100-80": 1_000, H100: 1_400 } as const;
const modelPage = {
  slug: "background-removal",
  name: "Background Removal (ISNet)",
  category: "background-removal",
  description: "Removes the background of a photo and returns a PNG with a transparent background.",
  input_schema: {
    type: "object",
    properties: {
      image: {
        type: "string",
        minLength: 1,
        format: "image",
        description: "Image to cut out: base64, data URL, or https URL",
      },
      model: {
        default: "medium",
        description: "ISNet variant: small is quantized and faster",
        type: "string",
        enum: ["small", "medium"],
      },
      format: { default: "png", type: "string", enum: ["png", "webp"] },
      base64: { default: false, description: "Return the output inline as base64 JSON", type: "boolean" },
    },
    required: ["image"],
    additionalProperties: false,
  },
  output_type: "image",
  runtime: "builtin",
  gpu_classes: Object.keys(RATES),
  pricing: { kind: "per_gpu_second", micro_usd_per_second: RATES },
  free: true,
  max_execution_s: 120,
  moderation: "none",
  license: "AGPL-3.0",
  license_url: "https://github.com/imgly/background-removal-js/blob/main/LICENSE.md",
  tags: ["image-editing", "cutout"],
  cover: null,
  prices: Object.entries(RATES).map(([gpu_class, micro_usd]) => ({
    gpu_class,
    micro_usd,
    per: "gpu_second",
    usd_per_hour: Math.round(micro_usd * 3.6 * 100) / 100,
  })),
  speed: {
    note: "p50 of the last 500 completed requests",
    by_gpu_class: [
      { gpu_class: "cpu", p50_ms: 2_410, completed: 431 },
      { gpu_class: "A40", p50_ms: 380, completed: 69 },
    ],
  },
  example: { input: body, output: null },
  snippets: {
    curl:
      `curl -X POST ${BASE}/v1/background-removal -H "x-api-key: $API_KEY" -H "content-type: application/json" \\\n` +
      `  -d '${JSON.stringify(body)}' -o output.png`,
    javascript:
      `const res = await fetch("${BASE}/v1/background-removal", {\n  method: "POST",\n` +
      `  headers: { "x-api-key": process.env.API_KEY, "content-type": "application/json" },\n` +
      `  body: JSON.stringify(${JSON.stringify(body)}),\n});`,
    python:
      `import os, requests\nres = requests.post("${BASE}/v1/background-removal", ` +
      `headers={"x-api-key": os.environ["API_KEY"]}, json=${JSON.stringify(body)})`,
  },
  comfyui: null,
};

/** A ComfyUI API-format export: SDXL img2img reading an uploaded image. */
const comfyWorkflow = {
  "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "juggernautXL_v9.safetensors" } },
  "2": { class_type: "LoadImage", inputs: { image: "example.png" } },
  "3": { class_type: "VAEEncode", inputs: { pixels: ["2", 0], vae: ["1", 2] } },
  "4": { class_type: "CLIPTextEncode", inputs: { text: "a castle", clip: ["1", 1] } },
  "5": { class_type: "CLIPTextEncode", inputs: { text: "blurry", clip: ["1", 1] } },
  "6": {
    class_type: "KSampler",
    inputs: {
      seed: 5,
      steps: 25,
      cfg: 6,
      sampler_name: "euler",
      scheduler: "normal",
      denoise: 0.7,
      model: ["1", 0],
      positive: ["4", 0],
      negative: ["5", 0],
      latent_image: ["3", 0],
    },
  },
  "7": { class_type: "VAEDecode", inputs: { samples: ["6", 0], vae: ["1", 2] } },
  "8": { class_type: "SaveImage", inputs: { filename_prefix: "restyle", images: ["7", 0] } },
};
const mapping = {
  image: { node: "2", input: "image", type: "image" },
  prompt: { node: "4", input: "text", type: "string" },
  steps: { node: "6", input: "steps", type: "integer", default: 25, minimum: 1, maximum: 60 },
  strength: { node: "6", input: "denoise", type: "number", default: 0.7 },
};
const createCustom = {
  slug: "my-restyler",
  name: "My restyler",
  workflow: comfyWorkflow,
  inputs: mapping,
  gpu_classes: ["L40S", "H100"],
};
const customModel = {
  slug: "my-restyler",
  name: "My restyler",
  category: "custom",
  description: "Private ComfyUI workflow My restyler",
  input_schema: {
    type: "object",
    properties: {
      image: { type: "string", minLength: 1, format: "image" },
      prompt: { type: "string" },
      steps: { type: "integer", minimum: 1, maximum: 60, default: 25 },
      strength: { type: "number", default: 0.7 },
      base64: { type: "boolean", default: false, description: "Return the output inline as base64 JSON" },
    },
    required: ["image", "prompt"],
    additionalProperties: false,
  },
  output_type: "image",
  runtime: "comfyui",
  gpu_classes: ["L40S", "H100"],
  pricing: { kind: "per_gpu_second", micro_usd_per_second: { L40S: 600, H100: 1_400 } },
  free: false,
  max_execution_s: 300,
  private: true,
  workflow: comfyWorkflow,
  inputs: mapping,
  requires: { node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] },
  created_at: "2026-12-01T11:52:40.711Z",
};

export const PRODUCT_EXAMPLES: Record<string, OperationExample> = {
  "get /v1/models/{model}": { params: { model: "background-removal" }, responses: { 200: modelPage } },
  // ---- private ComfyUI models ----
  "post /v1/custom-models": { request: createCustom, responses: { 201: customModel } },
  "get /v1/custom-models": { responses: { 200: { data: [customModel] } } },
  "get /v1/custom-models/{slug}": { params: { slug: "my-restyler" }, responses: { 200: customModel } },
  "delete /v1/custom-models/{slug}": {
    params: { slug: "my-restyler" },
    responses: { 200: { slug: "my-restyler", deleted: true } },
  },
};
