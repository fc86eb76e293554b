import type { ModelDefinition, Pricing } from "../../schemas/index.ts";

/** What a hold remembers so the ledger can compute the charge at settlement without the catalog. */
export type HoldPricing = { kind: "per_gpu_second"; rates: Record<string, number> } | { kind: "fixed"; amount: number };

/** Units billed for a per-generation model, from the validated input. */
export function generationUnits(
  p: Extract<Pricing, { kind: "per_generation" }>,
  input: Record<string, unknown>,
): number {
  const samples = typeof input.samples === "number" ? input.samples : 1;
  switch (p.unit) {
    case "image":
      return samples;
    case "megapixel": {
      const w = typeof input.width === "number" ? input.width : 1024;
      const h = typeof input.height === "number" ? input.height : 1024;
      return Math.ceil(((w * h) / 1_000_000) * samples);
    }
    case "video_second": {
      const frames = input.video_length === "14_frames_with_svd" ? 14 : 25;
      const fps = typeof input.fps === "number" && input.fps > 0 ? input.fps : 6;
      return Math.ceil(frames / fps);
    }
    case "request":
      return 1;
  }
}

/**
 * The hold is the most a job can cost: per GPU-second, the dearest allowed GPU class for the whole execution timeout
 * (so a job can never cost more than its hold); per generation, the exact price of the parameters.
 */
export function quote(model: ModelDefinition, input: Record<string, unknown>): { hold: number; pricing: HoldPricing } {
  const p = model.pricing;
  if (p.kind === "per_generation") {
    const amount = p.micro_usd_per_unit * generationUnits(p, input);
    return { hold: amount, pricing: { kind: "fixed", amount } };
  }
  const rates: Record<string, number> = {};
  for (const cls of model.gpu_classes) {
    const r = p.micro_usd_per_second[cls];
    if (r !== undefined) rates[cls] = r;
  }
  const max = Math.max(0, ...Object.values(rates));
  return { hold: max * model.max_execution_s, pricing: { kind: "per_gpu_second", rates } };
}

/**
 * The charge for measured compute: the class's rate for the GPU time, rounded up to the micro-USD, never above the
 * hold. Model load time is not passed in, so it is never billed. An unknown class is billed at the dearest rate.
 */
export function charge(pricing: HoldPricing, hold: number, gpuMs: number, gpuClass: string | null): number {
  if (pricing.kind === "fixed") return Math.min(hold, pricing.amount);
  const rate =
    (gpuClass !== null ? pricing.rates[gpuClass] : undefined) ?? Math.max(0, ...Object.values(pricing.rates));
  return Math.min(hold, Math.ceil((rate * gpuMs) / 1000));
}
