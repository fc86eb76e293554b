import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import sharp from "sharp";
import { UpscaleInput } from "../../../../../schemas/cpu-models.ts";
import { JobError } from "../../../errors.ts";
import { tfReady } from "./tf.ts";
import { decodeSized, encode, parseParams, requireFile, type LoadedModel, type ModelFactory } from "./common.ts";

const require = createRequire(import.meta.url);
type Tf = typeof import("@tensorflow/tfjs");
type LayersModel = Awaited<ReturnType<Tf["loadLayersModel"]>>;

/** Input pixels accepted: CPU time grows with the pixel count (see the README's model table). */
export const MAX_UPSCALE_INPUT_PIXELS = 1024 * 1024;
/** Tiles bound the memory of one inference; the overlap hides the seams at tile borders. */
const TILE = 128;
const OVERLAP = 8;

/** The package's folder (its `exports` do not include package.json). */
const packageDir = (pkg: string) => {
  const entry = require.resolve(pkg);
  return entry.slice(0, entry.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}`.length);
};

/** Loads `models/x<scale>/model.json` of an @upscalerjs package from disk (its own loader fetches over HTTP). */
async function loadScale(tf: Tf, pkg: string, scale: number): Promise<LayersModel> {
  const dir = path.join(packageDir(pkg), "models", `x${scale}`);
  const json = JSON.parse(readFileSync(path.join(dir, "model.json"), "utf8"));
  const manifest = json.weightsManifest as { paths: string[]; weights: unknown[] }[];
  const buffers = manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const joined = new Uint8Array(buffers.reduce((s, b) => s + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    joined.set(b, at);
    at += b.byteLength;
  }
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: manifest.flatMap((g) => g.weights) as never,
    weightData: joined.buffer,
  });
  return tf.loadLayersModel(handler);
}

/** Runs the model over overlapping tiles of the RGB image (0..255 in and out) and stitches the centres. */
async function upscaleRgb(tf: Tf, model: LayersModel, rgb: Uint8Array, W: number, H: number, scale: number) {
  const out = new Uint8Array(W * scale * H * scale * 3);
  const image = tf.tensor3d(rgb, [H, W, 3], "int32");
  try {
    for (let y0 = 0; y0 < H; y0 += TILE) {
      for (let x0 = 0; x0 < W; x0 += TILE) {
        const tw = Math.min(TILE, W - x0);
        const th = Math.min(TILE, H - y0);
        const px = Math.max(0, x0 - OVERLAP);
        const py = Math.max(0, y0 - OVERLAP);
        const pw = Math.min(W, x0 + tw + OVERLAP) - px;
        const ph = Math.min(H, y0 + th + OVERLAP) - py;
        const result = tf.tidy(() => {
          const tile = image.slice([py, px, 0], [ph, pw, 3]).toFloat().expandDims(0);
          const y = (model.predict(tile) as import("@tensorflow/tfjs").Tensor4D).squeeze([0]);
          const crop = y.slice([(y0 - py) * scale, (x0 - px) * scale, 0], [th * scale, tw * scale, 3]);
          return crop.clipByValue(0, 255).round().toInt();
        });
        const data = await result.data();
        result.dispose();
        for (let r = 0; r < th * scale; r++) {
          const dst = ((y0 * scale + r) * W * scale + x0 * scale) * 3;
          out.set(data.subarray(r * tw * scale * 3, (r + 1) * tw * scale * 3), dst);
        }
      }
    }
  } finally {
    image.dispose();
  }
  return out;
}

/** An ESRGAN upscaler from an @upscalerjs package (MIT, weights inside): 2x, 3x and 4x, each loaded on first use. */
function esrgan(slug: string, pkg: string): ModelFactory {
  return {
    slug,
    async available() {
      try {
        packageDir(pkg);
        return true;
      } catch {
        return false;
      }
    },
    async load(): Promise<LoadedModel> {
      const tf = await tfReady();
      const models = new Map<number, Promise<LayersModel>>();
      const modelFor = (scale: number) => {
        if (!models.has(scale)) models.set(scale, loadScale(tf, pkg, scale));
        return models.get(scale)!;
      };
      const upscale = async (bytes: Uint8Array, scale: number) => {
        const { img, width: W, height: H, hasAlpha } = await decodeSized(bytes);
        if (W * H > MAX_UPSCALE_INPUT_PIXELS) {
          const why = `image: ${W}x${H} is over the ${MAX_UPSCALE_INPUT_PIXELS} pixels this model takes`;
          throw new JobError("invalid_input", why);
        }
        const rgb = await img.clone().removeAlpha().raw().toBuffer();
        const up = await upscaleRgb(tf, await modelFor(scale), new Uint8Array(rgb), W, H, scale);
        const raw = { raw: { width: W * scale, height: H * scale, channels: 3 as const } };
        if (!hasAlpha) return sharp(up, raw);
        // transparency is not the network's to invent: the alpha channel is resized with Lanczos
        const alpha = await img
          .clone()
          .extractChannel("alpha")
          .resize(W * scale, H * scale)
          .raw()
          .toBuffer();
        return sharp(up, raw).joinChannel(alpha, { raw: { width: W * scale, height: H * scale, channels: 1 } });
      };
      return {
        async run(params, files) {
          const p = parseParams(UpscaleInput, params, files);
          return encode(await upscale(requireFile(files).bytes, p.scale), p.format, p.quality);
        },
        /** Every scale is loaded and run once here, so no job pays (and is billed) for loading its weights. */
        async warmup() {
          const tiny = sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } });
          const bytes = new Uint8Array(await tiny.png().toBuffer());
          for (const scale of [2, 3, 4]) await upscale(bytes, scale);
        },
      };
    },
  };
}

export const esrganSlim = esrgan("esrgan-slim", "@upscalerjs/esrgan-slim");
export const esrganMedium = esrgan("esrgan-medium", "@upscalerjs/esrgan-medium");
