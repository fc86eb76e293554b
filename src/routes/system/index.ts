import { Health } from "../../../schemas/index.ts";
import { reply, type Api, type Ctx } from "../../app.ts";
import { baseUrl } from "../../services/urls.ts";

export const VERSION = "0.1.0";

export function registerSystem(api: Api) {
  api.op(
    { method: "get", path: "/health", tag: "System", auth: "none", summary: "Liveness", responses: { 200: { description: "ok", schema: Health } } },
    async (c: Ctx) => reply(c, Health, { status: "ok", version: VERSION, time: new Date().toISOString() }),
  );
  api.op(
    { method: "get", path: "/openapi.json", tag: "System", auth: "none", summary: "This API as an OpenAPI 3.1 document", responses: { 200: { description: "document" } } },
    async (c: Ctx) => c.json(api.registry.document(baseUrl(c.get("cfg").PUBLIC_BASE_URL, c.req.url))),
  );
  api.op(
    { method: "get", path: "/docs", tag: "System", auth: "none", summary: "API reference page", responses: { 200: { description: "HTML", content: "text/html" } } },
    async (c: Ctx) => c.html(docsPage(api)),
  );
}

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/** A self-contained reference page rendered from the same registry as /openapi.json (no CDN: it works offline). */
function docsPage(api: Api): string {
  const groups = new Map<string, string[]>();
  for (const op of api.registry.operations) {
    const rows = groups.get(op.tag) ?? [];
    rows.push(`<tr><td><code class="m ${op.method}">${op.method.toUpperCase()}</code></td><td><code>${esc(op.path)}</code></td><td>${esc(op.auth)}</td><td>${esc(op.summary)}</td></tr>`);
    groups.set(op.tag, rows);
  }
  const sections = [...groups].map(([tag, rows]) => `<h2>${tag}</h2><table><tr><th></th><th>path</th><th>auth</th><th>what</th></tr>${rows.join("")}</table>`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Edge Inference API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}code.m{font-weight:bold}.post{color:#0a7}.get{color:#07a}.delete{color:#a20}.put{color:#a70}</style>
</head><body><h1>Edge Inference API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>x-api-key</code> or <code>Authorization: Bearer</code>. Errors are <code>{"error":{"code","message","request_id","details"}}</code>.</p>${sections}</body></html>`;
}
