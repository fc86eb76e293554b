import { statfs } from "node:fs/promises";
import sharp from "sharp";
import type { AgentConfig } from "./config.ts";
import { detect } from "./gpu/inventory.ts";
import type { RuntimeAdapter } from "./runtimes/types.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * `gpu-agent doctor`: the checks a provider runs before putting a host into service: GPU driver and inventory, free
 * disk, platform reachability, each backend's health, and one real test inference per runtime.
 */
export async function doctor(cfg: AgentConfig, runtimes: RuntimeAdapter[], minFreeGiB = 5): Promise<Check[]> {
  const checks: Check[] = [];
  const inv = await detect();
  checks.push({
    name: "gpu",
    ok: cfg.gpuClass === "cpu" || inv.gpus.length > 0 || cfg.gpuClass === "auto",
    detail: inv.gpus.length
      ? `${inv.gpus.length}× ${inv.gpus[0]!.name}, driver ${inv.driver}, CUDA ${inv.cuda ?? "?"} → class ${inv.gpu_class}`
      : "no NVIDIA GPU (nvidia-smi not found or no driver): CPU host",
  });
  const fs = await statfs(process.cwd());
  const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
  checks.push({
    name: "disk",
    ok: freeGiB >= minFreeGiB,
    detail: `${freeGiB.toFixed(1)} GiB free (need ${minFreeGiB})`,
  });
  try {
    const r = await fetch(`${cfg.platformUrl.replace(/\/$/, "")}/health`, { signal: AbortSignal.timeout(5000) });
    checks.push({ name: "platform", ok: r.ok, detail: `${cfg.platformUrl} answered ${r.status}` });
  } catch (e) {
    checks.push({ name: "platform", ok: false, detail: `${cfg.platformUrl} unreachable: ${(e as Error).message}` });
  }
  const image = new Uint8Array(
    await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 90, g: 140, b: 200 } } })
      .png()
      .toBuffer(),
  );
  for (const rt of runtimes) {
    const models = (await rt.models()).filter((m) => !cfg.models || cfg.models.includes(m));
    const model = models.includes("nsfw-detector") ? "nsfw-detector" : models[0];
    if (!model) {
      checks.push({ name: `runtime ${rt.name}`, ok: false, detail: "offers no configured model" });
      continue;
    }
    try {
      await rt.warm(model);
      const t = performance.now();
      const params: Record<string, unknown> =
        rt.name === "builtin"
          ? {}
          : {
              prompt: "a test pattern",
              num_inference_steps: 1,
              width: 512,
              height: 512,
              samples: 1,
              guidance_scale: 1,
              negative_prompt: "",
            };
      const out = await rt.run({
        jobId: `doctor-${Date.now()}`,
        model,
        params,
        files: rt.name === "builtin" ? { image: { bytes: image, contentType: "image/png" } } : {},
      });
      checks.push({
        name: `runtime ${rt.name}`,
        ok: true,
        detail: `${model}: test inference in ${Math.round(performance.now() - t)} ms (${out.outputs.length} file(s)${out.json ? ", JSON" : ""})`,
      });
    } catch (e) {
      checks.push({ name: `runtime ${rt.name}`, ok: false, detail: `${model}: ${(e as Error).message}` });
    }
  }
  return checks;
}
