import { createRequire } from "node:module";
import path from "node:path";
import sharp from "sharp";
import { FaceDetectionInput } from "../../../../../schemas/cpu-models.ts";
import { decodeSized, parseParams, requireFile, type LoadedModel, type ModelFactory } from "./common.ts";
import { tfReady } from "./tf.ts";

const require = createRequire(import.meta.url);
const PKG = "@vladmandic/face-api";
/** Detection runs on at most this many pixels on the long side; boxes are scaled back to the input's pixels. */
const DETECT_SIDE = 1024;

type FaceApi = typeof import("@vladmandic/face-api");
const round = (n: number) => Math.round(n * 10) / 10;
const points = (ps: { x: number; y: number }[], k: number) => ps.map((p) => [round(p.x * k), round(p.y * k)]);

/**
 * Face detection with 68-point landmarks: SSD MobileNetV1 and the landmark net of face-api.js, as packaged (weights
 * inside, MIT) by @vladmandic/face-api, on the same TensorFlow.js backend as the other models of the thread.
 */
export const faceDetection: ModelFactory = {
  slug: "face-detection",
  async available() {
    try {
      require.resolve(PKG);
      return true;
    } catch {
      return false;
    }
  },
  async load(): Promise<LoadedModel> {
    const tf = await tfReady();
    // the node-wasm build takes TensorFlow.js from the host (the instance whose backend tfReady chose)
    const faceapi = require(path.join(path.dirname(require.resolve(PKG)), "face-api.node-wasm.js")) as FaceApi;
    const weights = path.join(path.dirname(require.resolve(PKG)), "..", "model");
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(weights);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(weights);
    const detect = async (bytes: Uint8Array, minConfidence: number, landmarks: boolean) => {
      const { img, width: W, height: H } = await decodeSized(bytes);
      const f = Math.min(1, DETECT_SIDE / Math.max(W, H));
      const small = img
        .removeAlpha()
        .resize(Math.round(W * f), Math.round(H * f), { fit: "fill" })
        .raw();
      const { data, info } = await small.toBuffer({ resolveWithObject: true });
      const tensor = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], "int32");
      try {
        const options = new faceapi.SsdMobilenetv1Options({ minConfidence });
        const found = landmarks
          ? await faceapi.detectAllFaces(tensor as never, options).withFaceLandmarks()
          : (await faceapi.detectAllFaces(tensor as never, options)).map((d) => ({ detection: d, landmarks: null }));
        const scale = W / info.width;
        return {
          width: W,
          height: H,
          faces: found.map((r) => ({
            score: Math.round(r.detection.score * 1e4) / 1e4,
            box: {
              x: round(r.detection.box.x * scale),
              y: round(r.detection.box.y * scale),
              width: round(r.detection.box.width * scale),
              height: round(r.detection.box.height * scale),
            },
            ...(r.landmarks ? { landmarks: points(r.landmarks.positions, scale) } : {}),
          })),
        };
      } finally {
        tensor.dispose();
      }
    };
    return {
      async run(params, files) {
        const p = parseParams(FaceDetectionInput, params, files);
        return { outputs: [], json: await detect(requireFile(files).bytes, p.min_confidence, p.landmarks) };
      },
      async warmup() {
        const grey = sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } });
        await detect(new Uint8Array(await grey.png().toBuffer()), 0.5, true);
      },
    };
  },
};
