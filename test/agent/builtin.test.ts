import { readFileSync } from "node:fs";
import sharp from "sharp";
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
    const first = await rt.run({
      jobId: "a",
      model: "nsfw-detector",
      params: {},
      files: { image: { bytes: photo, contentType: "image/jpeg" } },
    });
    const json = first.json as { predictions: { className: string; probability: number }[]; nsfw: boolean };
    expect(json.predictions).toHaveLength(5);
    expect(json.predictions.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 2);
    expect(json.nsfw).toBe(false);
    expect(first.gpuMs).toBeGreaterThan(0);
    const second = await rt.run({
      jobId: "b",
      model: "nsfw-detector",
      params: {},
      files: { image: { bytes: photo, contentType: "image/jpeg" } },
    });
    expect(second.loadMs).toBeLessThan(first.loadMs + 1);
    expect(second.loadMs).toBeLessThan(50);
    expect(rt.loaded()).toContain("nsfw-detector");
  });

  it("fails an undecodable image as the caller's error, not retryable", async () => {
    const err = await rt
      .run({
        jobId: "c",
        model: "nsfw-detector",
        params: {},
        files: { image: { bytes: new TextEncoder().encode("not an image"), contentType: "image/png" } },
      })
      .catch((e) => e);
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
    // a job long enough to matter: a 2x ESRGAN upscale (the NSFW model runs in about 0.2 s on the wasm backend)
    const image = new Uint8Array(await sharp(photo).resize(256, 192).png().toBuffer());
    const r = await rt.run({
      jobId: "d",
      model: "esrgan-slim",
      params: { scale: 2 },
      files: { image: { bytes: image, contentType: "image/png" } },
    });
    clearInterval(timer);
    expect(r.gpuMs).toBeGreaterThan(200);
    // a heartbeat on the main thread is never held up for the length of the inference
    expect(maxGap).toBeLessThan(r.gpuMs / 2);
  });
});

describe("built-in runtime supervision", () => {
  it("a crash of the model thread mid-job fails the job as a retryable backend crash, restarts the thread and reloads its models", async () => {
    const sup = new BuiltinRuntime({ backoffMs: 10 });
    try {
      await sup.warm("nsfw-detector");
      await sup.warm("esrgan-slim");
      // a job that is still running when the thread dies: a 2x upscale of the whole photo takes seconds
      const running = sup
        .run({
          jobId: "k",
          model: "esrgan-slim",
          params: { scale: 2 },
          files: { image: { bytes: photo, contentType: "image/jpeg" } },
        })
        .catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      await sup.crashForTest();
      expect(await running).toMatchObject({ kind: "backend_crash", retryable: true });
      const after = await sup.run({
        jobId: "k2",
        model: "nsfw-detector",
        params: {},
        files: { image: { bytes: photo, contentType: "image/jpeg" } },
      });
      expect(sup.restarts).toBe(1);
      expect((after.json as { predictions: unknown[] }).predictions).toHaveLength(5);
      expect(sup.loaded()).toContain("nsfw-detector");
      expect(sup.loaded()).toContain("esrgan-slim");
    } finally {
      await sup.close();
    }
  });

  it("gives up after repeated crashes and reports it", async () => {
    const reasons: string[] = [];
    const sup = new BuiltinRuntime({ backoffMs: 1, maxCrashes: 3, onFatal: (r) => reasons.push(r) });
    try {
      for (let i = 0; i < 3; i++) {
        await sup.models();
        await sup.crashForTest();
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(reasons).toHaveLength(1);
      await expect(sup.models()).rejects.toMatchObject({ kind: "backend_crash" });
    } finally {
      await sup.close();
    }
  });
});
