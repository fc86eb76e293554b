import { runInDurableObject } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { img2imgGraph, img2imgInputs } from "../fixtures/comfy-img2img.ts";
import { brokerStub, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const workflow = img2imgGraph;
const inputs = img2imgInputs;
const body = (slug: string, over: Record<string, unknown> = {}) => ({
  slug,
  name: "My restyler",
  workflow: workflow(),
  inputs: inputs(),
  gpu_classes: ["L40S", "H100"],
  ...over,
});
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
type Fields = {
  error: { code: string; message: string; details: { fields: { path: string; message: string; code: string }[] } };
};

describe("bring your own ComfyUI workflow", () => {
  it("creates a private model: JSON Schema from the mapping, default per-second prices, what an agent needs", async () => {
    const { key } = await newAccount("pro");
    const r = await json("POST", "/v1/custom-models", body("restyle-1"), { "x-api-key": key });
    expect(r.status).toBe(201);
    const m = (await r.json()) as {
      slug: string;
      runtime: string;
      private: boolean;
      input_schema: { required: string[]; properties: Record<string, Record<string, unknown>> };
      pricing: unknown;
      requires: unknown;
    };
    expect(m).toMatchObject({ slug: "restyle-1", runtime: "comfyui", private: true });
    expect(m.input_schema.required.sort()).toEqual(["image", "prompt"]);
    expect(m.input_schema.properties.image).toMatchObject({ type: "string", format: "image" });
    expect(m.input_schema.properties.steps).toMatchObject({ type: "integer", default: 25, minimum: 1, maximum: 60 });
    expect(m.pricing).toEqual({ kind: "per_gpu_second", micro_usd_per_second: { L40S: 600, H100: 1400 } });
    expect(m.requires).toEqual({ node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] });
    const list = (await (await call("/v1/custom-models", { headers: { "x-api-key": key } })).json()) as {
      data: { slug: string }[];
    };
    expect(list.data.map((x) => x.slug)).toEqual(["restyle-1"]);

    expect((await json("POST", "/v1/custom-models", body("restyle-1"), { "x-api-key": key })).status).toBe(409);
    expect((await json("POST", "/v1/custom-models", body("sdxl1.0-txt2img"), { "x-api-key": key })).status).toBe(409);
  });

  it("an unknown node type, a missing mapping, a mapping to a missing node or input: 400 naming each at its JSON pointer; nothing is created", async () => {
    const { key } = await newAccount("pro");
    const wf = workflow();
    wf["9"] = { class_type: "MysteryUpscaler", inputs: { image: ["7", 0] } };
    const unknown = await json("POST", "/v1/custom-models", body("bad-1", { workflow: wf }), { "x-api-key": key });
    expect(unknown.status).toBe(400);
    const u = (await unknown.json()) as Fields;
    expect(u.error.code).toBe("invalid_input");
    expect(u.error.details.fields).toEqual([
      { path: "/workflow/9/class_type", message: "unknown node type 'MysteryUpscaler'", code: "invalid_graph" },
    ]);

    const { image: _i, ...noImage } = inputs();
    const missing = (await (
      await json("POST", "/v1/custom-models", body("bad-2", { inputs: noImage }), { "x-api-key": key })
    ).json()) as Fields;
    expect(missing.error.details.fields).toEqual([
      expect.objectContaining({ path: "/workflow/2/inputs/image", code: "missing_mapping" }),
    ]);

    const wrong = (await (
      await json(
        "POST",
        "/v1/custom-models",
        body("bad-3", {
          inputs: {
            ...inputs(),
            prompt: { node: "44", input: "text", type: "string" },
            steps: { node: "6", input: "stepz", type: "integer" },
            model: { node: "6", input: "model", type: "string" },
          },
        }),
        { "x-api-key": key },
      )
    ).json()) as Fields;
    expect(wrong.error.details.fields.map((f) => [f.path, f.code])).toEqual([
      ["/inputs/prompt/node", "missing_node"],
      ["/inputs/steps/input", "missing_input"],
      ["/inputs/model/input", "type_mismatch"],
    ]);
    expect(wrong.error.details.fields[0]!.message).toBe("node '44' is not in the workflow");

    const unlinked = workflow();
    delete unlinked["6"]!.inputs.model;
    const req = (await (
      await json("POST", "/v1/custom-models", body("bad-4", { workflow: unlinked }), { "x-api-key": key })
    ).json()) as Fields;
    expect(req.error.details.fields).toEqual([
      expect.objectContaining({ path: "/workflow/6/inputs/model", message: "KSampler requires input 'model'" }),
    ]);

    const list = (await (await call("/v1/custom-models", { headers: { "x-api-key": key } })).json()) as {
      data: unknown[];
    };
    expect(list.data).toEqual([]);
  });

  it("another account can neither see, call, nor delete it (404 as if it did not exist)", async () => {
    const owner = await newAccount("pro");
    const other = await newAccount("pro");
    expect((await json("POST", "/v1/custom-models", body("private-1"), { "x-api-key": owner.key })).status).toBe(201);
    const h = { "x-api-key": other.key };
    expect((await call("/v1/custom-models/private-1", { headers: h })).status).toBe(404);
    expect(((await (await call("/v1/custom-models", { headers: h })).json()) as { data: unknown[] }).data).toEqual([]);
    const run = await json("POST", "/v2/private-1", { image: PNG, prompt: "x" }, h);
    expect(run.status).toBe(404);
    expect((await json("POST", "/v1/private-1", { image: PNG, prompt: "x" }, h)).status).toBe(404);
    expect((await call("/v1/custom-models/private-1", { method: "DELETE", headers: h })).status).toBe(404);
    expect((await call("/v1/custom-models/private-1", { headers: { "x-api-key": owner.key } })).status).toBe(200);
    // the same slug is free for the other account: models are private per account
    expect((await json("POST", "/v1/custom-models", body("private-1"), h)).status).toBe(201);
  });

  it("runs only on an agent with its model file, carries its graph and mapping, and bills the measured GPU-seconds", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    expect((await json("POST", "/v1/custom-models", body("restyle-run"), h)).status).toBe(201);
    const before = (await (await call("/v1/account", { headers: h })).json()) as { available: number; spent: number };

    const bare = await newAgent([], "L40S", ["comfyui"]);
    const sub = await json("POST", "/v2/restyle-run", { image: PNG, prompt: "a watercolor castle", steps: 12 }, h);
    expect(sub.status).toBe(202);
    const { request_id } = (await sub.json()) as { request_id: string };
    expect(
      await bare.lease({ comfyui: { node_types: [], files: ["checkpoints/sd_xl_base_1.0.safetensors"] } }),
    ).toEqual([]);
    const queued = (await (await call(`/v2/requests/${request_id}/status`, { headers: h })).json()) as {
      status: string;
      capacity: string;
    };
    expect(queued).toMatchObject({ status: "QUEUED", capacity: "no_capacity" });

    const host = await newAgent([], "L40S", ["comfyui"]);
    const [job] = await host.lease({ comfyui: { node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] } });
    expect(job!.job_id).toBe(request_id);
    expect(job!.model).toBe("restyle-run");
    expect(job!.input).toMatchObject({
      prompt: "a watercolor castle",
      steps: 12,
      strength: 0.7,
      image: `/agent/v1/jobs/${request_id}/inputs/image`,
      $comfyui: {
        workflow: workflow(),
        inputs: {
          image: { node: "2", input: "image" },
          prompt: { node: "4", input: "text" },
          steps: { node: "6", input: "steps" },
          strength: { node: "6", input: "denoise" },
        },
      },
    });
    const img = await call(`/agent/v1/jobs/${request_id}/inputs/image`, {
      headers: { ...host.headers, "x-lease-id": job!.lease_id },
    });
    expect([img.status, await img.clone().text()]).toEqual([200, expect.anything()]);

    const out = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9, 9]);
    const put = await call(`/agent/v1/jobs/${request_id}/outputs/output-0.png`, {
      method: "PUT",
      headers: { ...host.headers, "x-lease-id": job!.lease_id, "content-type": "image/png" },
      body: out,
    });
    expect([put.status, await put.clone().text()]).toEqual([200, expect.anything()]);
    await new Promise((r) => setTimeout(r, 60)); // the reported run must fit the lease window the broker saw
    const done = await host.post(`/agent/v1/jobs/${request_id}/complete`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      outputs: [{ name: "output-0.png", content_type: "image/png", size: out.byteLength }],
      metrics: { gpu_ms: 50, load_ms: 0, gpu_class: "L40S" },
    });
    expect([done.status, await done.clone().text()]).toEqual([200, expect.anything()]);
    const res = (await (await call(`/v2/requests/${request_id}`, { headers: h })).json()) as {
      status: string;
      cost: number;
      metrics: { gpu_ms: number };
    };
    expect(res.status).toBe("COMPLETED");
    // 600 µUSD per L40S-second × the measured 50 ms, rounded up
    expect(res.cost).toBe(Math.ceil((600 * res.metrics.gpu_ms) / 1000));
    const after = (await (await call("/v1/account", { headers: h })).json()) as {
      available: number;
      spent: number;
      held: number;
    };
    expect(after.spent - before.spent).toBe(res.cost);
    expect(after.held).toBe(0);
  });

  it("a graph needing a custom node no connected agent declares fails at its TTL with no_capacity naming what is missing", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    const wf = workflow();
    wf["9"] = { class_type: "IPAdapterAdvanced", inputs: { model: ["1", 0] } };
    expect((await json("POST", "/v1/custom-models", body("needs-ipadapter", { workflow: wf }), h)).status).toBe(201);
    const host = await newAgent([], "L40S", ["comfyui"]);
    const caps = { comfyui: { node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] } };
    const sub = await json("POST", "/v2/needs-ipadapter", { image: PNG, prompt: "x" }, h);
    const { request_id } = (await sub.json()) as { request_id: string };
    expect(await host.lease(caps)).toEqual([]);
    // the TTL (5 s in tests) passes: the broker's alarm fails it
    await runInDurableObject(brokerStub(), (_i, s) =>
      s.storage.sql.exec("UPDATE jobs SET ttl_deadline = 0 WHERE id = ?", request_id),
    );
    await runInDurableObject(brokerStub(), async (i) => (i as unknown as { alarm(): Promise<void> }).alarm());
    const s = (await (await call(`/v2/requests/${request_id}/status`, { headers: h })).json()) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(s.status).toBe("FAILED");
    expect(s.error.code).toBe("no_capacity");
    expect(s.error.message).toBe(
      "no connected ComfyUI agent has custom nodes IPAdapterAdvanced that this workflow needs",
    );
  });

  it("delete: it is gone for its owner too", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    expect((await json("POST", "/v1/custom-models", body("short-lived"), h)).status).toBe(201);
    expect((await call("/v1/custom-models/short-lived", { method: "DELETE", headers: h })).status).toBe(200);
    expect((await json("POST", "/v2/short-lived", { image: PNG, prompt: "x" }, h)).status).toBe(404);
  });
});
