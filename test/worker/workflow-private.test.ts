import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { img2imgGraph, img2imgInputs } from "../fixtures/comfy-img2img.ts";
import { PNG_1x1, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import { ALL_MODELS, complete, ended, leaseN, publish, ref, waitRun } from "./workflow-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

/** A private ComfyUI model: an img2img graph whose checkpoint only some hosts hold. */
const graph = img2imgGraph();
const mapping = img2imgInputs();
const CAPS = { comfyui: { node_types: [], files: ["checkpoints/juggernautXL_v9.safetensors"] } };

const definition = (slug: string, steps: unknown = 12) => ({
  inputs: { image: { type: "image" }, style: { type: "string", default: "ink" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: ref("inputs.image") } },
    restyle: {
      model: slug,
      input: { image: ref("nodes.cutout.output"), prompt: { $template: "{inputs.style} castle" }, steps },
    },
  },
  outputs: { image: ref("nodes.restyle.output") },
});

type Problems = { error: { code: string; details: { errors: { pointer: string; code: string }[] } } };
const problems = async (r: Response) =>
  ((await r.json()) as Problems).error.details.errors.map((e) => `${e.code} ${e.pointer}`);

describe("an account's private models as workflow nodes", () => {
  it("are checked by their own JSON Schema; another account cannot name them", async () => {
    const owner = await newAccount("pro");
    const slug = `mine-${crypto.randomUUID().slice(0, 6)}`;
    const made = await json(
      "POST",
      "/v1/custom-models",
      { slug, name: "Mine", workflow: graph, inputs: mapping, gpu_classes: ["L40S"] },
      { "x-api-key": owner.key },
    );
    expect(made.status).toBe(201);

    const tooMany = await json(
      "POST",
      "/v1/workflows",
      { slug: "wf-steps", name: "x", definition: definition(slug, 99) },
      { "x-api-key": owner.key },
    );
    expect(tooMany.status).toBe(400);
    expect(await problems(tooMany)).toEqual(["invalid_node_input /nodes/restyle/input/steps"]);

    const other = await newAccount("pro");
    const theirs = await json(
      "POST",
      "/v1/workflows",
      { slug: "wf-theirs", name: "x", definition: definition(slug) },
      { "x-api-key": other.key },
    );
    expect(theirs.status).toBe(400);
    expect(await problems(theirs)).toEqual(["unknown_model /nodes/restyle/model"]);
  });

  it("run: the node's job carries the graph, the validated input with its defaults, and runs only where its file is", async () => {
    const owner = await newAccount("pro");
    const h = { "x-api-key": owner.key };
    const slug = `mine-${crypto.randomUUID().slice(0, 6)}`;
    expect(
      (
        await json(
          "POST",
          "/v1/custom-models",
          { slug, name: "Mine", workflow: graph, inputs: mapping, gpu_classes: ["L40S"] },
          h,
        )
      ).status,
    ).toBe(201);
    const wf = await publish(owner.key, definition(slug));
    const cpu = await newAgent(ALL_MODELS);
    const r = await json("POST", `/v2/workflows/${wf}`, { image: PNG_1x1 }, h);
    expect(r.status, await r.clone().text()).toBe(202);
    const { run_id } = (await r.json()) as { run_id: string };

    const [cut] = await leaseN(cpu, 1);
    expect(cut!.job_id).toBe(`${run_id}:cutout`);
    expect((await complete(cpu, cut!, 30)).status).toBe(200);
    await waitRun(owner.key, run_id, (v) => v.nodes.restyle!.status === "QUEUED");

    const bare = await newAgent([], "L40S", ["comfyui"]);
    expect(
      await bare.lease({ comfyui: { node_types: [], files: ["checkpoints/sd_xl_base_1.0.safetensors"] } }),
    ).toEqual([]);
    const host = await newAgent([], "L40S", ["comfyui"]);
    const [job] = await host.lease(CAPS);
    expect(job!.job_id).toBe(`${run_id}:restyle`);
    // a private model's outputs are moderated (block), in a workflow as in a request
    expect(job!.moderation).toEqual({ policy: "block", threshold: 0.5 });
    expect(job!.input).toMatchObject({
      prompt: "ink castle",
      steps: 12,
      strength: 0.7,
      image: `/agent/v1/jobs/${job!.job_id}/inputs/image`,
      $comfyui: { workflow: graph },
    });
    const img = await call(`/agent/v1/jobs/${job!.job_id}/inputs/image`, {
      headers: { ...host.headers, "x-lease-id": job!.lease_id },
    });
    expect(new TextDecoder().decode((await img.arrayBuffer()).slice(4))).toBe(cut!.job_id);
    expect((await complete(host, job!, 40, "L40S")).status).toBe(200);

    const v = await waitRun(owner.key, run_id, ended);
    expect(v.status).toBe("COMPLETED");
    // the private model's default price: 600 µUSD per L40S-second × the measured 40 ms, rounded up
    expect(v.nodes.restyle!.cost).toBe(Math.ceil((600 * 40) / 1000));
    expect(v.cost).toBe(v.nodes.cutout!.cost! + v.nodes.restyle!.cost!);
  });
});
