/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { ASSETS } from "./assets/generated.ts";
import type { ConsoleSession } from "./services/session.ts";

export const asset = (name: keyof typeof ASSETS & string) => `/console/assets/${ASSETS[name]!.path}`;

export const NAV = [
  { id: "usage", href: "/console/usage", label: "Usage" },
  { id: "models", href: "/console/models", label: "Models" },
  { id: "keys", href: "/console/keys", label: "API keys" },
  { id: "billing", href: "/console/billing", label: "Billing" },
  { id: "workflows", href: "/console/workflows", label: "Workflows" },
  { id: "webhooks", href: "/console/webhooks", label: "Webhooks" },
  { id: "endpoints", href: "/console/endpoints", label: "Endpoints" },
  { id: "provider", href: "/console/provider", label: "Provider" },
] as const;

export interface LayoutProps {
  title: string;
  active?: string;
  session?: ConsoleSession | null;
  chart?: boolean;
  /** the live-progress island (pages that start runs) */
  live?: boolean;
  /** the workflow builder: drawflow and our graph model */
  builder?: boolean;
  children?: Child;
}

// htmx must not inject inline <style> (blocked by our CSP) nor evaluate attribute code.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
});

export function Layout(p: LayoutProps) {
  const s = p.session;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${p.title} · Edge Inference console`}</title>
        <link rel="stylesheet" href={asset("console.css")} />
        {p.chart ? <link rel="stylesheet" href={asset("uplot.css")} /> : null}
        <script src={asset("htmx.js")} defer></script>
        <script src={asset("app.js")} defer></script>
        {p.chart ? <script src={asset("uplot.js")} defer></script> : null}
        {p.chart ? <script src={asset("chart.js")} defer></script> : null}
        {p.live ? <script src={asset("live.js")} defer></script> : null}
        {p.builder ? <link rel="stylesheet" href={asset("drawflow.css")} /> : null}
        {p.builder ? <script src={asset("drawflow.js")} defer></script> : null}
        {p.builder ? <script src={asset("wf-graph.js")} defer></script> : null}
        {p.builder ? <script src={asset("builder.js")} defer></script> : null}
        {p.builder ? <script src={asset("builder-actions.js")} defer></script> : null}
      </head>
      <body hx-headers={s ? JSON.stringify({ "x-csrf-token": s.csrf }) : undefined}>
        <header class="top">
          <a class="brand" href="/console/usage">
            Edge Inference
          </a>
          {s ? (
            <form method="post" action="/console/sign-out" class="inline">
              <span class="help">{s.email}</span>
              <input type="hidden" name="_csrf" value={s.csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          ) : null}
          {s ? (
            <nav class="main" aria-label="Console">
              <ul>
                {NAV.map((n) => (
                  <li>
                    <a href={n.href} aria-current={p.active === n.id ? "page" : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="main">{p.children}</main>
      </body>
    </html>
  );
}

export function Csrf(p: { session: ConsoleSession }) {
  return <input type="hidden" name="_csrf" value={p.session.csrf} />;
}
