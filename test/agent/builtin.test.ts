import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { JobError } from "../../gpu-agent/src/errors.ts";
import { BuiltinRuntime } from "../../gpu-agent/src/runtimes/builtin/index.ts";

const photo = new Uint8Array(readFileSync(new URL("../../examples/photo.jpg", import.meta.url)));
const rt = new BuiltinRuntime();
afterAll(() => rt.close());

describe("built-in runtime (real models on the CPU)", () => {
  it("offers the MIT NSFW model always, and ISNet when its optional package is installed", async () => {
    const models = await rt.models();
    expect(models).toContain("nsfw-detector");
  });

  it("classifies a real image, and keeps the model loaded for the next job", async () => {
    const first = await rt.run({ jobId: "a", model: "nsfw-detector", params: {}, files: { image: { bytes: photo, contentType: "image/jpeg" } } });
    const json = first.json as { predictions: { className: string; probability: number }[]; nsfw: boolean };
    expect(json.predictions).toHaveLength(5);
    expect(json.predictions.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 2);
    expect(json.nsfw).toBe(false);
    expect(first.gpuMs).toBeGreaterThan(0);
    const second = await rt.run({ jobId: "b", model: "nsfw-detector", params: {}, files: { image: { bytes: photo, contentType: "image/jpeg" } } });
    expect(second.loadMs).toBeLessThan(first.loadMs + 1);
    expect(second.loadMs).toBeLessThan(50);
    expect(rt.loaded()).toContain("nsfw-detector");
  });

  it("fails an undecodable image as the caller's error, not retryable", async () => {
    const err = await rt.run({ jobId: "c", model: "nsfw-detector", params: {}, files: { image: { bytes: new TextEncoder().encode("not an image"), contentType: "image/png" } } }).catch((e) => e);
    expect(err).toBeInstanceOf(JobError);
    expect(err).toMatchObject({ kind: "invalid_input", retryable: false });
  });

  it("runs inference off the main thread: timers keep firing during a job", async () => {
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 20);
    const r = await rt.run({ jobId: "d", model: "nsfw-detector", params: {}, files: { image: { bytes: photo, contentType: "image/jpeg" } } });
    clearInterval(timer);
    expect(r.gpuMs).toBeGreaterThan(200);
    // a heartbeat on the main thread is never held up for the length of the inference
    expect(maxGap).toBeLessThan(r.gpuMs / 2);
  });
});
