import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../gpu-agent/src/agent.ts";
import { parseConfig } from "../../gpu-agent/src/config.ts";
import { ComfyUIRuntime, loadComfyModels } from "../../gpu-agent/src/runtimes/comfyui.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "../../gpu-agent/src/runtimes/types.ts";
import { FakePlatform, job } from "./fake-platform.ts";
import { ComfyStandIn } from "./stand-ins/comfyui-server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe("progress reporting", () => {
  it("the ComfyUI runtime forwards ComfyUI's progress messages (value of max) to onProgress", async () => {
    const comfy = new ComfyStandIn();
    await comfy.start();
    const sdxl = loadComfyModels(fileURLToPath(new URL("../../models", import.meta.url)))["sdxl1.0-txt2img"]!;
    const rt = new ComfyUIRuntime({ url: comfy.url, models: { "sdxl1.0-txt2img": sdxl } });
    cleanup.push(
      () => comfy.stop(),
      () => rt.close(),
    );
    const seen: { step: number; total: number }[] = [];
    const params = {
      prompt: "a lighthouse",
      negative_prompt: "",
      width: 1024,
      height: 1024,
      samples: 1,
      num_inference_steps: 30,
      guidance_scale: 7.5,
      seed: 7,
    };
    await rt.run({ jobId: "j1", model: "sdxl1.0-txt2img", params, files: {}, onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([1, 2, 3, 4].map((step) => ({ step, total: 4 })));
    // a job run without a callback is unaffected
    expect((await rt.run({ jobId: "j2", model: "sdxl1.0-txt2img", params, files: {} })).outputs).toHaveLength(1);
  });

  it("the agent sends a running job's latest progress on its heartbeats", async () => {
    const platform = new FakePlatform();
    await platform.start();
    let release!: () => void;
    const runtime: RuntimeAdapter = {
      name: "fake",
      models: async () => ["fake-model"],
      warm: async () => undefined,
      loaded: () => ["fake-model"],
      close: async () => undefined,
      async run(req: RunRequest): Promise<RunOutput> {
        req.onProgress?.({ step: 3, total: 10 });
        req.onProgress?.({ step: 7, total: 10 });
        await new Promise<void>((r) => (release = r));
        return { outputs: [], json: { ok: true }, gpuMs: 5, loadMs: 0 };
      },
    };
    const cfg = parseConfig(
      [
        "--platform-url",
        platform.url,
        "--token",
        "agt_testtoken",
        "--lease-wait-ms",
        "200",
        "--drain-grace-ms",
        "1000",
      ],
      {},
    );
    const agent = new Agent(cfg, [runtime], pino({ level: "silent" }), {});
    const running = agent.start();
    cleanup.push(
      () => platform.stop(),
      () => running.catch(() => undefined),
      () => agent.drain(),
    );
    platform.queue.push(job("j1"));

    const beats = () =>
      platform.of("heartbeat").flatMap((c) => (c.body as { leases: { job_id: string; progress?: unknown }[] }).leases);
    for (let i = 0; i < 100 && !beats().some((l) => l.progress); i++) await sleep(20);
    expect(beats().find((l) => l.progress)).toEqual({
      job_id: "j1",
      lease_id: "lease-j1",
      progress: { step: 7, total: 10 },
    });
    release();
    for (let i = 0; i < 100 && platform.of("complete").length === 0; i++) await sleep(20);
    expect(platform.of("complete")).toHaveLength(1);
  });
});
