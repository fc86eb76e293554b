import { tfReady } from "./tf.ts";
import { decode, requireFile, warmImage, type ModelFactory } from "./common.ts";

const EXPLICIT = new Set(["Porn", "Hentai", "Sexy"]);

/**
 * The classifier's answer: the five classes, the top one, and `nsfw_score`, the probability mass of the explicit
 * classes (Porn, Hentai, Sexy), which output moderation compares with its threshold.
 */
export function verdict(predictions: { className: string; probability: number }[]) {
  const top = predictions[0]!;
  const score = predictions.filter((p) => EXPLICIT.has(p.className)).reduce((s, p) => s + p.probability, 0);
  const nsfw_score = Math.round(score * 1e6) / 1e6;
  return { predictions, top: top.className, nsfw: EXPLICIT.has(top.className), nsfw_score };
}

/** NSFW classification via nsfwjs MobileNetV2 on pure-JS TensorFlow (MIT). */
export const nsfwDetector: ModelFactory = {
  slug: "nsfw-detector",
  async available() {
    return true;
  },
  async load() {
    const tf = await tfReady();
    const nsfwjs = await import("nsfwjs");
    const model = await nsfwjs.load("MobileNetV2");
    const classify = async (bytes: Uint8Array) => {
      const img = await decode(bytes);
      const small = img.removeAlpha().resize(224, 224, { fit: "fill" }).raw();
      const { data, info } = await small.toBuffer({ resolveWithObject: true });
      const tensor = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], "int32");
      try {
        return await model.classify(tensor as never, 5);
      } finally {
        tensor.dispose();
      }
    };
    return {
      async run(_params, files) {
        const predictions = await classify(requireFile(files).bytes);
        return { outputs: [], json: verdict(predictions) };
      },
      async warmup() {
        await classify(new Uint8Array(await warmImage()));
      },
    };
  },
};
