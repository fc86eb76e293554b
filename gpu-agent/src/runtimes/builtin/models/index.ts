import type { ModelFactory } from "./common.ts";
import { imageComposite } from "./composite.ts";
import { faceDetection } from "./face.ts";
import { esrganMedium, esrganSlim } from "./esrgan.ts";
import { backgroundRemoval } from "./imgly.ts";
import { nsfwDetector } from "./nsfw.ts";
import { textOverlay } from "./text.ts";
import { imageConvert, imageCrop, imageResize } from "./tools.ts";

export type { LoadedModel, ModelFactory } from "./common.ts";
export { decode } from "./common.ts";

/** Every model the built-in runtime can run; a factory whose package is missing reports itself unavailable. */
export const FACTORIES: ModelFactory[] = [
  backgroundRemoval,
  nsfwDetector,
  imageResize,
  imageCrop,
  imageComposite,
  imageConvert,
  textOverlay,
  esrganSlim,
  esrganMedium,
  faceDetection,
];
