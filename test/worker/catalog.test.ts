import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MODEL_MANIFESTS } from "../../schemas/index.ts";
import { call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import { clearEdgeCache } from "../../src/services/edge-cache.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

type Page = {
  slug: string;
  input_schema: { properties: Record<string, unknown> };
  pricing: unknown;
  gpu_classes: string[];
  moderation: string;
  prices: { gpu_class: string | null; micro_usd: number; per: string; usd_per_hour: number | null }[];
  speed: { note: string; by_gpu_class: { gpu_class: string; p50_ms: number; completed: number }[] };
  example: { input: Record<string, unknown>; output: unknown };
  snippets: { curl: string; javascript: string; python: string };
  comfyui: { node_types: string[]; weights: { file: string; source: string }[] } | null;
};

describe("catalog from manifests", () => {
  it("lists every manifest folder, with its JSON Schema", async () => {
    const r = await call("/v1/models");
    const { data } = (await r.json()) as { data: { slug: string; input_schema: { type: string } }[] };
    expect(data.map((m) => m.slug).sort()).toEqual(MODEL_MANIFESTS.map((m) => m.slug).sort());
    expect(data.length).toBeGreaterThanOrEqual(25);
    expect(data.every((m) => m.input_schema.type === "object")).toBe(true);
  });

  it("a model page shows prices per GPU class, the example, snippets and what a ComfyUI host needs; speed says no data yet", async () => {
    const r = await call("/v1/models/sdxl1.0-txt2img");
    expect(r.status).toBe(200);
    const p = (await r.json()) as Page;
    expect(p.prices).toContainEqual({ gpu_class: "H100", micro_usd: 1400, per: "gpu_second", usd_per_hour: 5.04 });
    expect(p.prices.map((x) => x.gpu_class)).toEqual(p.gpu_classes);
    expect(p.speed).toEqual({ note: "no data yet", by_gpu_class: [] });
    expect(p.moderation).toBe("block");
    expect(p.example.input).toMatchObject({ prompt: expect.any(String) });
    expect(p.snippets.curl).toContain("http://platform.test/v1/sdxl1.0-txt2img");
    expect(p.snippets.curl).toContain('"prompt":"a lighthouse on a cliff at sunset, oil painting"');
    expect(p.snippets.javascript).toContain('fetch("http://platform.test/v1/sdxl1.0-txt2img"');
    expect(p.snippets.python).toContain("requests.post(");
    expect(p.comfyui!.node_types).toEqual(expect.arrayContaining(["CheckpointLoaderSimple", "KSampler", "SaveImage"]));
    expect(p.comfyui!.weights[0]).toMatchObject({
      file: "sd_xl_base_1.0.safetensors",
      source: expect.stringMatching(/^https:\/\/huggingface\.co\//),
    });

    const flux = (await (await call("/v1/models/flux-schnell")).json()) as Page;
    expect(flux.prices).toEqual([{ gpu_class: null, micro_usd: 3000, per: "image", usd_per_hour: null }]);
    expect((await call("/v1/models/nope")).status).toBe(404);
  });

  it("the manifest's moderation policy holds until an operator overrides it in D1, and a re-sync keeps the override", async () => {
    const page = async () => ((await (await call("/v1/models/sd3.5-medium-txt2img")).json()) as Page).moderation;
    expect(await page()).toBe("block");
    await env.DB.prepare("UPDATE models SET moderation = 'flag' WHERE slug = 'sd3.5-medium-txt2img'").run();
    await syncCatalog();
    expect(await page()).toBe("flag");
    await env.DB.prepare("UPDATE models SET moderation = NULL WHERE slug = 'sd3.5-medium-txt2img'").run();
    // A direct D1 edit is seen within the catalog snapshot's 30 s bound; the test drops the snapshot, not waits.
    await clearEdgeCache();
    expect(await page()).toBe("block");
  });

  it("speed is the p50 of measured run time per GPU class over completed requests only", async () => {
    const { id } = await newAccount();
    const rows: [string, string, number][] = [
      ["COMPLETED", "L40S", 1000],
      ["COMPLETED", "L40S", 3000],
      ["COMPLETED", "L40S", 2000],
      ["COMPLETED", "H100", 900],
      ["COMPLETED", "H100", 1100],
      ["FAILED", "L40S", 1],
      ["FAILED", "H100", 99999],
    ];
    for (const [i, [status, cls, ms]] of rows.entries()) {
      await env.DB.prepare(
        "INSERT INTO requests (id, account_id, model, pool, mode, status, base_url, created_at, completed_at, gpu_ms, gpu_class) VALUES (?, ?, 'sd1.5-txt2img', 'public', 'async', ?, 'x', ?, ?, ?, ?)",
      )
        .bind(`req_speed_${i}`, id, status, i, i + 1, ms, cls)
        .run();
    }
    const p = (await (await call("/v1/models/sd1.5-txt2img")).json()) as Page;
    expect(p.speed.by_gpu_class).toEqual([
      { gpu_class: "H100", p50_ms: 1000, completed: 2 },
      { gpu_class: "L40S", p50_ms: 2000, completed: 3 },
    ]);
    expect(p.speed.note).toBe("p50 of the last 5 completed requests");
  });
});

describe("request validation from JSON Schema", () => {
  it("names every failing field; a key the schema does not name (the platform's $comfyui included) is refused", async () => {
    const { key } = await newAccount("pro");
    const r = await json(
      "POST",
      "/v2/sdxl1.0-txt2img",
      { width: 1001, samples: 9, scheduler: "Heun", $comfyui: { workflow: {} } },
      { "x-api-key": key },
    );
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as {
      error: { code: string; details: { fields: { path: string; code: string }[] } };
    };
    expect(error.code).toBe("invalid_input");
    expect(error.details.fields.map((f) => f.path).sort()).toEqual([
      "$comfyui",
      "prompt",
      "samples",
      "scheduler",
      "width",
    ]);
    expect(error.details.fields.find((f) => f.path === "prompt")!.code).toBe("required");
    expect(error.details.fields.find((f) => f.path === "$comfyui")!.code).toBe("unrecognized_keys");
  });

  it("fills the schema's defaults into the job an agent leases", async () => {
    const { key } = await newAccount("pro");
    const agent = await newAgent(["sdxl1.0-txt2img"], "L40S", ["comfyui"]);
    const r = await json("POST", "/v2/sdxl1.0-txt2img", { prompt: "a fox", width: 768 }, { "x-api-key": key });
    expect(r.status).toBe(202);
    const [job] = await agent.lease();
    expect(job!.input).toEqual({
      prompt: "a fox",
      width: 768,
      height: 1024,
      negative_prompt: "",
      samples: 1,
      num_inference_steps: 30,
      guidance_scale: 7.5,
      scheduler: "DPM++ 2M Karras",
    });
  });
});
