/** @jsxImportSource hono/jsx */
import type { z } from "zod";
import type { EarningsView, ProviderAgent } from "../../../schemas/index.ts";
import { usd } from "../format.ts";
import { Layout } from "../layout.tsx";
import { DailyChart } from "./daily-chart.tsx";
import type { ConsoleSession } from "../services/session.ts";

export interface ProviderData {
  name: string;
  earnings: z.infer<typeof EarningsView>;
  agents: z.infer<typeof ProviderAgent>[];
  /** every day of the window, oldest first, zero where nothing was earned */
  daily: { day: string; cost: number; jobs: number }[];
  months: string[];
}

const gpuSeconds = (ms: number) => (ms / 1000).toLocaleString("en-US", { maximumFractionDigits: 1 });

export function NotProviderPage(p: { session: ConsoleSession }) {
  return (
    <Layout title="Provider" active="provider" session={p.session}>
      <h1>Provider</h1>
      <div class="notice">
        <p>
          <strong>{p.session.email} is not a GPU provider's address.</strong> Providers run <code>gpu-agent</code> on
          their machines and earn a share of every job their agents complete.
        </p>
        <p>
          To see your agents, jobs and earnings here, ask an operator to set your sign-in email on your provider (
          <code>PUT /admin/v1/providers/&#123;id&#125;/email</code>), then sign in with that address.
        </p>
      </div>
    </Layout>
  );
}

export function ProviderPage(p: { session: ConsoleSession; data: ProviderData }) {
  const e = p.data.earnings;
  const t = e.totals;
  return (
    <Layout title="Provider" active="provider" session={p.session} chart>
      <h1>Provider: {p.data.name}</h1>
      <div class="cards">
        <div class="card">
          <div class="label">Balance to be paid out</div>
          <div class="value" id="provider-balance">
            {usd(t.balance)}
          </div>
        </div>
        <div class="card">
          <div class="label">Earned, last {p.data.daily.length} days</div>
          <div class="value" id="provider-earned" data-earned={String(t.earned)}>
            {usd(t.earned)}
          </div>
          <div class="help">Your share: {(e.revenue_share_bp / 100).toFixed(2)}% of each charge</div>
        </div>
        <div class="card">
          <div class="label">Jobs</div>
          <div class="value" id="provider-jobs">
            {t.jobs}
          </div>
        </div>
        <div class="card">
          <div class="label">GPU-seconds</div>
          <div class="value" id="provider-gpu-seconds">
            {gpuSeconds(t.gpu_ms)}
          </div>
        </div>
      </div>

      <h2 id="earn-h">Earnings per day (UTC)</h2>
      <DailyChart
        dataId="earn-data"
        what="Earnings"
        money="Earned"
        countLabel="Jobs"
        label="Earnings (USD)"
        data={p.data.daily}
        rows={p.data.daily.map((d) => ({ day: d.day, count: d.jobs, cost: d.cost }))}
      />

      <h2 id="agents-h">Agents</h2>
      <div class="table-wrap" tabindex={0} role="region" aria-labelledby="agents-h">
        <table id="agents">
          <thead>
            <tr>
              <th>Name</th>
              <th>GPU class</th>
              <th>State</th>
              <th>Registered</th>
              <th class="num">Jobs</th>
              <th class="num">GPU-seconds</th>
              <th class="num">Earned (all time)</th>
            </tr>
          </thead>
          <tbody>
            {p.data.agents.length === 0 ? (
              <tr>
                <td colspan={7}>No agent has registered yet. Start gpu-agent with a token from an operator.</td>
              </tr>
            ) : null}
            {p.data.agents.map((a) => (
              <tr data-agent={a.id}>
                <td>
                  {a.name} <code class="help">{a.id}</code>
                </td>
                <td>{a.gpu_class}</td>
                <td>
                  <span class={`status ${a.state === "active" ? "COMPLETED" : "FAILED"}`}>{a.state}</span>
                </td>
                <td>{a.registered_at.replace("T", " ").slice(0, 19)} UTC</td>
                <td class="num">{a.jobs}</td>
                <td class="num">{a.gpu_seconds.toLocaleString("en-US", { maximumFractionDigits: 1 })}</td>
                <td class="num">{usd(a.earned)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 id="models-h">By model, last {p.data.daily.length} days</h2>
      <div class="table-wrap" tabindex={0} role="region" aria-labelledby="models-h">
        <table>
          <thead>
            <tr>
              <th>Model</th>
              <th class="num">Jobs</th>
              <th class="num">GPU-seconds</th>
              <th class="num">Earned</th>
            </tr>
          </thead>
          <tbody>
            {e.by_model.length === 0 ? (
              <tr>
                <td colspan={4}>No jobs in this window.</td>
              </tr>
            ) : null}
            {e.by_model.map((g) => (
              <tr>
                <td>{g.key}</td>
                <td class="num">{g.jobs}</td>
                <td class="num">{gpuSeconds(g.gpu_ms)}</td>
                <td class="num">{usd(g.earned)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 id="statements-h">Monthly statements</h2>
      <p class="help">Every earning and payout of the month with totals; a month is closed once it has ended.</p>
      <ul id="statements">
        {p.data.months.map((m) => (
          <li>
            {m}:{" "}
            <a href={`/console/provider/statements/${m}.json`}>
              JSON<span class="sr-only"> for {m}</span>
            </a>
            {" · "}
            <a href={`/console/provider/statements/${m}.csv`} download={`statement-${m}.csv`}>
              CSV<span class="sr-only"> for {m}</span>
            </a>
          </li>
        ))}
      </ul>
    </Layout>
  );
}
