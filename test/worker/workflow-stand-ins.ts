import { ModelManifest } from "../../schemas/manifest.ts";

/**
 * Copies of the sharp utility models' manifests (image-resize, image-crop, image-composite, image-convert,
 * text-overlay) as branch `agent` defines them under models/<slug>/manifest.json, less descriptions. The workflow
 * tests register them only while the catalog lacks them, so the tests run the same before and after that branch
 * lands: same input names, types, rules and prices as the real models.
 */
export const UTILITY_MANIFESTS = ([
  {
    "slug": "image-resize",
    "name": "Image Resize",
    "category": "utility",
    "description": "Resizes an image to a width and/or height: fit inside, fill exactly, or cover and crop.",
    "input_schema": {
      "type": "object",
      "properties": {
        "image": {"type": "string", "minLength": 1, "format": "image"},
        "width": {"type": "integer", "minimum": 1, "maximum": 8192},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192},
        "mode": {"default": "fit", "type": "string", "enum": ["fit", "fill", "crop"]},
        "gravity": {
          "default": "center",
          "type": "string",
          "enum": [
            "center",
            "top",
            "bottom",
            "left",
            "right",
            "top-left",
            "top-right",
            "bottom-left",
            "bottom-right"
          ]
        },
        "format": {"default": "png", "type": "string", "enum": ["png", "jpeg", "webp", "avif"]},
        "quality": {"default": 90, "type": "integer", "minimum": 1, "maximum": 100},
        "base64": {"default": false, "type": "boolean"}
      },
      "required": ["image"],
      "additionalProperties": false,
      "anyOf": [{"required": ["width"]}, {"required": ["height"]}]
    },
    "output_type": "image",
    "runtime": "builtin",
    "gpu_classes": ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
    "pricing": {"kind": "per_generation", "micro_usd_per_unit": 100, "unit": "request"},
    "limits": {"max_execution_s": 30, "max_outputs": 1},
    "free": true,
    "moderation": "none",
    "pool": "public",
    "example_input": {"image": "https://example.com/photo.jpg", "width": 1024, "mode": "fit"},
    "license": "Apache-2.0"
  },
  {
    "slug": "image-crop",
    "name": "Image Crop",
    "category": "utility",
    "description": "Crops an image to a pixel box, or to the largest region of an aspect ratio placed by gravity.",
    "input_schema": {
      "type": "object",
      "properties": {
        "image": {"type": "string", "minLength": 1, "format": "image"},
        "left": {"type": "integer", "minimum": 0, "maximum": 65535},
        "top": {"type": "integer", "minimum": 0, "maximum": 65535},
        "width": {"type": "integer", "minimum": 1, "maximum": 8192},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192},
        "aspect_ratio": {"type": "string", "pattern": "^\\d{1,4}:\\d{1,4}$"},
        "gravity": {
          "default": "center",
          "type": "string",
          "enum": [
            "center",
            "top",
            "bottom",
            "left",
            "right",
            "top-left",
            "top-right",
            "bottom-left",
            "bottom-right"
          ]
        },
        "format": {"default": "png", "type": "string", "enum": ["png", "jpeg", "webp", "avif"]},
        "quality": {"default": 90, "type": "integer", "minimum": 1, "maximum": 100},
        "base64": {"default": false, "type": "boolean"}
      },
      "required": ["image"],
      "additionalProperties": false,
      "oneOf": [
        {"required": ["left", "top", "width", "height"], "not": {"required": ["aspect_ratio"]}},
        {
          "required": ["aspect_ratio"],
          "not": {
            "anyOf": [
              {"required": ["left"]},
              {"required": ["top"]},
              {"required": ["width"]},
              {"required": ["height"]}
            ]
          }
        }
      ]
    },
    "output_type": "image",
    "runtime": "builtin",
    "gpu_classes": ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
    "pricing": {"kind": "per_generation", "micro_usd_per_unit": 100, "unit": "request"},
    "limits": {"max_execution_s": 30, "max_outputs": 1},
    "free": true,
    "moderation": "none",
    "pool": "public",
    "example_input": {"image": "https://example.com/photo.jpg", "aspect_ratio": "1:1", "gravity": "center"},
    "license": "Apache-2.0"
  },
  {
    "slug": "image-composite",
    "name": "Image Composite",
    "category": "image-editing",
    "description": "Places a cutout over a solid colour, a linear gradient or another image, with position and scale.",
    "input_schema": {
      "type": "object",
      "properties": {
        "image": {"type": "string", "minLength": 1, "format": "image"},
        "background": {
          "default": "#ffffff",
          "anyOf": [
            {"type": "string", "pattern": "^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"},
            {
              "type": "string",
              "pattern": "^linear-gradient\\(\\s*-?\\d{1,3}(?:\\.\\d+)?deg(?:\\s*,\\s*#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})){2,8}\\s*\\)$"
            }
          ]
        },
        "background_image": {"type": "string", "minLength": 1, "format": "image"},
        "width": {"type": "integer", "minimum": 1, "maximum": 8192},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192},
        "scale": {"default": 1, "type": "number", "minimum": 0.01, "maximum": 4},
        "position": {
          "default": "center",
          "type": "string",
          "enum": [
            "center",
            "top",
            "bottom",
            "left",
            "right",
            "top-left",
            "top-right",
            "bottom-left",
            "bottom-right"
          ]
        },
        "x": {"type": "integer", "minimum": 0, "maximum": 65535},
        "y": {"type": "integer", "minimum": 0, "maximum": 65535},
        "format": {"default": "png", "type": "string", "enum": ["png", "jpeg", "webp", "avif"]},
        "quality": {"default": 90, "type": "integer", "minimum": 1, "maximum": 100},
        "base64": {"default": false, "type": "boolean"}
      },
      "required": ["image"],
      "additionalProperties": false
    },
    "output_type": "image",
    "runtime": "builtin",
    "gpu_classes": ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
    "pricing": {"kind": "per_generation", "micro_usd_per_unit": 200, "unit": "request"},
    "limits": {"max_execution_s": 30, "max_outputs": 1},
    "free": true,
    "moderation": "none",
    "pool": "public",
    "example_input": {
      "image": "https://example.com/cutout.png",
      "background": "linear-gradient(180deg, #ffffff, #d0d8e0)",
      "scale": 0.9,
      "position": "bottom"
    },
    "license": "Apache-2.0"
  },
  {
    "slug": "image-convert",
    "name": "Image Convert",
    "category": "utility",
    "description": "Converts an image to PNG, JPEG, WebP or AVIF with a quality setting.",
    "input_schema": {
      "type": "object",
      "properties": {
        "image": {"type": "string", "minLength": 1, "format": "image"},
        "format": {"type": "string", "enum": ["png", "jpeg", "webp", "avif"]},
        "quality": {"default": 90, "type": "integer", "minimum": 1, "maximum": 100},
        "lossless": {"default": false, "type": "boolean"},
        "background": {
          "default": "#ffffff",
          "type": "string",
          "pattern": "^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
        },
        "base64": {"default": false, "type": "boolean"}
      },
      "required": ["image", "format"],
      "additionalProperties": false
    },
    "output_type": "image",
    "runtime": "builtin",
    "gpu_classes": ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
    "pricing": {"kind": "per_generation", "micro_usd_per_unit": 100, "unit": "request"},
    "limits": {"max_execution_s": 60, "max_outputs": 1},
    "free": true,
    "moderation": "none",
    "pool": "public",
    "example_input": {"image": "https://example.com/photo.png", "format": "webp", "quality": 80},
    "license": "Apache-2.0"
  },
  {
    "slug": "text-overlay",
    "name": "Text Overlay (watermark)",
    "category": "image-editing",
    "description": "Draws watermark text on an image with position, size, colour and opacity.",
    "input_schema": {
      "type": "object",
      "properties": {
        "image": {"type": "string", "minLength": 1, "format": "image"},
        "text": {"type": "string", "minLength": 1, "maxLength": 200},
        "position": {
          "default": "bottom-right",
          "type": "string",
          "enum": [
            "center",
            "top",
            "bottom",
            "left",
            "right",
            "top-left",
            "top-right",
            "bottom-left",
            "bottom-right"
          ]
        },
        "font_size": {"default": 32, "type": "integer", "minimum": 6, "maximum": 512},
        "font": {"default": "sans", "type": "string", "enum": ["sans", "serif", "mono"]},
        "color": {
          "default": "#ffffff",
          "type": "string",
          "pattern": "^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
        },
        "opacity": {"default": 0.6, "type": "number", "minimum": 0, "maximum": 1},
        "margin": {"default": 16, "type": "integer", "minimum": 0, "maximum": 2048},
        "format": {"default": "png", "type": "string", "enum": ["png", "jpeg", "webp", "avif"]},
        "quality": {"default": 90, "type": "integer", "minimum": 1, "maximum": 100},
        "base64": {"default": false, "type": "boolean"}
      },
      "required": ["image", "text"],
      "additionalProperties": false
    },
    "output_type": "image",
    "runtime": "builtin",
    "gpu_classes": ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100"],
    "pricing": {"kind": "per_generation", "micro_usd_per_unit": 200, "unit": "request"},
    "limits": {"max_execution_s": 30, "max_outputs": 1},
    "free": true,
    "moderation": "none",
    "pool": "public",
    "example_input": {
      "image": "https://example.com/photo.jpg",
      "text": "© Example Studio",
      "position": "bottom-right",
      "font_size": 32,
      "opacity": 0.6
    },
    "license": "Apache-2.0"
  },
] as unknown[]).map((m) => ModelManifest.parse(m));
