/** @jsxImportSource hono/jsx */
import type { ModelView, Pricing } from "../../../schemas/index.ts";
import { usd } from "../format.ts";
import { Csrf, Layout } from "../layout.tsx";
import { SchemaFields } from "../schema-form.tsx";
import type { ConsoleSession } from "../services/session.ts";

export function priceSummary(p: Pricing): string {
  if (p.kind === "per_generation") return `${usd(p.micro_usd_per_unit)} per ${p.unit.replace("_", " ")}`;
  const rates = Object.entries(p.micro_usd_per_second).filter(([, v]) => v !== undefined) as [string, number][];
  const low = rates.reduce((a, b) => (b[1] < a[1] ? b : a), rates[0] ?? ["", 0]);
  return rates.length ? `from ${usd(low[1])}/s (${low[0]})` : "—";
}

export function CatalogPage(p: {
  session: ConsoleSession;
  models: ModelView[];
  categories: string[];
  q: string;
  category: string;
}) {
  return (
    <Layout title="Models" active="models" session={p.session}>
      <h1>Models</h1>
      <form method="get" action="/console/models" class="inline" role="search">
        <div>
          <label for="q">Search</label>
          <input id="q" name="q" type="search" value={p.q} placeholder="name, slug or description" />
        </div>
        <div>
          <label for="category">Category</label>
          <select id="category" name="category">
            <option value="">All categories</option>
            {p.categories.map((c) => (
              <option value={c} selected={c === p.category}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      {p.models.length === 0 ? <p>No model matches.</p> : null}
      <ul class="models">
        {p.models.map((m) => (
          <li>
            <h2>
              <a href={`/console/models/${m.slug}`}>{m.name}</a>
            </h2>
            <p>
              <span class="tag">{m.category}</span> {m.free ? <span class="tag">free plan</span> : null}{" "}
              <code>{m.slug}</code>
            </p>
            <p>{m.description}</p>
            <p class="help">{priceSummary(m.pricing)}</p>
          </li>
        ))}
      </ul>
    </Layout>
  );
}

export interface ModelPageProps {
  session: ConsoleSession;
  model: ModelView;
  maxHold: number;
  speed: { ms: number; n: number } | null;
  base: string;
}

function PriceTable(p: { pricing: Pricing }) {
  const pr = p.pricing;
  if (pr.kind === "per_generation")
    return (
      <p>
        {usd(pr.micro_usd_per_unit)} per {pr.unit.replace("_", " ")}.
      </p>
    );
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label="Prices table">
      <table>
        <thead>
          <tr>
            <th>GPU class</th>
            <th class="num">Per second</th>
            <th class="num">Per hour</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(pr.micro_usd_per_second).map(([cls, rate]) => (
            <tr>
              <td>{cls}</td>
              <td class="num">{usd(rate ?? null)}</td>
              <td class="num">{usd(rate === undefined ? null : rate * 3600, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ModelPage(p: ModelPageProps) {
  const m = p.model;
  const curl = [
    `curl -X POST ${p.base}/v2/${m.slug}`,
    `-H "x-api-key: $KEY"`,
    `-H "content-type: application/json"`,
    `-d '{...}'`,
  ].join(" ");
  return (
    <Layout title={m.name} active="models" session={p.session} live>
      <p>
        <a href="/console/models">← Models</a>
      </p>
      <h1>{m.name}</h1>
      <p>
        <span class="tag">{m.category}</span> <code>{m.slug}</code> · output: {m.output_type} · runtime: {m.runtime}
        {m.free ? " · on the free plan" : ""}
      </p>
      <p>{m.description}</p>
      <div class="grid2">
        <section aria-labelledby="play-h">
          <h2 id="play-h">Playground</h2>
          <form
            method="post"
            action={`/console/models/${m.slug}/run`}
            enctype="multipart/form-data"
            hx-post={`/console/models/${m.slug}/run`}
            hx-encoding="multipart/form-data"
            hx-target="#run-result"
            hx-swap="innerHTML"
          >
            <Csrf session={p.session} />
            <SchemaFields schema={m.input_schema} />
            <p class="help">Charged for measured GPU time only; at most {usd(p.maxHold)} is held while it runs.</p>
            <button type="submit">
              Run <span class="when-busy">…</span>
            </button>
          </form>
          <div id="run-result"></div>
        </section>
        <section aria-labelledby="price-h">
          <h2 id="price-h">Price</h2>
          <PriceTable pricing={m.pricing} />
          <h2>Expected speed</h2>
          <p>
            {p.speed
              ? `${(p.speed.ms / 1000).toFixed(2)} s of GPU time (median of the last ${p.speed.n} completed ` +
                `request${p.speed.n === 1 ? "" : "s"}).`
              : "No completed requests yet."}{" "}
            Longest allowed run: {m.max_execution_s} s.
          </p>
          <h2>API</h2>
          <pre>
            <code>{curl}</code>
          </pre>
          <p class="help">
            Sync: <code>POST /v1/{m.slug}</code>. Full reference: <a href="/docs">/docs</a>.
          </p>
        </section>
      </div>
    </Layout>
  );
}

export function RunErrors(p: { message: string; fields: { path: string; message: string }[] }) {
  return (
    <div class="error" role="alert" id="run-error">
      <p>
        <strong>{p.message}</strong>
      </p>
      {p.fields.length ? (
        <ul>
          {p.fields.map((f) => (
            <li>
              <code>{f.path || "(input)"}</code>: {f.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
