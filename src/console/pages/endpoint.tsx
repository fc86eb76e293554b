/** @jsxImportSource hono/jsx */
import type { EndpointView } from "../../../schemas/index.ts";
import { usd } from "../format.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";
import { Flash, type Message, perHour } from "./endpoints.tsx";

const at = (iso: string) => `${iso.replace("T", " ").slice(0, 19)} UTC`;

export function runway(s: number | null): string {
  if (s === null) return "— (nothing billed now)";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** The live part of the page, swapped by htmx every few seconds: state, instances, queue, spend. */
export function EndpointLive(p: { e: EndpointView }) {
  const e = p.e;
  const live = e.state !== "deleted";
  return (
    <div
      id="endpoint-live"
      hx-get={live ? `/console/endpoints/${e.id}/live` : undefined}
      hx-trigger={live ? "every 3s" : undefined}
      hx-swap="outerHTML"
    >
      <dl class="meta">
        <dt>State</dt>
        <dd>
          <span class={`status ${e.state}`} id="endpoint-state">
            {e.state}
          </span>
        </dd>
        <dt>Queue depth</dt>
        <dd id="queue-depth">{e.queue_depth}</dd>
        <dt>Spend rate</dt>
        <dd id="spend-rate">{perHour(e.spend_rate_per_hour)}</dd>
        <dt>Spent</dt>
        <dd id="spent">
          {usd(e.spent)}
          {e.written_off > 0 ? ` (${usd(e.written_off)} not covered)` : ""} · {e.billed_s} instance-seconds
        </dd>
        <dt>Held for runway</dt>
        <dd>{usd(e.held)}</dd>
        <dt>Runway</dt>
        <dd id="runway">{runway(e.runway_s)}</dd>
      </dl>
      <div class="table-wrap" tabindex={0} role="region" aria-label="Instances">
        <table id="instances">
          <thead>
            <tr>
              <th>Instance</th>
              <th>State</th>
              <th>Since</th>
              <th>Billed</th>
            </tr>
          </thead>
          <tbody>
            {e.instances.length === 0 ? (
              <tr>
                <td colspan={4}>No instances{e.min_instances === 0 ? " (scaled to zero)" : ""}.</td>
              </tr>
            ) : null}
            {e.instances.map((i) => (
              <tr data-instance={i.id}>
                <td>
                  <code>{i.id}</code>
                </td>
                <td>
                  <span class={`status ${i.state}`}>{i.state}</span>
                </td>
                <td>{at(i.since)}</td>
                <td>{i.billed_s} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Action(p: { session: ConsoleSession; id: string; op: string; label: string; confirm?: string }) {
  return (
    <form method="post" action={`/console/endpoints/${p.id}/${p.op}`} class="inline" data-confirm={p.confirm}>
      <Csrf session={p.session} />
      <button type="submit" class={p.op === "delete" ? "danger" : "secondary"}>
        {p.label}
      </button>
    </form>
  );
}

export function EndpointPage(p: { session: ConsoleSession; e: EndpointView; message?: Message }) {
  const e = p.e;
  const deleted = e.state === "deleted";
  const stopped = e.state === "paused" || e.state === "suspended";
  return (
    <Layout title={`Endpoint ${e.name}`} active="endpoints" session={p.session}>
      <p>
        <a href="/console/endpoints">All endpoints</a>
      </p>
      <h1>{e.name}</h1>
      {p.message ? <Flash message={p.message} /> : null}
      <p>
        <code>{e.model}</code> on {e.gpu_class} at {perHour(e.price_per_hour)} per instance; idle timeout{" "}
        {e.idle_timeout_s} s{e.max_hourly_spend !== null ? `; spend capped at ${perHour(e.max_hourly_spend)}` : ""}.
      </p>
      <p>
        Run URL: <code id="run-url">{e.run_url}</code>
      </p>
      <EndpointLive e={e} />
      {deleted ? null : (
        <section aria-labelledby="scale-h">
          <h2 id="scale-h">Scale</h2>
          <form method="post" action={`/console/endpoints/${e.id}/scale`} class="inline">
            <Csrf session={p.session} />
            <div>
              <label for="scale-min">Min instances</label>
              <input
                id="scale-min"
                name="min_instances"
                type="number"
                min="0"
                max="10"
                value={String(e.min_instances)}
              />
            </div>
            <div>
              <label for="scale-max">Max instances</label>
              <input
                id="scale-max"
                name="max_instances"
                type="number"
                min="1"
                max="10"
                value={String(e.max_instances)}
              />
            </div>
            <button type="submit">Save</button>
          </form>
          <h2>Lifecycle</h2>
          <div class="inline">
            {stopped ? (
              <Action session={p.session} id={e.id} op="resume" label="Resume" />
            ) : (
              <Action session={p.session} id={e.id} op="pause" label="Pause" />
            )}
            <Action
              session={p.session}
              id={e.id}
              op="delete"
              label="Delete endpoint"
              confirm={`Delete ${e.name}? Its instances are released and queued requests cancelled.`}
            />
          </div>
        </section>
      )}
    </Layout>
  );
}
