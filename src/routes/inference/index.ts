import type { Api } from "../../app.ts";
import { registerSyncInference } from "./sync.ts";
import { registerAsyncInference } from "./async.ts";

/** Inference by model slug, sync (`/v1/{model}`) and async (`/v2/{model}`): the catch-all paths, mounted last. One file per operation. */
export function registerInferenceRoutes(api: Api) {
  registerSyncInference(api);
  registerAsyncInference(api);
}
