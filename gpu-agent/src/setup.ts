import { readFileSync } from "node:fs";
import type { ComfyRequirements } from "../../schemas/manifest.ts";
import { type ModelCache, type ModelSource, progressPrinter } from "./cache.ts";
import type { Log } from "./log.ts";
import type { RuntimeAdapter } from "./runtimes/types.ts";

/** The agent's start-up steps before it registers: what each runtime serves, the weights on disk, the warm-up. */

/**
 * Which runtime serves each model (restricted to `only` when the operator listed models), and the custom node types
 * and model files of the ComfyUI backend, declared on every lease for private graphs.
 */
export async function mapModels(
  runtimes: RuntimeAdapter[],
  only: string[] | undefined,
): Promise<{ modelRuntime: Map<string, RuntimeAdapter>; comfyCaps: ComfyRequirements | undefined }> {
  const modelRuntime = new Map<string, RuntimeAdapter>();
  for (const rt of runtimes) {
    for (const m of await rt.models()) {
      if (!only || only.includes(m)) modelRuntime.set(m, rt);
    }
  }
  if (modelRuntime.size === 0) throw new Error("no runtime offers any of the configured models");
  const graphs = runtimes.find((rt) => rt.capabilities);
  const comfyCaps = graphs ? await graphs.capabilities!().catch(() => undefined) : undefined;
  return { modelRuntime, comfyCaps };
}

/**
 * Weights this host keeps on disk are fetched (with progress) before the agent reports them cached; returns the
 * cached models the agent serves.
 */
export async function fillCache(
  cache: ModelCache,
  sourcesFile: string | undefined,
  serves: (model: string) => boolean,
  log: Log,
): Promise<string[]> {
  if (sourcesFile) {
    const sources = JSON.parse(readFileSync(sourcesFile, "utf8")) as Record<string, ModelSource>;
    for (const [model, src] of Object.entries(sources)) {
      await cache.ensure(
        model,
        src,
        progressPrinter((m) => log.info(m)),
      );
    }
  }
  return (await cache.models().catch(() => [])).filter(serves);
}

/** Loads every served model and runs its warm-up inference, so the first job pays no load time. */
export async function preload(modelRuntime: Map<string, RuntimeAdapter>, log: Log): Promise<void> {
  for (const [m, rt] of modelRuntime) {
    const t = performance.now();
    log.info({ model: m }, "loading model and running warm-up inference");
    await rt.warm(m);
    log.info({ model: m, load_ms: Math.round(performance.now() - t) }, "model ready");
  }
}
