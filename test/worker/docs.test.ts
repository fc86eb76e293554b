import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

interface Media {
  schema?: unknown;
  example?: unknown;
}
interface Op {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
  parameters?: { name: string; example?: unknown }[];
  "x-codeSamples"?: { lang: string; label: string; source: string }[];
}
type Doc = { paths: Record<string, Record<string, Op>> };

const BINARY = new Set(["application/octet-stream", "image/png"]);

describe("API reference", () => {
  it("serves a page that loads its script from this Worker, not a CDN", async () => {
    const r = await call("/docs");
    expect(r.status).toBe(200);
    const html = await r.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(["/docs/redoc.standalone.js"]);
    expect(html).toContain('Redoc.init("/openapi.json"');
    expect(html).not.toMatch(/https?:\/\/(?!api\.example)/);

    const js = await call(scripts[0]!);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    const source = await js.text();
    expect(source.length).toBeGreaterThan(500_000);
    // the bundle defines the global the page calls
    expect(source).toContain("Redoc");
    expect(source).toMatch(/\binit\b/);
  });

  it("answers a missing static file with 404", async () => {
    expect((await call("/docs/nope.js")).status).toBe(404);
  });

  it("has an example request and response for every operation in /openapi.json", async () => {
    const doc = (await (await call("/openapi.json")).json()) as Doc;
    const missing: string[] = [];
    let operations = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        operations++;
        const where = `${method} ${path}`;
        const samples = op["x-codeSamples"] ?? [];
        if (!samples.some((s) => s.label === "curl") || !samples.some((s) => s.lang === "Python"))
          missing.push(`${where}: code samples`);
        for (const p of op.parameters ?? []) if (p.example === undefined) missing.push(`${where}: parameter ${p.name}`);
        const json = op.requestBody?.content["application/json"];
        if (json && json.example === undefined) missing.push(`${where}: request body`);
        let responseExamples = 0;
        for (const [status, res] of Object.entries(op.responses)) {
          for (const [ct, media] of Object.entries(res.content ?? {})) {
            if (BINARY.has(ct)) continue;
            if (media.example === undefined) missing.push(`${where}: response ${status} ${ct}`);
            else responseExamples++;
          }
        }
        const binaryOnly = Object.values(op.responses).every(
          (r) => !r.content || Object.keys(r.content).every((ct) => BINARY.has(ct)),
        );
        if (responseExamples === 0 && !binaryOnly) missing.push(`${where}: no response example`);
      }
    }
    expect(operations).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it("gives runnable samples: curl with the auth header and body, Python with requests", async () => {
    const doc = (await (await call("/openapi.json")).json()) as Doc;
    const submit = doc.paths["/v2/{model}"]!.post!;
    const curl = submit["x-codeSamples"]!.find((s) => s.label === "curl")!.source;
    expect(curl).toContain('curl -X POST "http://platform.test/v2/nsfw-detector"');
    expect(curl).toContain('-H "x-api-key: $API_KEY"');
    expect(curl).toContain('-d \'{"image":');
    const py = submit["x-codeSamples"]!.find((s) => s.lang === "Python")!.source;
    expect(py).toContain('requests.post(\n    "http://platform.test/v2/nsfw-detector"');
    expect(py).toContain('"x-api-key": os.environ["API_KEY"]');
    const admin = doc.paths["/admin/v1/accounts"]!.post!["x-codeSamples"]!.find((s) => s.lang === "Python")!.source;
    expect(admin).toContain('"authorization": "Bearer " + os.environ["ADMIN_TOKEN"]');
    // error responses carry the envelope with their stable code
    const notFound = doc.paths["/v2/requests/{id}/status"]!.get!.responses["404"]!.content!["application/json"]!
      .example as { error: { code: string } };
    expect(notFound.error.code).toBe("not_found");
  });
});
