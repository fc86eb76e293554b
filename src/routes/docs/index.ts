import type { Api } from "../../app.ts";

/** Where the Redoc bundle lives in the Worker's static assets (public/, filled by scripts/docs-assets.ts). */
export const DOCS_SCRIPT_PATH = "/docs/redoc.standalone.js";

/**
 * `/docs`: an interactive reference (Redoc) rendered in the browser from `/openapi.json`. Its JavaScript is served by
 * this Worker from its static assets, never from a CDN, so the page works in a local start with no internet.
 * Redoc was chosen over Scalar and Stoplight Elements for its size: a 1.1 MB (330 kB gzipped) self-contained bundle
 * and ~115 npm packages installed, against 4.9 MB (1.4 MB) and ~280 packages for Scalar, 2.1 MB plus 0.3 MB of CSS
 * and ~460 packages for Elements; all three are MIT or Apache-2.0. Redoc has no "try it" console; every operation
 * instead carries curl, Python and TypeScript samples (x-codeSamples) and example requests and responses.
 */
export function registerDocs(api: Api) {
  api.route({
    method: "get",
    path: "/docs",
    tag: "System",
    auth: "none",
    summary: "API reference page (Redoc, served by the Worker itself; works offline)",
    responses: { 200: { description: "HTML", content: "text/html" } },
    handler(c) {
      c.header("cache-control", "no-cache");
      return c.html(page(api));
    },
  });
  // Static files normally never reach the Worker (the asset router answers first); this route serves the bundle when
  // the Worker is called directly, as the tests and a `run_worker_first` deployment do. Not an API operation.
  api.app.get("/docs/*", (c) => c.var.services.assets.get(c.req.path, c.req.url));
}

const OPTIONS = {
  expandResponses: "200,201,202",
  requiredPropsFirst: true,
  jsonSampleExpandLevel: 4,
  pathInMiddlePanel: true,
  hideHostname: false,
  theme: {
    colors: { primary: { main: "#0b5fff" } },
    typography: {
      fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
      headings: { fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif" },
      code: { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
    },
    sidebar: { width: "280px" },
  },
};

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch] ?? ch);

/** The page Redoc fills in; without JavaScript it still lists every operation. */
function page(api: Api): string {
  const rows = api.registry.operations.map(
    (op) => `<li><code>${op.method.toUpperCase()} ${esc(op.path)}</code> ${esc(op.summary)}</li>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge Inference API reference</title><style>body{margin:0}</style></head>
<body>
<noscript><p style="font:16px system-ui;margin:2em">This reference needs JavaScript. The OpenAPI 3.1 document is at
<a href="/openapi.json">/openapi.json</a>.</p><ul>${rows.join("")}</ul></noscript>
<div id="redoc"></div>
<script src="${DOCS_SCRIPT_PATH}"></script>
<script>Redoc.init("/openapi.json", ${JSON.stringify(OPTIONS)}, document.getElementById("redoc"));</script>
</body></html>`;
}
