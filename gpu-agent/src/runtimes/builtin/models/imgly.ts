import { createRequire } from "node:module";
import path from "node:path";
import sharp from "sharp";
import { decode, warmImage, type ModelFactory } from "./common.ts";

const require = createRequire(import.meta.url);

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
      const input = new Blob([new Uint8Array(png)], { type: "image/png" });
      const blob = await imgly.removeBackground(input, configs[variant]);
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
