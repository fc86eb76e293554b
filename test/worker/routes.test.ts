import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApi } from "../../src/index.ts";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** Paths the Worker serves that are not API operations: the docs' static bundle. */
const NOT_OPERATIONS = new Set(["GET /docs/*"]);

describe("each route is declared once", () => {
  it("mounts exactly the operations the OpenAPI document lists, with the same methods and paths", () => {
    const api = buildApi();
    const mounted = new Set(
      api.app.routes
        .filter((r) => METHODS.has(r.method))
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`)
        .filter((r) => !NOT_OPERATIONS.has(r)),
    );
    const doc = api.registry.document("https://api.example.com") as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    expect(
      [...mounted].filter((r) => !documented.has(r)),
      "mounted but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((r) => !mounted.has(r)),
      "documented but not mounted",
    ).toEqual([]);
    expect(mounted.size).toBeGreaterThan(60);
  });

  it("enforces the authentication each operation declares", async () => {
    const api = buildApi();
    const doc = api.registry.document("https://api.example.com") as {
      paths: Record<string, Record<string, { security: Record<string, unknown>[] }>>;
    };
    const unauthenticated: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.security.length === 0) continue;
        const url = `https://api.example.com${path.replace(/\{[^}]+\}/g, "x")}`;
        const r = await api.app.request(url, { method: method.toUpperCase() }, env);
        if (r.status !== 401 && r.status !== 403) unauthenticated.push(`${method} ${path}: ${r.status}`);
      }
    }
    expect(unauthenticated).toEqual([]);
  });
});
