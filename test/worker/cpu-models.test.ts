import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

async function account(key: string) {
  return (await (await call("/v1/account", { headers: { "x-api-key": key } })).json()) as {
    held: number;
    available: number;
    spent: number;
  };
}

describe("built-in CPU utility models in the catalog", () => {
  it("are listed with per-request pricing and image inputs", async () => {
    const { data } = (await (await call("/v1/models")).json()) as {
      data: {
        slug: string;
        pricing: { kind: string; micro_usd_per_unit?: number; unit?: string };
        input_schema: { properties: Record<string, { format?: string }> };
      }[];
    };
    for (const slug of ["image-resize", "image-crop", "image-composite", "image-convert", "text-overlay"]) {
      const m = data.find((x) => x.slug === slug);
      expect(m, slug).toBeDefined();
      expect(m!.pricing).toMatchObject({ kind: "per_generation", unit: "request" });
      expect(m!.input_schema.properties.image!.format).toBe("image");
    }
    expect(data.find((x) => x.slug === "image-composite")!.input_schema.properties.background_image!.format).toBe(
      "image",
    );
    expect(data.map((x) => x.slug)).toEqual(expect.arrayContaining(["esrgan-slim", "esrgan-medium", "face-detection"]));
  });

  it("hold and charge exactly the per-request price; bad parameters are 400 with nothing held", async () => {
    const a = await newAccount("pro");
    const before = await account(a.key);
    const bad = await json("POST", "/v2/image-resize", { image: PNG_1x1, mode: "fit" }, { "x-api-key": a.key });
    expect(bad.status).toBe(400);
    const badColour = await json(
      "POST",
      "/v2/image-composite",
      { image: PNG_1x1, background: "red" },
      { "x-api-key": a.key },
    );
    expect(badColour.status).toBe(400);
    expect(await account(a.key)).toMatchObject({ held: 0, spent: before.spent });
    const agent = await newAgent(["image-resize"]);
    const sub = (await (
      await json("POST", "/v2/image-resize", { image: PNG_1x1, width: 64 }, { "x-api-key": a.key })
    ).json()) as { request_id: string };
    expect((await account(a.key)).held).toBe(100);
    const [job] = await agent.lease({ wait_ms: 3000 });
    expect(job).toMatchObject({
      job_id: sub.request_id,
      model: "image-resize",
      input: { width: 64, mode: "fit", format: "png" },
    });
    const done = await agent.post(`/agent/v1/jobs/${job!.job_id}/complete`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      outputs: [],
      metrics: { gpu_ms: 7, load_ms: 0, gpu_class: "cpu" },
    });
    expect(done.status).toBe(200);
    expect(await account(a.key)).toMatchObject({
      held: 0,
      spent: before.spent + 100,
      available: before.available - 100,
    });
  });
});
