import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, adminHeaders, call, json, newAccount, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);

describe("system", () => {
  it("answers /health with a request id on every response", async () => {
    const r = await call("/health");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
    expect(((await r.json()) as { status: string }).status).toBe("ok");
  });

  it("echoes a well-formed incoming x-request-id and replaces a malformed one", async () => {
    expect(
      (await call("/health", { headers: { "x-request-id": "client-trace-123" } })).headers.get("x-request-id"),
    ).toBe("client-trace-123");
    expect(
      (await call("/health", { headers: { "x-request-id": "bad id with spaces" } })).headers.get("x-request-id"),
    ).toMatch(/^req_/);
  });

  it("serves an OpenAPI 3.1 document generated from the schemas", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/v1/{model}",
      "/v2/{model}",
      "/v2/requests/{id}/status",
      "/v2/requests/{id}/cancel",
      "/v1/models",
      "/agent/v1/lease",
      "/admin/v1/accounts",
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(JSON.stringify(doc.paths["/agent/v1/register"]!.post!.requestBody)).toContain("gpu_class");
  });

  it("serves a docs page listing the operations", async () => {
    const html = await (await call("/docs")).text();
    expect(html).toContain("/v2/requests/{id}/status");
  });

  it("answers unknown routes with the error envelope", async () => {
    const r = await call("/nope/nope");
    expect(r.status).toBe(404);
    const body = (await r.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("not_found");
    expect(body.error.request_id).toBe(r.headers.get("x-request-id"));
  });
});

describe("catalog", () => {
  it("lists the built-in and GPU models with JSON Schemas and pricing", async () => {
    const { data } = (await (await call("/v1/models")).json()) as {
      data: { slug: string; input_schema: { properties: Record<string, unknown> }; pricing: { kind: string } }[];
    };
    const slugs = data.map((m) => m.slug);
    expect(slugs).toEqual(
      expect.arrayContaining(["background-removal", "nsfw-detector", "sdxl1.0-txt2img", "flux-schnell", "svd-img2vid"]),
    );
    const sdxl = data.find((m) => m.slug === "sdxl1.0-txt2img")!;
    expect(Object.keys(sdxl.input_schema.properties)).toEqual(
      expect.arrayContaining([
        "prompt",
        "negative_prompt",
        "width",
        "height",
        "num_inference_steps",
        "guidance_scale",
        "seed",
      ]),
    );
    expect(data.find((m) => m.slug === "flux-schnell")!.pricing.kind).toBe("per_generation");
  });

  it("returns one model, and 404 for an unknown one", async () => {
    expect((await call("/v1/models/background-removal")).status).toBe(200);
    const r = await call("/v1/models/not-a-model");
    expect(r.status).toBe(404);
  });
});

describe("admin and keys", () => {
  it("refuses the admin API without the admin token", async () => {
    expect((await json("POST", "/admin/v1/accounts", { email: "x@example.com" })).status).toBe(401);
    expect(
      (await json("POST", "/admin/v1/accounts", { email: "x@example.com" }, { authorization: `Bearer ${ADMIN}x` }))
        .status,
    ).toBe(401);
  });

  it("validates admin input with the failing fields", async () => {
    const r = await json("POST", "/admin/v1/accounts", { email: "not-an-email", plan: "gold" }, adminHeaders);
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: { code: string; details: { fields: { path: string }[] } } };
    expect(error.code).toBe("invalid_input");
    expect(error.details.fields.map((f) => f.path).sort()).toEqual(["email", "plan"]);
  });

  it("issues keys that work with x-api-key and Bearer, and stop working when revoked", async () => {
    const { key, keyId } = await newAccount();
    expect(key).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    const probe = (h: Record<string, string>) => call("/v2/requests/req_nothing/status", { headers: h });
    expect((await probe({ "x-api-key": key })).status).toBe(404);
    expect((await probe({ authorization: `Bearer ${key}` })).status).toBe(404);
    const del = await call(`/admin/v1/keys/${keyId}`, { method: "DELETE", headers: adminHeaders });
    expect(del.status).toBe(200);
    expect((await probe({ "x-api-key": key })).status).toBe(401);
  });

  it("stores only a hash of each key", async () => {
    const { key, keyId } = await newAccount();
    const { env } = await import("cloudflare:workers");
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(keyId).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(key);
    expect(row!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("rejects a missing or wrong API key with 401 unauthenticated", async () => {
    for (const h of [{}, { "x-api-key": "sk_live_wrong" }, { authorization: "Bearer nope" }] as Record<
      string,
      string
    >[]) {
      const r = await json("POST", "/v1/background-removal", { image: "x" }, h);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
    }
  });
});
