/** @jsxImportSource hono/jsx */
import type { AccountView } from "../../../schemas/index.ts";
import { seconds, usd, when } from "../format.ts";
import { Layout } from "../layout.tsx";
import { DailyChart } from "./daily-chart.tsx";
import type { ConsoleSession } from "../services/session.ts";
import type { DaySpend, Filters, RequestPage } from "../services/usage.ts";

const STATUSES = ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"];

export function StatusText(p: { status: string }) {
  return <span class={`status ${p.status}`}>{p.status.toLowerCase()}</span>;
}

function qs(f: Filters, cursor?: string): string {
  const q = new URLSearchParams();
  if (f.model) q.set("model", f.model);
  if (f.status) q.set("status", f.status);
  if (cursor) q.set("cursor", cursor);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function RequestTable(p: { page: RequestPage; filters: Filters; models: string[] }) {
  const f = p.filters;
  const swap = { "hx-select": "#requests", "hx-target": "#requests", "hx-swap": "outerHTML", "hx-push-url": "true" };
  return (
    <section id="requests" aria-labelledby="requests-h">
      <h2 id="requests-h">Requests</h2>
      <form
        method="get"
        action="/console/usage"
        class="inline"
        hx-get="/console/usage"
        hx-trigger="change, submit"
        {...swap}
      >
        <div>
          <label for="f-model">Model</label>
          <select id="f-model" name="model">
            <option value="">All models</option>
            {p.models.map((m) => (
              <option value={m} selected={m === f.model}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option value={s} selected={s === f.status}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <div class="table-wrap" tabindex={0} role="region" aria-label="Requests table">
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>Request</th>
              <th>Model</th>
              <th>Status</th>
              <th class="num">Duration</th>
              <th class="num">GPU time</th>
              <th>GPU class</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {p.page.rows.length === 0 ? (
              <tr>
                <td colspan={8}>No requests{f.model || f.status ? " match these filters" : " yet"}.</td>
              </tr>
            ) : null}
            {p.page.rows.map((r) => (
              <tr data-request={r.id}>
                <td>{when(r.createdAt)}</td>
                <td>
                  <a href={`/console/requests/${r.id}`}>
                    <code>{r.id}</code>
                  </a>
                </td>
                <td>{r.model}</td>
                <td>
                  <StatusText status={r.status} />
                </td>
                <td class="num">{r.completedAt ? seconds(r.completedAt - r.createdAt) : "—"}</td>
                <td class="num">{seconds(r.gpuMs)}</td>
                <td>{r.gpuClass ?? "—"}</td>
                <td class="num" data-cost={r.cost ?? ""}>
                  {usd(r.cost)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        {f.cursor ? <a href={`/console/usage${qs({ ...f, cursor: undefined })}`}>Newest</a> : null}
        {p.page.next ? (
          <a href={`/console/usage${qs(f, p.page.next)}`} rel="next">
            Older
          </a>
        ) : null}
      </nav>
    </section>
  );
}

export function UsagePage(p: {
  session: ConsoleSession;
  account: AccountView;
  daily: DaySpend[];
  page: RequestPage;
  filters: Filters;
  models: string[];
}) {
  const a = p.account;
  const total30 = p.daily.reduce((s, d) => s + d.cost, 0);
  const quota = a.daily_quota.limit === null ? null : `${a.daily_quota.used} of ${a.daily_quota.limit} today`;
  return (
    <Layout title="Usage" active="usage" session={p.session} chart>
      <h1>Usage</h1>
      <div class="cards">
        <div class="card">
          <div class="label">Balance</div>
          <div class="value" id="balance">
            {usd(a.balance)}
          </div>
        </div>
        <div class="card">
          <div class="label">Held by running requests</div>
          <div class="value" id="held">
            {usd(a.held)}
          </div>
        </div>
        <div class="card">
          <div class="label">Available</div>
          <div class="value" id="available">
            {usd(a.available)}
          </div>
        </div>
        <div class="card">
          <div class="label">Requests today</div>
          <div class="value" id="requests-today">
            {a.requests_today}
          </div>
        </div>
        <div class="card">
          <div class="label">Total requests</div>
          <div class="value" id="total-requests">
            {a.total_requests}
          </div>
        </div>
        <div class="card">
          <div class="label">Plan</div>
          <div class="value">{a.plan}</div>
          {quota ? <div class="help">{quota}</div> : null}
        </div>
      </div>
      <h2 id="spend-h">
        Spend per day (last {p.daily.length} days, UTC): {usd(total30)}
      </h2>
      <DailyChart
        dataId="spend-data"
        what="Spend"
        money="Spend"
        countLabel="Requests"
        data={p.daily}
        rows={p.daily.map((d) => ({ day: d.day, count: d.requests, cost: d.cost }))}
      />
      <RequestTable page={p.page} filters={p.filters} models={p.models} />
    </Layout>
  );
}
