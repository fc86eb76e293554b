import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobAborted } from "../../gpu-agent/src/errors.ts";
import { ComfyUIRuntime, fillGraph, loadComfyModels } from "../../gpu-agent/src/runtimes/comfyui.ts";
import { ComfyStandIn } from "./stand-ins/comfyui-server.ts";

const catalog = loadComfyModels(fileURLToPath(new URL("../../models", import.meta.url)));
const sdxl = catalog["sdxl1.0-txt2img"]!;
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
let comfy: ComfyStandIn;
let rt: ComfyUIRuntime;

beforeEach(async () => {
  comfy = new ComfyStandIn();
  await comfy.start();
  rt = new ComfyUIRuntime({ url: comfy.url, models: { "sdxl1.0-txt2img": sdxl } });
});
afterEach(async () => {
  await rt.close();
  await comfy.stop();
});

const job = (id: string, p: Record<string, unknown> = params) => ({
  jobId: id,
  model: "sdxl1.0-txt2img",
  params: p,
  files: {},
});

describe("ComfyUI adapter against a protocol stand-in", () => {
  it("fills the manifest's node inputs with typed parameters, mapping labels to node values", () => {
    const w = fillGraph(sdxl, { ...params, scheduler: "Euler a" });
    expect(w["3"]!.inputs).toMatchObject({
      seed: 7,
      steps: 30,
      cfg: 7.5,
      sampler_name: "euler_ancestral",
      scheduler: "normal",
    });
    expect(w["5"]!.inputs).toMatchObject({ width: 1024, height: 1024, batch_size: 1 });
    expect(w["6"]!.inputs.text).toBe("a lighthouse");
    expect(sdxl.workflow["6"]!.inputs.text).toBe(""); // the manifest's graph is copied, never changed
  });

  it("offers only the catalog models whose weight files the host's ComfyUI has, and reports its custom nodes", async () => {
    comfy.files = { checkpoints: ["sd_xl_base_1.0.safetensors"], upscale_models: ["RealESRGAN_x4plus.pth"] };
    comfy.customNodes = ["IPAdapterAdvanced"];
    const full = new ComfyUIRuntime({ url: comfy.url, models: catalog });
    expect((await full.models()).sort()).toEqual([
      "real-esrgan-4x-gpu",
      "sdxl-img2img",
      "sdxl-inpainting",
      "sdxl1.0-txt2img",
    ]);
    expect(await full.capabilities()).toEqual({
      node_types: ["IPAdapterAdvanced"],
      files: ["checkpoints/sd_xl_base_1.0.safetensors", "upscale_models/RealESRGAN_x4plus.pth"],
    });
    await full.close();
  });

  it("a seed left out is drawn at random; a label outside the map is the caller's invalid input", () => {
    const { seed: _s, ...noSeed } = params;
    const a = fillGraph(sdxl, noSeed)["3"]!.inputs.seed as number;
    const b = fillGraph(sdxl, noSeed)["3"]!.inputs.seed as number;
    expect(Number.isInteger(a) && a >= 0 && a < 2 ** 32).toBe(true);
    expect(a).not.toBe(b);
    expect(() => fillGraph(sdxl, { ...params, scheduler: "Heun" })).toThrow(
      expect.objectContaining({ kind: "invalid_input" }),
    );
  });

  it("queues the prompt, follows the WebSocket to completion, and fetches the image via /history and /view", async () => {
    await rt.warm("sdxl1.0-txt2img");
    expect(rt.loaded()).toEqual(["sdxl1.0-txt2img"]);
    const out = await rt.run(job("j1"));
    expect(out.outputs).toHaveLength(1);
    expect(out.outputs[0]).toMatchObject({ contentType: "image/png", name: "output-0.png" });
    expect(out.outputs[0]!.bytes.subarray(0, 4)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    expect(rt.progress.map((p) => p.value)).toEqual([1, 2, 3, 4]);
    const paths = comfy.received.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(["POST /prompt", expect.stringMatching(/^GET \/history\//), "GET /view"]),
    );
  });

  it("a workflow ComfyUI rejects (400 with node_errors) is the caller's invalid input", async () => {
    await expect(rt.run(job("j2", { ...params, num_inference_steps: 0 }))).rejects.toMatchObject({
      kind: "invalid_input",
      retryable: false,
    });
  });

  it("maps torch's OutOfMemoryError to oom", async () => {
    await expect(rt.run(job("j3", { ...params, prompt: "oom please" }))).rejects.toMatchObject({ kind: "oom" });
  });

  it("cancel interrupts the running prompt, and deletes a queued one from the queue", async () => {
    comfy.stepMs = 200;
    const running = rt.run(job("a")).catch((e: unknown) => e);
    const queued = rt.run(job("b")).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    await rt.cancel("b");
    await rt.cancel("a");
    expect(await running).toBeInstanceOf(JobAborted);
    expect(await queued).toBeInstanceOf(JobAborted);
    const calls = comfy.received.map((r) => `${r.method} ${r.path}`);
    expect(calls).toContain("POST /interrupt");
    expect(comfy.received.find((r) => r.path === "/queue")!.body).toMatchObject({ delete: [expect.any(String)] });
  });

  it("an unreachable server is a retryable backend crash", async () => {
    await comfy.stop();
    await expect(rt.run(job("x"))).rejects.toMatchObject({ kind: "backend_crash", retryable: true });
  });
});
