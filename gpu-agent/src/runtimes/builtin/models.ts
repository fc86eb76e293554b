import { createRequire } from "node:module";
import path from "node:path";
import sharp, { type Sharp } from "sharp";
import { JobError } from "../../errors.ts";

const require = createRequire(import.meta.url);

export interface LoadedModel {
  run(params: Record<string, unknown>, files: Record<string, { bytes: Uint8Array; contentType: string }>): Promise<{ outputs: { name: string; contentType: string; bytes: Uint8Array }[]; json?: unknown }>;
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
  const img = sharp(bytes, { limitInputPixels: 50_000_000, failOn: "error" }).rotate();
  try {
    const meta = await img.metadata();
    if (!meta.width || !meta.height) throw new Error("no dimensions");
  } catch (e) {
    throw new JobError("invalid_input", `${field}: could not decode image (${(e as Error).message})`);
  }
  return img;
}

const warmImage = () => sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer();

/** ISNet background removal via @imgly/background-removal-node (AGPL-3.0, optional dependency). */
export const backgroundRemoval: ModelFactory = {
  slug: "background-removal",
  async available() {
    try {
      require.resolve("@imgly/background-removal-node");
      return true;
    } catch {
      return false;
    }
  },
  async load() {
    const imgly = await import("@imgly/background-removal-node");
    const dist = path.dirname(require.resolve("@imgly/background-removal-node"));
    // imgly memoizes its ONNX session by config; the config objects are created once so the session stays loaded.
    const configs = {
      small: { publicPath: `file://${dist}/`, model: "small" as const, output: { format: "image/png" as const } },
      medium: { publicPath: `file://${dist}/`, model: "medium" as const, output: { format: "image/png" as const } },
    };
    const cut = async (png: Buffer, variant: "small" | "medium") => {
      const blob = await imgly.removeBackground(new Blob([new Uint8Array(png)], { type: "image/png" }), configs[variant]);
      return new Uint8Array(await blob.arrayBuffer());
    };
    return {
      async run(params, files) {
        const img = await decode(files.image!.bytes);
        const png = await img.png().toBuffer();
        const variant = params.model === "small" ? "small" : "medium";
        let out = await cut(png, variant);
        let contentType = "image/png";
        if (params.format === "webp") {
          out = new Uint8Array(await sharp(out).webp({ lossless: true }).toBuffer());
          contentType = "image/webp";
        }
        return { outputs: [{ name: `output.${params.format === "webp" ? "webp" : "png"}`, contentType, bytes: out }] };
      },
      async warmup() {
        const png = await warmImage();
        // The default variant is warmed; "small" loads on its first use and stays loaded after.
        await cut(png, "medium");
      },
    };
  },
};

/** NSFW classification via nsfwjs MobileNetV2 on pure-JS TensorFlow (MIT). */
export const nsfwDetector: ModelFactory = {
  slug: "nsfw-detector",
  async available() {
    return true;
  },
  async load() {
    const tf = await import("@tensorflow/tfjs");
    const nsfwjs = await import("nsfwjs");
    const model = await nsfwjs.load("MobileNetV2");
    const classify = async (bytes: Uint8Array) => {
      const img = await decode(bytes);
      const { data, info } = await img.removeAlpha().resize(224, 224, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
      const tensor = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], "int32");
      try {
        return await model.classify(tensor as never, 5);
      } finally {
        tensor.dispose();
      }
    };
    return {
      async run(_params, files) {
        const predictions = await classify(files.image!.bytes);
        const top = predictions[0]!;
        return { outputs: [], json: { predictions, top: top.className, nsfw: (top.className === "Porn" || top.className === "Hentai" || top.className === "Sexy") } };
      },
      async warmup() {
        await classify(new Uint8Array(await warmImage()));
      },
    };
  },
};

export const FACTORIES: ModelFactory[] = [backgroundRemoval, nsfwDetector];
