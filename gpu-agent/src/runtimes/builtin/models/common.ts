import sharp, { type Sharp } from "sharp";
import type { z } from "zod";
import type { Gravity } from "../../../../../schemas/cpu-models.ts";
import { JobError } from "../../../errors.ts";

export interface ImageFile {
  bytes: Uint8Array;
  contentType: string;
}
export interface ModelOutput {
  outputs: { name: string; contentType: string; bytes: Uint8Array }[];
  json?: unknown;
}

export interface LoadedModel {
  run(params: Record<string, unknown>, files: Record<string, ImageFile>): Promise<ModelOutput>;
  /** a tiny inference so the first real job does not pay for lazy initialisation */
  warmup(): Promise<void>;
}

export interface ModelFactory {
  slug: string;
  /** false when its package is not installed (imgly is optional) */
  available(): Promise<boolean>;
  load(): Promise<LoadedModel>;
}

/** Decodes an input image; anything sharp cannot read is the caller's error (422), never retried. */
export async function decode(bytes: Uint8Array, field = "image"): Promise<Sharp> {
  return (await decodeSized(bytes, field)).img;
}

/** As `decode`, with the size after EXIF orientation is applied (what the caller sees). */
export async function decodeSized(bytes: Uint8Array, field = "image") {
  const img = sharp(bytes, { limitInputPixels: 50_000_000, failOn: "error" }).rotate();
  try {
    const meta = await img.metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new Error("no dimensions");
    return { img, width, height, hasAlpha: meta.hasAlpha === true };
  } catch (e) {
    throw new JobError("invalid_input", `${field}: could not decode image (${(e as Error).message})`);
  }
}

export const warmImage = () =>
  sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .png()
    .toBuffer();

/**
 * The job's parameters checked again with the model's own schema (the edge validated them; the agent does not trust
 * the wire). Image fields travel as files, so they stand in as placeholders here.
 */
export function parseParams<S extends z.ZodType>(
  schema: S,
  params: Record<string, unknown>,
  files: Record<string, ImageFile>,
): z.infer<S> {
  const placeholders = Object.fromEntries(Object.keys(files).map((k) => [k, "file"]));
  const r = schema.safeParse({ ...params, ...placeholders });
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    throw new JobError("invalid_input", why);
  }
  return r.data;
}

export function requireFile(files: Record<string, ImageFile>, field = "image"): ImageFile {
  const f = files[field];
  if (!f) throw new JobError("invalid_input", `${field}: required`);
  return f;
}

const TYPES = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp", avif: "image/avif" } as const;
export type Format = keyof typeof TYPES;

/** Encodes the pipeline's result as one output file. */
export async function encode(img: Sharp, format: Format, quality = 90, lossless = false): Promise<ModelOutput> {
  const out =
    format === "png"
      ? img.png()
      : format === "jpeg"
        ? img.jpeg({ quality, mozjpeg: true })
        : format === "webp"
          ? img.webp({ quality, lossless })
          : // effort 2 of 9: AVIF's default effort costs seconds per megapixel on a CPU
            img.avif({ quality, lossless, effort: 2 });
  const bytes = new Uint8Array(await out.toBuffer());
  return { outputs: [{ name: `output.${format === "jpeg" ? "jpg" : format}`, contentType: TYPES[format], bytes }] };
}

/** "#rgb", "#rgba", "#rrggbb" or "#rrggbbaa" as sharp's colour object (alpha 0..1). */
export function parseColour(hex: string): { r: number; g: number; b: number; alpha: number } {
  let h = hex.replace(/^#/, "");
  if (h.length <= 4) h = [...h].map((c) => c + c).join("");
  const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: h.length === 8 ? n(6) / 255 : 1 };
}

/** Where a w×h box sits inside a W×H canvas for a gravity, `margin` pixels from the edges it touches. */
export function placeBox(gravity: Gravity, W: number, H: number, w: number, h: number, margin = 0) {
  const horizontal = gravity.includes("left") ? "left" : gravity.includes("right") ? "right" : "center";
  const vertical = gravity.startsWith("top") ? "top" : gravity.startsWith("bottom") ? "bottom" : "center";
  const left = horizontal === "left" ? margin : horizontal === "right" ? W - w - margin : Math.round((W - w) / 2);
  const top = vertical === "top" ? margin : vertical === "bottom" ? H - h - margin : Math.round((H - h) / 2);
  return { left, top, horizontal, vertical } as const;
}
