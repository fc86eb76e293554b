/** @jsxImportSource hono/jsx */
import type { Plan } from "../../../schemas/index.ts";
import type { BillingState } from "../../durable-objects/account-ledger-money.ts";
import type { PaymentRow } from "../../durable-objects/account-ledger-money-sql.ts";
import { usd, when } from "../format.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";

export interface BillingData {
  billing: BillingState;
  payments: PaymentRow[];
  plan: Plan;
  available: number;
}

export interface BillingNotice {
  kind: "ok" | "error";
  text: string;
}

const PLANS = [
  { id: "pro", name: "Pro", cents: 3_900, what: "50 requests/min, $39 of credit each month" },
  { id: "business", name: "Business", cents: 9_900, what: "Higher limits, $99 of credit each month" },
] as const;
const AMOUNTS = [10, 25, 50, 100];
const KIND: Record<string, string> = {
  card: "Top-up",
  auto_recharge: "Auto-recharge",
  grant: "Plan credit",
  refund: "Refund",
  dispute: "Dispute",
  recovery: "Recovered",
};
const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** Balance and plan: also the fragment the page polls after a checkout while the webhook is on its way. */
export function BillingSummary(p: { data: BillingData; poll?: number }) {
  const b = p.data.billing;
  const sub = b.subscription && !b.ended.includes(b.subscription.id) ? b.subscription : null;
  const polling = p.poll !== undefined && p.poll < 20;
  return (
    <div
      class="cards"
      id="billing-summary"
      hx-get={polling ? `/console/billing/summary?poll=${p.poll! + 1}` : undefined}
      hx-trigger={polling ? "every 2s" : undefined}
      hx-swap={polling ? "outerHTML" : undefined}
    >
      <div class="card">
        <div class="label">Available balance</div>
        <div class="value" id="balance" data-available={String(p.data.available)}>
          {usd(p.data.available, 2)}
        </div>
      </div>
      <div class="card">
        <div class="label">Plan</div>
        <div class="value" id="plan">
          {p.data.plan}
        </div>
        <div class="help">
          {sub
            ? sub.cancel_at_period_end
              ? `Ends ${when(sub.period_end)}`
              : `Renews ${when(sub.period_end)} (${sub.status})`
            : "No subscription"}
        </div>
      </div>
      <div class="card">
        <div class="label">Saved card</div>
        <div class="value" id="card">
          {b.card ? `${b.card.brand} •••• ${b.card.last4}` : "None"}
        </div>
        <div class="help">{b.card ? "Used for auto-recharge" : "Saved by your first top-up"}</div>
      </div>
      {b.receivable > 0 ? (
        <div class="card">
          <div class="label">Owed (refunds/disputes)</div>
          <div class="value">{usd(b.receivable, 2)}</div>
        </div>
      ) : null}
    </div>
  );
}

function AutoRechargeForm(p: { session: ConsoleSession; b: BillingState }) {
  const a = p.b.auto;
  const state = a.in_flight
    ? "A charge is in flight."
    : a.disabled_reason
      ? `Turned off: ${a.disabled_reason}`
      : a.paused_reason
        ? `Paused: ${a.paused_reason}`
        : a.enabled
          ? "On."
          : "Off.";
  return (
    <section aria-labelledby="auto-h">
      <h2 id="auto-h">Auto-recharge</h2>
      <p id="auto-state" role="status">
        {state}
        {a.failures > 0 ? ` ${a.failures} failed attempt${a.failures > 1 ? "s" : ""} in a row.` : ""}
      </p>
      {a.last_error ? (
        <p class="error" id="auto-last-error">
          Last failure: {a.last_error}
        </p>
      ) : null}
      <form method="post" action="/console/billing/auto-recharge" class="inline">
        <Csrf session={p.session} />
        <div>
          <label for="auto-threshold">When the balance falls below ($)</label>
          <input
            id="auto-threshold"
            name="threshold"
            type="number"
            min="5"
            max="1000"
            step="0.01"
            value={(a.threshold / 1_000_000 || 5).toFixed(2)}
            required
          />
        </div>
        <div>
          <label for="auto-amount">Charge ($)</label>
          <input
            id="auto-amount"
            name="amount"
            type="number"
            min="10"
            max="1000"
            step="0.01"
            value={(a.amount / 1_000_000 || 10).toFixed(2)}
            required
          />
        </div>
        <div class="field">
          <label>
            <input type="checkbox" name="enabled" value="on" checked={a.enabled} /> Turn on: I authorise charges to my
            saved card when my balance is low
          </label>
        </div>
        <button type="submit">Save auto-recharge</button>
      </form>
    </section>
  );
}

export function BillingPage(p: {
  session: ConsoleSession;
  data: BillingData;
  testMode: boolean;
  notice?: BillingNotice;
  poll?: number;
}) {
  const b = p.data.billing;
  const sub = b.subscription && !b.ended.includes(b.subscription.id) ? b.subscription : null;
  return (
    <Layout title="Billing" active="billing" session={p.session}>
      <h1>Billing</h1>
      {p.testMode ? (
        <p class="notice" id="test-mode">
          <strong>TEST MODE</strong>: payments go to the local Stripe stand-in. Pay with 4242 4242 4242 4242.
        </p>
      ) : null}
      {p.notice ? (
        <p class={p.notice.kind === "error" ? "error" : "notice"} role={p.notice.kind === "error" ? "alert" : "status"}>
          {p.notice.text}
        </p>
      ) : null}
      <BillingSummary data={p.data} poll={p.poll} />

      <section aria-labelledby="recharge-h">
        <h2 id="recharge-h">Add credit</h2>
        <form method="post" action="/console/billing/recharge" class="inline">
          <Csrf session={p.session} />
          <fieldset class="amounts">
            <legend>Amount</legend>
            {AMOUNTS.map((d, i) => (
              <label>
                <input type="radio" name="preset" value={String(d)} checked={i === 0} /> ${d}
              </label>
            ))}
            <label>
              <input type="radio" name="preset" value="custom" /> Other
            </label>
          </fieldset>
          <div>
            <label for="recharge-custom">Other amount ($10–$1,000)</label>
            <input id="recharge-custom" name="custom" type="number" min="10" max="1000" step="0.01" />
          </div>
          <button type="submit">Continue to checkout</button>
        </form>
      </section>

      <AutoRechargeForm session={p.session} b={b} />

      <section aria-labelledby="plans-h">
        <h2 id="plans-h">Plan</h2>
        <ul class="models plans">
          {PLANS.map((pl) => (
            <li>
              <h3>
                {pl.name} · {dollars(pl.cents)}/month
              </h3>
              <p class="help">{pl.what}</p>
              {sub?.plan === pl.id ? (
                sub.cancel_at_period_end ? (
                  <p>Current plan, ends {when(sub.period_end)}.</p>
                ) : (
                  <form method="post" action="/console/billing/cancel" data-confirm="Cancel at the end of the period?">
                    <Csrf session={p.session} />
                    <p>Current plan.</p>
                    <button type="submit" class="danger">
                      Cancel {pl.name}
                    </button>
                  </form>
                )
              ) : sub ? null : (
                <form method="post" action="/console/billing/subscribe">
                  <Csrf session={p.session} />
                  <input type="hidden" name="plan" value={pl.id} />
                  <button type="submit" class="secondary">
                    Subscribe to {pl.name}
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      </section>

      <h2 id="payments-h">Payment history</h2>
      <div class="table-wrap" tabindex={0} role="region" aria-labelledby="payments-h">
        <table id="payments">
          <thead>
            <tr>
              <th>Date</th>
              <th>Kind</th>
              <th class="num">Amount</th>
              <th>Status</th>
              <th>Receipt</th>
            </tr>
          </thead>
          <tbody>
            {p.data.payments.length === 0 ? (
              <tr>
                <td colspan={5}>No payments yet.</td>
              </tr>
            ) : null}
            {p.data.payments.map((r) => (
              <tr data-payment={r.object_id}>
                <td>{when(r.created_at)}</td>
                <td>{KIND[r.kind] ?? r.kind}</td>
                <td class="num">{usd(r.amount, 2)}</td>
                <td>
                  {r.status}
                  {r.refunded > 0 ? ` (refunded ${usd(r.refunded, 2)})` : ""}
                </td>
                <td>
                  {r.receipt_url ? (
                    <a href={r.receipt_url} rel="noopener noreferrer" target="_blank">
                      Receipt<span class="sr-only"> for {r.object_id}</span>
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
