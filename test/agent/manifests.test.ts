import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Validator } from "@cfworker/json-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComfyUIRuntime, loadComfyModels } from "../../gpu-agent/src/runtimes/comfyui.ts";
import { CORE_NODES, IMAGE_INPUT_NODES, OUTPUT_NODE_TYPES } from "../../models/comfy-nodes.ts";
import { checkGraph, graphFiles } from "../../models/comfy-graph.ts";
import {
  INDEX_FILE,
  README_FILE,
  SCHEMA_FILE,
  readCatalog,
  renderIndex,
  renderReadme,
  renderSchema,
} from "../../scripts/models-index.ts";
import { COMFY_SPEC_KEY, ModelManifest, type ComfyTarget } from "../../schemas/manifest.ts";
import { ComfyStandIn } from "./stand-ins/comfyui-server.ts";

const MODELS_DIR = fileURLToPath(new URL("../../models", import.meta.url));
const entries = readCatalog(MODELS_DIR);
const manifests = entries.map((e) => ({ m: ModelManifest.parse(e.manifest), workflow: e.workflow }));
const comfy = manifests.filter((x) => x.m.runtime === "comfyui");
const PNG = new Uint8Array(
  Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  ),
);
const targets = (t: ComfyTarget | ComfyTarget[]) => (Array.isArray(t) ? t : [t]);
const imageFieldsOf = (schema: { properties: Record<string, Record<string, unknown>> }) =>
  Object.entries(schema.properties)
    .filter(([, p]) => p.format === "image")
    .map(([k]) => k);

describe("the catalog is data", () => {
  it("models/index.ts, models/README.md and schemas/manifest.schema.json match the folders (else run npm run models:index)", () => {
    expect(readFileSync(INDEX_FILE, "utf8")).toBe(renderIndex(entries));
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(renderSchema());
    expect(readFileSync(README_FILE, "utf8")).toBe(renderReadme(entries));
  });

  it("holds at least 20 models from manifest folders, covering the families the catalog promises", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(20);
    const slugs = manifests.map((x) => x.m.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    const cats = new Set(manifests.map((x) => x.m.category));
    for (const c of [
      "text-to-image",
      "image-to-image",
      "inpainting",
      "outpainting",
      "controlnet",
      "ip-adapter",
      "upscaling",
      "face-restore",
      "background-removal",
      "relighting",
      "image-to-video",
      "moderation",
    ]) {
      expect(cats, c).toContain(c);
    }
    for (const s of [
      "sdxl1.0-txt2img",
      "sd1.5-txt2img",
      "sd3.5-large-txt2img",
      "flux-schnell",
      "flux-dev",
      "controlnet-canny-sd15",
      "controlnet-depth-sd15",
      "controlnet-openpose-sd15",
      "svd-img2vid",
      "ltx-video-img2vid",
    ]) {
      expect(slugs).toContain(s);
    }
  });

  it("refuses a manifest with a bad field, an unpriced GPU class, or a mapping to a field that does not exist", () => {
    const sdxl = entries.find((e) => e.manifest.slug === "sdxl1.0-txt2img")!.manifest;
    expect(ModelManifest.safeParse({ ...sdxl, runtime: "tensorrt" }).success).toBe(false);
    const unpriced = ModelManifest.safeParse({ ...sdxl, gpu_classes: ["A40", "other"] });
    expect(unpriced.error?.issues[0]?.message).toBe("no price for GPU class other");
    const badMap = ModelManifest.safeParse({
      ...sdxl,
      comfyui: { ...sdxl.comfyui!, inputs: { nope: { node: "3", input: "seed" } } },
    });
    expect(badMap.error?.issues.map((i) => i.path.join("."))).toContain("comfyui.inputs.nope");
    const open = ModelManifest.safeParse({
      ...sdxl,
      input_schema: { ...sdxl.input_schema, additionalProperties: true },
    });
    expect(open.success).toBe(false);
  });

  it("moderation defaults to block for text-to-image and video models", () => {
    for (const { m } of manifests) {
      if (m.category === "text-to-image" || m.output_type === "video") expect(m.moderation, m.slug).toBe("block");
    }
  });
});

describe.each(manifests.map((x) => [x.m.slug, x] as const))("manifest %s", (_slug, { m, workflow }) => {
  it("its example input and every default satisfy its input schema", () => {
    const v = new Validator(m.input_schema as never, "2020-12", false);
    const r = v.validate(m.example_input);
    expect(r.errors, JSON.stringify(r.errors)).toEqual([]);
    for (const [k, p] of Object.entries(m.input_schema.properties)) {
      if ("default" in p)
        expect(new Validator(p as never, "2020-12").validate(p.default).valid, `${k} default`).toBe(true);
    }
  });

  it.runIf(m.runtime === "comfyui")(
    "its workflow uses only core node types, wired as ComfyUI requires, and its mapping lands on real node inputs",
    () => {
      const wf = workflow!;
      expect(checkGraph(wf)).toEqual([]);
      for (const node of Object.values(wf)) expect(CORE_NODES[node.class_type], node.class_type).toBeDefined();
      for (const [field, t] of Object.entries(m.comfyui!.inputs)) {
        for (const target of targets(t)) {
          const node = wf[target.node];
          expect(node, `${field} → node ${target.node}`).toBeDefined();
          const def = CORE_NODES[node!.class_type]!;
          const type = def.required[target.input] ?? def.optional?.[target.input];
          expect(
            ["INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"],
            `${field} → ${node!.class_type}.${target.input}`,
          ).toContain(type);
        }
      }
      // every image field fills an image loader, and every image loader is filled by a field
      const images = imageFieldsOf(m.input_schema);
      for (const f of images)
        expect(
          targets(m.comfyui!.inputs[f]!).every((t) => IMAGE_INPUT_NODES[wf[t.node]!.class_type] === t.input),
          f,
        ).toBe(true);
      const loaders = Object.entries(wf)
        .filter(([, n]) => IMAGE_INPUT_NODES[n.class_type])
        .map(([id]) => id)
        .sort();
      expect(images.flatMap((f) => targets(m.comfyui!.inputs[f]!).map((t) => t.node)).sort()).toEqual(loaders);
      // the weights list names every file a loader reads, with a public source
      const declared = m.comfyui!.weights.map((w) => `${w.folder}/${w.file}`);
      for (const f of graphFiles(wf)) expect(declared, `${f.folder}/${f.file}`).toContain(`${f.folder}/${f.file}`);
      for (const id of m.comfyui!.outputs ?? []) expect(OUTPUT_NODE_TYPES.has(wf[id]!.class_type)).toBe(true);
    },
  );
});

describe("every ComfyUI manifest on the stand-in ComfyUI", () => {
  let server: ComfyStandIn;
  let rt: ComfyUIRuntime;
  beforeAll(async () => {
    server = new ComfyStandIn();
    server.stepMs = 1;
    server.steps = 2;
    await server.start();
    // the host has exactly the files the manifests list: a workflow reading any other file is refused
    const files: Record<string, string[]> = {};
    for (const { m } of comfy) for (const w of m.comfyui!.weights) (files[w.folder] ??= []).push(w.file);
    server.files = files;
    rt = new ComfyUIRuntime({ url: server.url, models: loadComfyModels(MODELS_DIR) });
    await rt.warm("any");
  });
  afterAll(async () => {
    await rt.close();
    await server.stop();
  });

  it.each(comfy.map((x) => [x.m.slug, x] as const))(
    "%s: graph accepted, inputs land in their node fields, outputs come back",
    async (slug, { m }) => {
      const imageFields = imageFieldsOf(m.input_schema);
      const params: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(m.input_schema.properties)) if ("default" in p) params[k] = p.default;
      Object.assign(params, m.example_input);
      for (const f of imageFields) delete params[f];
      const files = Object.fromEntries(imageFields.map((f) => [f, { bytes: PNG, contentType: "image/png" }]));
      const jobId = `job-${slug}`;
      const out = await rt.run({ jobId, model: slug, params, files });

      const prompt = server.prompts.at(-1)!;
      for (const [field, t] of Object.entries(m.comfyui!.inputs)) {
        for (const target of targets(t)) {
          const got = prompt[target.node]!.inputs[target.input];
          if (imageFields.includes(field)) expect(got, field).toBe(`${jobId}-${field}.png`);
          else if (field in params)
            expect(got, field).toEqual(target.map ? target.map[String(params[field])] : params[field]);
          else if (target.random_if_missing) expect(Number.isInteger(got), field).toBe(true);
        }
      }
      for (const f of imageFields) expect(server.uploads.get(`${jobId}-${f}.png`)).toEqual(Buffer.from(PNG));
      expect(out.outputs.length).toBe(m.comfyui!.outputs?.length ?? 1);
      const type = m.output_type === "video" ? "image/webp" : "image/png";
      for (const o of out.outputs) expect(o.contentType).toBe(type);
    },
  );

  it("a private graph sent with the job runs with its own mapping", async () => {
    const spec = {
      workflow: {
        "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "sd_xl_base_1.0.safetensors" } },
        "2": { class_type: "CLIPTextEncode", inputs: { text: "", clip: ["1", 1] } },
        "3": { class_type: "EmptyLatentImage", inputs: { width: 512, height: 512, batch_size: 1 } },
        "4": {
          class_type: "KSampler",
          inputs: {
            seed: 1,
            steps: 20,
            cfg: 7,
            sampler_name: "euler",
            scheduler: "normal",
            denoise: 1,
            model: ["1", 0],
            positive: ["2", 0],
            negative: ["2", 0],
            latent_image: ["3", 0],
          },
        },
        "5": { class_type: "VAEDecode", inputs: { samples: ["4", 0], vae: ["1", 2] } },
        "6": { class_type: "SaveImage", inputs: { filename_prefix: "mine", images: ["5", 0] } },
      },
      inputs: { text: { node: "2", input: "text" }, steps: { node: "4", input: "steps" } },
    };
    const out = await rt.run({
      jobId: "private-1",
      model: "my-graph",
      params: { text: "a kite", steps: 12, [COMFY_SPEC_KEY]: spec },
      files: {},
    });
    expect(out.outputs).toHaveLength(1);
    expect(server.prompts.at(-1)!["2"]!.inputs.text).toBe("a kite");
    expect(server.prompts.at(-1)!["4"]!.inputs.steps).toBe(12);
  });

  it("the stand-in refuses what ComfyUI refuses: an unknown node type, a missing required input, a file the host lacks", async () => {
    const base = loadComfyModels(MODELS_DIR)["sd1.5-txt2img"]!;
    const run = (workflow: typeof base.workflow) =>
      rt.run({ jobId: "bad", model: "x", params: { [COMFY_SPEC_KEY]: { workflow, inputs: {} } }, files: {} });
    await expect(run({ ...base.workflow, "9": { class_type: "MysteryNode", inputs: {} } })).rejects.toMatchObject({
      kind: "invalid_input",
      message: expect.stringContaining("MysteryNode does not exist"),
    });
    const { scheduler: _s, ...noScheduler } = base.workflow["5"]!.inputs;
    await expect(run({ ...base.workflow, "5": { class_type: "KSampler", inputs: noScheduler } })).rejects.toMatchObject(
      { kind: "invalid_input", message: expect.stringContaining("required_input_missing") },
    );
    await expect(
      run({
        ...base.workflow,
        "1": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "other.safetensors" } },
      }),
    ).rejects.toMatchObject({ kind: "invalid_input", message: expect.stringContaining("value_not_in_list") });
  });
});
