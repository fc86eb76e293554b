import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/**
 * ComfyUI models end to end: the real platform (wrangler dev), a real gpu-agent with its ComfyUI runtime, and the
 * ComfyUI stand-in as the agent's supervised backend. A catalog manifest model and a private workflow created
 * through the API both run through it; the stand-in reports what it was asked to run.
 */
const dir = mkdtempSync(path.join(tmpdir(), "edge-e2e-comfy-"));
let platform: Platform;
let agent: AgentProcess;
let comfyPort = 0;
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });

beforeAll(async () => {
  platform = await startPlatform({
    port: await freePort(),
    adminToken: "e2e-admin-token-0123456789",
    persistDir: path.join(dir, "state"),
    logDir: dir,
  });
  comfyPort = await freePort();
  const standIn = path.join(ROOT, "test", "agent", "stand-ins", "comfyui-main.ts");
  const files = { checkpoints: ["sd_xl_base_1.0.safetensors", "dreamshaper_8.safetensors"] };
  agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    [
      "--name",
      "comfy-host",
      "--builtin",
      "false",
      "--gpu-class",
      "L40S",
      "--lease-wait-ms",
      "3000",
      "--comfyui-url",
      `http://127.0.0.1:${comfyPort}`,
      "--backend-cmd",
      `${process.execPath} ${standIn}`,
    ],
    path.join(dir, "agent.log"),
    { PORT: String(comfyPort), FILES: JSON.stringify(files) },
  );
  await agent.waitFor(/"msg":"registered"/, 90_000);
});

afterAll(async () => {
  if (agent?.proc.exitCode === null) {
    const exited = new Promise((r) => agent.proc.once("exit", r));
    agent.proc.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (agent.proc.exitCode === null) agent.proc.kill("SIGKILL");
  }
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": platform.demo.api_key, "content-type": "application/json", ...(init.headers ?? {}) },
  });
type Status = { status: string; cost: number | null; metrics: { gpu_ms: number; gpu_class: string }; error: unknown };
async function until(id: string): Promise<Status> {
  let s = { status: "" } as Status;
  for (let i = 0; i < 240 && s.status !== "COMPLETED" && s.status !== "FAILED"; i++) {
    await new Promise((r) => setTimeout(r, 250));
    s = (await (await api(`/v2/requests/${id}/status`)).json()) as Status;
  }
  return s;
}
const standIn = async () =>
  (await (await fetch(`http://127.0.0.1:${comfyPort}/_standin/prompts`)).json()) as {
    prompts: Record<string, { class_type: string; inputs: Record<string, unknown> }>[];
    uploads: string[];
  };

describe("ComfyUI models through the real agent", () => {
  it("the agent offers the catalog models whose checkpoints its ComfyUI has, and only those", async () => {
    const line = await agent.waitFor(/"msg":"registered"/, 1000);
    expect((JSON.parse(line) as { models: string[] }).models.sort()).toEqual([
      "sdxl-img2img",
      "sdxl-inpainting",
      "sdxl1.0-txt2img",
    ]);
  });

  it("a catalog manifest model (SDXL) runs: its fields land in the graph, a PNG comes back, billed per L40S-second", async () => {
    const sub = await api("/v2/sdxl1.0-txt2img", {
      method: "POST",
      body: JSON.stringify({ prompt: "a lighthouse at dusk", width: 768, scheduler: "Euler a", seed: 99 }),
    });
    expect(sub.status).toBe(202);
    const { request_id } = (await sub.json()) as { request_id: string };
    const s = await until(request_id);
    expect(s.status).toBe("COMPLETED");
    const g = (await standIn()).prompts.at(-1)!;
    expect(g["6"]!.inputs.text).toBe("a lighthouse at dusk");
    expect(g["5"]!.inputs).toMatchObject({ width: 768, height: 1024, batch_size: 1 });
    expect(g["3"]!.inputs).toMatchObject({ seed: 99, sampler_name: "euler_ancestral", scheduler: "normal", steps: 30 });
    expect(s.metrics.gpu_class).toBe("L40S");
    expect(s.cost).toBe(Math.ceil((600 * s.metrics.gpu_ms) / 1000));
    const out = await fetch(
      ((await (await api(`/v2/requests/${request_id}`)).json()) as { output: { url: string }[] }).output[0]!.url,
    );
    expect(new Uint8Array(await out.arrayBuffer()).subarray(0, 4)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  });

  it("a private workflow created through the API runs with the caller's inputs and uploaded image, billed per GPU-second", async () => {
    const workflow = {
      "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "dreamshaper_8.safetensors" } },
      "2": { class_type: "LoadImage", inputs: { image: "x.png" } },
      "3": { class_type: "VAEEncode", inputs: { pixels: ["2", 0], vae: ["1", 2] } },
      "4": { class_type: "CLIPTextEncode", inputs: { text: "", clip: ["1", 1] } },
      "5": {
        class_type: "KSampler",
        inputs: {
          seed: 1,
          steps: 20,
          cfg: 7,
          sampler_name: "euler",
          scheduler: "normal",
          denoise: 0.6,
          model: ["1", 0],
          positive: ["4", 0],
          negative: ["4", 0],
          latent_image: ["3", 0],
        },
      },
      "6": { class_type: "VAEDecode", inputs: { samples: ["5", 0], vae: ["1", 2] } },
      "7": { class_type: "SaveImage", inputs: { filename_prefix: "mine", images: ["6", 0] } },
    };
    const created = await api("/v1/custom-models", {
      method: "POST",
      body: JSON.stringify({
        slug: "dreamy-restyle",
        name: "Dreamy restyle",
        workflow,
        gpu_classes: ["L40S"],
        inputs: {
          photo: { node: "2", input: "image", type: "image" },
          prompt: { node: "4", input: "text", type: "string" },
          strength: { node: "5", input: "denoise", type: "number", default: 0.6 },
        },
      }),
    });
    expect(created.status).toBe(201);
    const sub = await api("/v2/dreamy-restyle", {
      method: "POST",
      body: JSON.stringify({ photo: PNG, prompt: "dreamy pastel", strength: 0.45 }),
    });
    expect(sub.status).toBe(202);
    const { request_id } = (await sub.json()) as { request_id: string };
    const s = await until(request_id);
    expect(s.status).toBe("COMPLETED");
    const seen = await standIn();
    const g = seen.prompts.at(-1)!;
    expect(g["4"]!.inputs.text).toBe("dreamy pastel");
    expect(g["5"]!.inputs.denoise).toBe(0.45);
    expect(seen.uploads).toContain(g["2"]!.inputs.image);
    expect(g["2"]!.inputs.image).toBe(`${request_id}-photo.png`);
    expect(s.cost).toBe(Math.ceil((600 * s.metrics.gpu_ms) / 1000));
  });
});
