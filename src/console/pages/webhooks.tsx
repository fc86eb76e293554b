/** @jsxImportSource hono/jsx */
import type { DeliveryPage, WebhookDeliveryView, WebhookSecretView } from "../../../schemas/index.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";

export interface WebhookFilters {
  status?: string;
  request_id?: string;
  cursor?: string;
}

const STATUSES = ["pending", "retrying", "succeeded", "failed"];
const at = (iso: string | null) => (iso ? `${iso.replace("T", " ").slice(0, 19)} UTC` : "—");

function Attempts(p: { d: WebhookDeliveryView }) {
  if (p.d.attempt_log.length === 0) return <span class="help">No attempt yet</span>;
  return (
    <details>
      <summary>
        {p.d.attempts} attempt{p.d.attempts === 1 ? "" : "s"}
        <span class="sr-only"> of delivery {p.d.id}</span>
      </summary>
      <ol class="attempts">
        {p.d.attempt_log.map((a) => (
          <li data-attempt={String(a.attempt)}>
            {at(a.at)}: {a.status_code === null ? "no answer" : `HTTP ${a.status_code}`} in {a.latency_ms} ms
            {a.redelivery ? " (redelivery)" : ""}
            {a.error ? <span class="error"> {a.error}</span> : null}
            {a.next_retry_at ? ` · next retry ${at(a.next_retry_at)}` : ""}
          </li>
        ))}
      </ol>
    </details>
  );
}

/** The delivery table: the fragment htmx swaps when the filters change. */
export function DeliveryTable(p: { session: ConsoleSession; page: DeliveryPage; filters: WebhookFilters }) {
  const next = new URLSearchParams();
  if (p.filters.status) next.set("status", p.filters.status);
  if (p.filters.request_id) next.set("request_id", p.filters.request_id);
  if (p.page.next_cursor) next.set("cursor", p.page.next_cursor);
  return (
    <div id="deliveries">
      <div class="table-wrap" tabindex={0} role="region" aria-label="Webhook deliveries">
        <table>
          <thead>
            <tr>
              <th>Created</th>
              <th>Request</th>
              <th>URL</th>
              <th>Status</th>
              <th>Last code</th>
              <th>Attempts</th>
              <th>Next retry</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.page.data.length === 0 ? (
              <tr>
                <td colspan={8}>
                  No deliveries{p.filters.status || p.filters.request_id ? " match these filters" : " yet"}. Pass a
                  webhook URL with an asynchronous request to get one.
                </td>
              </tr>
            ) : null}
            {p.page.data.map((d) => (
              <tr data-delivery={d.id}>
                <td>{at(d.created_at)}</td>
                <td>
                  <a href={`/console/requests/${d.request_id}`}>
                    <code>{d.request_id}</code>
                  </a>
                </td>
                <td class="url">{d.url}</td>
                <td>
                  <span class={`status ${d.status}`}>{d.status}</span>
                </td>
                <td>{d.last_status_code ?? "—"}</td>
                <td>
                  <Attempts d={d} />
                </td>
                <td>{at(d.next_retry_at)}</td>
                <td>
                  {d.status === "succeeded" || d.status === "failed" ? (
                    <form method="post" action={`/console/webhooks/deliveries/${d.id}/redeliver`}>
                      <Csrf session={p.session} />
                      <button type="submit" class="secondary">
                        Redeliver<span class="sr-only"> {d.id}</span>
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {p.page.next_cursor ? (
        <p class="pager">
          <a href={`/console/webhooks?${next}`}>Older deliveries</a>
        </p>
      ) : null}
    </div>
  );
}

function Flash(p: { message: { kind: "ok" | "error"; text: string } }) {
  const error = p.message.kind === "error";
  return (
    <p class={error ? "error" : "notice"} role={error ? "alert" : "status"}>
      {p.message.text}
    </p>
  );
}

export function WebhooksPage(p: {
  session: ConsoleSession;
  page: DeliveryPage;
  filters: WebhookFilters;
  secret: WebhookSecretView;
  message?: { kind: "ok" | "error"; text: string };
  rotated?: boolean;
}) {
  return (
    <Layout title="Webhooks" active="webhooks" session={p.session}>
      <h1>Webhooks</h1>
      {p.message ? <Flash message={p.message} /> : null}
      <section aria-labelledby="secret-h">
        <h2 id="secret-h">Signing secret</h2>
        <p class="help">
          Deliveries are signed as Standard Webhooks (<code>webhook-id</code>, <code>webhook-timestamp</code>,{" "}
          <code>webhook-signature</code>). After a rotation the previous secret signs too until the overlap ends.
        </p>
        <details open={p.rotated}>
          <summary>Show the signing secret</summary>
          <div class="secret">
            <code id="webhook-secret">{p.secret.secret}</code>
            <button type="button" class="secondary" data-copy="webhook-secret">
              Copy
            </button>
          </div>
        </details>
        <p id="overlap">
          {p.secret.previous_secret_expires_at
            ? `The previous secret also signs until ${at(p.secret.previous_secret_expires_at)}.`
            : "Only this secret signs deliveries."}
        </p>
        <form
          method="post"
          action="/console/webhooks/secret/rotate"
          class="inline"
          data-confirm="Rotate the signing secret? Update your receivers before the overlap ends."
        >
          <Csrf session={p.session} />
          <div>
            <label for="overlap-hours">Keep the old secret signing for (hours, 0–168)</label>
            <input id="overlap-hours" name="overlap_hours" type="number" min="0" max="168" step="1" value="24" />
          </div>
          <button type="submit" class="danger">
            Rotate secret
          </button>
        </form>
      </section>
      <h2>Delivery log</h2>
      <form
        method="get"
        action="/console/webhooks"
        class="inline"
        hx-get="/console/webhooks"
        hx-target="#deliveries"
        hx-select="#deliveries"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="change"
      >
        <div>
          <label for="wh-status">Status</label>
          <select id="wh-status" name="status">
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={p.filters.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="wh-request">Request id</label>
          <input id="wh-request" name="request_id" type="text" maxlength={100} value={p.filters.request_id ?? ""} />
        </div>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <DeliveryTable session={p.session} page={p.page} filters={p.filters} />
    </Layout>
  );
}
