import { ImageConvertInput, ImageCropInput, ImageResizeInput } from "../../../../../schemas/cpu-models.ts";
import { JobError } from "../../../errors.ts";
import {
  decodeSized,
  encode,
  parseColour,
  parseParams,
  placeBox,
  requireFile,
  warmImage,
  type LoadedModel,
  type ModelFactory,
} from "./common.ts";

/** A model that needs nothing loaded: sharp itself is the model. */
export const utility = (slug: string, run: LoadedModel["run"]): ModelFactory => ({
  slug,
  async available() {
    return true;
  },
  async load() {
    return {
      run,
      async warmup() {
        await warmImage();
      },
    };
  },
});

export const SHARP_GRAVITY = {
  center: "centre",
  top: "north",
  bottom: "south",
  left: "west",
  right: "east",
  "top-left": "northwest",
  "top-right": "northeast",
  "bottom-left": "southwest",
  "bottom-right": "southeast",
} as const;

export const imageResize = utility("image-resize", async (params, files) => {
  const p = parseParams(ImageResizeInput, params, files);
  const { img } = await decodeSized(requireFile(files).bytes);
  // fill needs both sides; with one it keeps the aspect ratio, as fit does
  const fit = p.mode === "crop" ? "cover" : p.mode === "fill" && p.width && p.height ? "fill" : "inside";
  img.resize({ width: p.width, height: p.height, fit, position: SHARP_GRAVITY[p.gravity] });
  return encode(img, p.format, p.quality);
});

export const imageCrop = utility("image-crop", async (params, files) => {
  const p = parseParams(ImageCropInput, params, files);
  const { img, width: W, height: H } = await decodeSized(requireFile(files).bytes);
  let box: { left: number; top: number; width: number; height: number };
  if (p.aspect_ratio) {
    const [a, b] = p.aspect_ratio.split(":").map(Number) as [number, number];
    if (a === 0 || b === 0) throw new JobError("invalid_input", "aspect_ratio: both sides must be positive");
    // the largest a:b region inside the image
    const width = Math.max(1, Math.min(W, Math.round((H * a) / b)));
    const height = Math.max(1, Math.min(H, Math.round((width * b) / a)));
    box = { ...placeBox(p.gravity, W, H, width, height), width, height };
  } else {
    box = { left: p.left!, top: p.top!, width: p.width!, height: p.height! };
    if (box.left + box.width > W || box.top + box.height > H) {
      const where = `${box.width}x${box.height}+${box.left}+${box.top}`;
      throw new JobError("invalid_input", `crop box ${where} is outside the ${W}x${H} image`);
    }
  }
  img.extract({ left: box.left, top: box.top, width: box.width, height: box.height });
  return encode(img, p.format, p.quality);
});

export const imageConvert = utility("image-convert", async (params, files) => {
  const p = parseParams(ImageConvertInput, params, files);
  const { img } = await decodeSized(requireFile(files).bytes);
  if (p.format === "jpeg") img.flatten({ background: parseColour(p.background) });
  return encode(img, p.format, p.quality, p.lossless);
});
