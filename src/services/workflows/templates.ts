/**
 * Workflow templates: real pipelines over the CPU models this platform runs (background removal, NSFW detection and
 * the sharp utilities image-resize, image-crop, image-composite, image-convert, text-overlay). Copying one creates a
 * draft in the account, checked like any other definition.
 */
export interface Template {
  id: string;
  name: string;
  description: string;
  definition: Record<string, unknown>;
}

const ref = (r: string) => ({ $ref: r });

export const TEMPLATES: Template[] = [
  {
    id: "product-photo-on-white",
    name: "Product photo on white",
    description:
      "Cuts the product out and puts it on a flat background colour (white by default): a marketplace-ready packshot.",
    definition: {
      inputs: {
        image: { type: "image", description: "the product photo" },
        background: { type: "string", default: "#ffffff", description: "background colour" },
      },
      nodes: {
        cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
        flat: {
          model: "image-composite",
          input: { image: ref("nodes.cutout.output"), background: ref("inputs.background") },
        },
      },
      outputs: { image: ref("nodes.flat.output") },
    },
  },
  {
    id: "background-swap",
    name: "Background swap",
    description: "Cuts the subject out of one photo and places it over another image, which sets the canvas size.",
    definition: {
      inputs: {
        image: { type: "image", description: "the subject" },
        background: { type: "image", description: "the new background" },
      },
      nodes: {
        cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
        swap: {
          model: "image-composite",
          input: { image: ref("nodes.cutout.output"), background_image: ref("inputs.background") },
        },
      },
      outputs: { image: ref("nodes.swap.output") },
    },
  },
  {
    id: "safe-for-work-gate",
    name: "Safe-for-work gate",
    description:
      "Classifies the photo and cuts it out side by side: the processed image with its moderation verdict, in one call.",
    definition: {
      inputs: { image: { type: "image" } },
      nodes: {
        check: { model: "nsfw-detector", input: { image: ref("inputs.image") } },
        cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
      },
      outputs: { image: ref("nodes.cutout.output"), safety: ref("nodes.check.json") },
    },
  },
  {
    id: "web-thumbnail",
    name: "Web thumbnail",
    description: "Resizes to a square thumbnail (cover, then centre crop) and encodes it as WebP.",
    definition: {
      inputs: {
        image: { type: "image" },
        size: { type: "integer", minimum: 16, maximum: 2048, default: 512 },
        quality: { type: "integer", minimum: 1, maximum: 100, default: 80 },
      },
      nodes: {
        fit: {
          model: "image-resize",
          input: { image: ref("inputs.image"), width: ref("inputs.size"), height: ref("inputs.size"), mode: "crop" },
        },
        encode: {
          model: "image-convert",
          input: { image: ref("nodes.fit.output"), format: "webp", quality: ref("inputs.quality") },
        },
      },
      outputs: { image: ref("nodes.encode.output") },
    },
  },
  {
    id: "watermarked-listing",
    name: "Watermarked listing photo",
    description: "Product on white, a text watermark, then a JPEG for the listing page; checked for safety on the way.",
    definition: {
      inputs: { image: { type: "image" }, text: { type: "string", default: "© my shop", max_length: 200 } },
      nodes: {
        cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
        flat: { model: "image-composite", input: { image: ref("nodes.cutout.output"), background: "#ffffff" } },
        // dark text: the default white would vanish on the white background
        mark: {
          model: "text-overlay",
          input: { image: ref("nodes.flat.output"), text: ref("inputs.text"), color: "#222222" },
        },
        encode: { model: "image-convert", input: { image: ref("nodes.mark.output"), format: "jpeg", quality: 85 } },
        check: { model: "nsfw-detector", input: { image: ref("nodes.flat.output") } },
      },
      outputs: { image: ref("nodes.encode.output"), safety: ref("nodes.check.json") },
    },
  },
  {
    id: "square-crop",
    name: "Centre square crop",
    description: "Crops the largest square (centred by default) and resizes it: avatars and grid tiles.",
    definition: {
      inputs: {
        image: { type: "image" },
        side: { type: "integer", minimum: 16, maximum: 2048, default: 256, description: "the result's side in pixels" },
        gravity: {
          type: "enum",
          default: "center",
          description: "which part of the photo the square keeps",
          values: ["center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left", "bottom-right"],
        },
      },
      nodes: {
        crop: {
          model: "image-crop",
          input: { image: ref("inputs.image"), aspect_ratio: "1:1", gravity: ref("inputs.gravity") },
        },
        fit: { model: "image-resize", input: { image: ref("nodes.crop.output"), width: ref("inputs.side") } },
      },
      outputs: { image: ref("nodes.fit.output") },
    },
  },
];

export const TEMPLATE_BY_ID = new Map(TEMPLATES.map((t) => [t.id, t]));

export function templateModels(t: Template): string[] {
  return [
    ...new Set(Object.values((t.definition as { nodes: Record<string, { model: string }> }).nodes).map((n) => n.model)),
  ];
}
