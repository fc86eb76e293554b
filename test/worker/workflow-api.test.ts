import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, call, json, newAccount, resetBroker, syncCatalog } from "./helpers.ts";
import { CHAIN, MAX, publish, ref } from "./workflow-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

type Err = { error: { code: string; details?: { errors?: { pointer: string; code: string }[] } } };

describe("workflow lifecycle", () => {
  it("create → 201 with ETag; stale If-Match → 412, none → 428, current → 200 and a new ETag", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    const c = await json("POST", "/v1/workflows", { slug: "packshot", name: "Packshot", definition: CHAIN }, h);
    expect(c.status).toBe(201);
    const e1 = c.headers.get("etag")!;
    expect(e1).toMatch(/^"rev-1"$/);
    expect(((await c.json()) as { draft: { definition: unknown } }).draft.definition).toEqual(CHAIN);

    const edited = structuredClone(CHAIN);
    edited.inputs.background.default = "#eeeeee";
    const none = await json("PUT", "/v1/workflows/packshot/draft", { definition: edited }, h);
    expect(none.status).toBe(428);
    const ok = await json("PUT", "/v1/workflows/packshot/draft", { definition: edited }, { ...h, "if-match": e1 });
    expect(ok.status).toBe(200);
    const e2 = ok.headers.get("etag")!;
    expect(e2).not.toBe(e1);
    // a second editor still holding the first ETag loses, and the draft keeps the first editor's change
    const stale = await json("PUT", "/v1/workflows/packshot/draft", { definition: CHAIN }, { ...h, "if-match": e1 });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as Err).error.code).toBe("precondition_failed");
    const got = await call("/v1/workflows/packshot", { headers: h });
    expect(got.headers.get("etag")).toBe(e2);
    expect(
      ((await got.json()) as { draft: { definition: typeof CHAIN } }).draft.definition.inputs.background.default,
    ).toBe("#eeeeee");

    expect(
      (await json("POST", "/v1/workflows", { slug: "packshot", name: "again", definition: CHAIN }, h)).status,
    ).toBe(409);
    const list = (await (await call("/v1/workflows", { headers: h })).json()) as { data: { slug: string }[] };
    expect(list.data.map((w) => w.slug)).toEqual(["packshot"]);
  });

  it("an invalid definition is refused with every problem and its pointer; nothing is stored", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    const bad = structuredClone(CHAIN) as unknown as {
      nodes: Record<string, { model: string; input: Record<string, unknown> }>;
    };
    bad.nodes.flat!.input.image = ref("nodes.nope.output");
    bad.nodes.check!.model = "no-such-model";
    const r = await json("POST", "/v1/workflows", { slug: "bad", name: "bad", definition: bad }, h);
    expect(r.status).toBe(400);
    const body = (await r.json()) as Err;
    expect(body.error.details!.errors!.map((e) => `${e.code} ${e.pointer}`)).toEqual([
      "unresolved_ref /nodes/flat/input/image",
      "unknown_model /nodes/check/model",
    ]);
    expect((await call("/v1/workflows/bad", { headers: h })).status).toBe(404);
  });

  it("validate returns the estimate: Σ node maxima, per node; a free account sees a zero hold", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    await json("POST", "/v1/workflows", { slug: "est", name: "est", definition: CHAIN }, h);
    const v = (await (await json("POST", "/v1/workflows/est/validate", undefined, h)).json()) as {
      valid: boolean;
      errors: unknown[];
      estimate: { max_cost: number; per_node: Record<string, number> };
    };
    expect(v.valid).toBe(true);
    expect(v.estimate.per_node).toEqual({
      cutout: MAX["background-removal"],
      flat: MAX["image-composite"],
      check: MAX["nsfw-detector"],
    });
    expect(v.estimate.max_cost).toBe(MAX["background-removal"] + MAX["image-composite"] + MAX["nsfw-detector"]);

    const free = await newAccount("free");
    await json("POST", "/v1/workflows", { slug: "est", name: "est", definition: CHAIN }, { "x-api-key": free.key });
    const fv = (await (
      await json("POST", "/v1/workflows/est/validate", undefined, { "x-api-key": free.key })
    ).json()) as { estimate: { max_cost: number } };
    expect(fv.estimate.max_cost).toBe(0);
  });

  it("a free account may not use a paid model: model_not_allowed at save", async () => {
    const { key } = await newAccount("free");
    const def = {
      inputs: { prompt: { type: "string" } },
      nodes: { gen: { model: "sdxl1.0-txt2img", input: { prompt: ref("inputs.prompt") } } },
      outputs: { image: ref("nodes.gen.output") },
    };
    const r = await json("POST", "/v1/workflows", { slug: "gen", name: "gen", definition: def }, { "x-api-key": key });
    expect(r.status).toBe(400);
    expect(((await r.json()) as Err).error.details!.errors!.map((e) => e.code)).toEqual(["model_not_allowed"]);
  });

  it("versions are immutable; aliases pick what a bare slug runs; node ids are the author's across versions", async () => {
    const { key } = await newAccount("pro");
    const h = { "x-api-key": key };
    const slug = await publish(key, CHAIN);
    const g1 = await call(`/v1/workflows/${slug}`, { headers: h });
    const v2def = structuredClone(CHAIN);
    v2def.inputs.background.default = "#000000";
    expect(
      (
        await json(
          "PUT",
          `/v1/workflows/${slug}/draft`,
          { definition: v2def },
          { ...h, "if-match": g1.headers.get("etag")! },
        )
      ).status,
    ).toBe(200);
    const p2 = await json("POST", `/v1/workflows/${slug}/versions`, undefined, h);
    expect(((await p2.json()) as { version: number }).version).toBe(2);

    const view = async () =>
      (await (await call(`/v1/workflows/${slug}`, { headers: h })).json()) as {
        aliases: Record<string, number | null>;
        serving: number;
        versions: { version: number }[];
        input_schema: { properties: Record<string, { default?: string }> };
      };
    let w = await view();
    expect(w.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(w.aliases).toEqual({ production: null, staging: null, latest: 2 });
    expect(w.serving).toBe(2);
    expect(w.input_schema.properties.background!.default).toBe("#000000");

    expect((await json("PUT", `/v1/workflows/${slug}/aliases/production`, { version: 1 }, h)).status).toBe(200);
    expect((await json("PUT", `/v1/workflows/${slug}/aliases/staging`, { version: 2 }, h)).status).toBe(200);
    expect((await json("PUT", `/v1/workflows/${slug}/aliases/staging`, { version: 9 }, h)).status).toBe(404);
    expect((await json("PUT", `/v1/workflows/${slug}/aliases/canary`, { version: 1 }, h)).status).toBe(400);
    w = await view();
    expect(w.aliases).toEqual({ production: 1, staging: 2, latest: 2 });
    expect(w.serving).toBe(1);
    expect(w.input_schema.properties.background!.default).toBe("#ffffff");

    // each run records the version it resolved
    const run = async (target: string) =>
      (await (await json("POST", `/v2/workflows/${target}`, { image: PNG_1x1 }, h)).json()) as {
        version: number;
        run_id: string;
      };
    expect((await run(slug)).version).toBe(1);
    expect((await run(`${slug}@staging`)).version).toBe(2);
    expect((await run(`${slug}@latest`)).version).toBe(2);
    expect((await run(`${slug}@1`)).version).toBe(1);
    const missing = await json("POST", `/v2/workflows/${slug}@7`, { image: PNG_1x1 }, h);
    expect(missing.status).toBe(404);

    // version 1's definition did not change when the draft and version 2 did
    const rows = await env.DB.prepare(
      "SELECT version, definition FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE w.slug = ? ORDER BY version",
    )
      .bind(slug)
      .all<{ version: number; definition: string }>();
    expect(JSON.parse(rows.results[0]!.definition).inputs.background.default).toBe("#ffffff");
    expect(Object.keys(JSON.parse(rows.results[1]!.definition).nodes)).toEqual(["cutout", "flat", "check"]);
  });

  it("archive: no new runs, the workflow leaves the list; another account never sees it", async () => {
    const { key } = await newAccount("pro");
    const other = await newAccount("pro");
    const slug = await publish(key, CHAIN);
    expect((await call(`/v1/workflows/${slug}`, { headers: { "x-api-key": other.key } })).status).toBe(404);
    expect((await json("POST", `/v2/workflows/${slug}`, { image: PNG_1x1 }, { "x-api-key": other.key })).status).toBe(
      404,
    );
    const d = await call(`/v1/workflows/${slug}`, { method: "DELETE", headers: { "x-api-key": key } });
    expect(((await d.json()) as { status: string }).status).toBe("archived");
    expect((await json("POST", `/v2/workflows/${slug}`, { image: PNG_1x1 }, { "x-api-key": key })).status).toBe(404);
    expect(
      ((await (await call("/v1/workflows", { headers: { "x-api-key": key } })).json()) as { data: unknown[] }).data,
    ).toEqual([]);
  });

  it("templates: at least five, each copies into an account as a valid draft in one call", async () => {
    const { key } = await newAccount("pro");
    const list = (await (await call("/v1/workflow-templates")).json()) as { data: { id: string; models: string[] }[] };
    expect(list.data.length).toBeGreaterThanOrEqual(5);
    expect(list.data.map((t) => t.id)).toContain("product-photo-on-white");
    for (const t of list.data) {
      const r = await json("POST", `/v1/workflow-templates/${t.id}/copy`, {}, { "x-api-key": key });
      expect(r.status, `${t.id}: ${await r.clone().text()}`).toBe(201);
      const v = (await (
        await json("POST", `/v1/workflows/${t.id}/validate`, undefined, { "x-api-key": key })
      ).json()) as { valid: boolean };
      expect(v.valid).toBe(true);
    }
    expect((await json("POST", "/v1/workflow-templates/nope/copy", {}, { "x-api-key": key })).status).toBe(404);
  });
});

describe("workflows in the catalog", () => {
  it("with an API key, /v1/models lists the account's published workflows with an input JSON Schema from `inputs`", async () => {
    const { key } = await newAccount("pro");
    const slug = await publish(key, CHAIN);
    const anon = (await (await call("/v1/models")).json()) as { workflows?: unknown };
    expect(anon.workflows).toBeUndefined();
    const r = (await (await call("/v1/models", { headers: { "x-api-key": key } })).json()) as {
      data: { slug: string }[];
      workflows: {
        slug: string;
        version: number;
        input_schema: { properties: Record<string, { format?: string; default?: string }>; required: string[] };
        outputs: string[];
      }[];
    };
    expect(r.data.map((m) => m.slug)).toContain("background-removal");
    expect(r.workflows.map((w) => [w.slug, w.version])).toEqual([[slug, 1]]);
    const schema = r.workflows[0]!.input_schema;
    expect(schema.properties.image!.format).toBe("image");
    expect(schema.properties.background!.default).toBe("#ffffff");
    expect(schema.required).toEqual(["image"]);
    expect(r.workflows[0]!.outputs).toEqual(["image", "safety"]);
  });
});
