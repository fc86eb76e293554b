import { eq } from "drizzle-orm";
import type { Plan } from "../../../schemas/index.ts";
import { db } from "../../db/client.ts";
import { accounts, billingCustomers } from "../../db/schema.ts";
import type { AutoRechargeClaim, BillingState, EffectResult } from "../../durable-objects/account-ledger-money.ts";
import type { PaymentRow } from "../../durable-objects/account-ledger-money-sql.ts";
import { config, type Env } from "../../env.ts";
import { ApiError } from "../../errors.ts";
import type { AuthedAccount } from "../auth-types.ts";
import { moneyLedger as ledger } from "./ledger.ts";
import { creditFromIntent, route } from "./events.ts";
import { MICRO_PER_CENT, Stripe, stripe, verifyEvent, type StripeSetup } from "./stripe.ts";
import { invalidate } from "../edge-cache.ts";
import { planCacheKey } from "../cache-keys.ts";

/** Monthly price of each paid plan in cents; each paid invoice grants the plan's monthly credit. */
export const PLAN_PRICE_CENTS = { pro: 3_900, business: 9_900 } as const;

export interface WebhookOutcome {
  event_id: string;
  type: string;
  applied: boolean;
  account: string | null;
}

/**
 * Card payments through Stripe (or the local stand-in, the same code): Checkout for top-ups and plans, off-session
 * auto-recharge, and the webhook that turns Stripe's events into ledger operations. The AccountLedger is the balance;
 * Stripe only moves cards.
 */
export class Payments {
  constructor(private env: Env) {}

  /** Made on first use: paths that never reach Stripe (a debit with auto-recharge off) need no Stripe keys. */
  private get s(): StripeSetup {
    return stripe(config(this.env));
  }

  /** The account's Stripe customer, created once (idempotent at Stripe and in D1). */
  async customer(a: AuthedAccount): Promise<string> {
    const row = await db(this.env)
      .select({ id: billingCustomers.customerId })
      .from(billingCustomers)
      .where(eq(billingCustomers.accountId, a.id))
      .get();
    if (row) return row.id;
    const acct = await db(this.env).select({ email: accounts.email }).from(accounts).where(eq(accounts.id, a.id)).get();
    const c = await this.s.client.customers.create(
      { email: acct?.email, metadata: { account: a.id } },
      { idempotencyKey: `customer:${a.id}` },
    );
    await db(this.env)
      .insert(billingCustomers)
      .values({ customerId: c.id, accountId: a.id, createdAt: Date.now() })
      .onConflictDoNothing();
    await ledger(this.env, a.id).setCustomer(a.id, a.plan, c.id);
    return c.id;
  }

  /** A Checkout Session for a one-off top-up that also saves the card for off-session use. */
  async checkout(
    a: AuthedAccount,
    cents: number,
    base: string,
    key?: string,
    returnPath = "/v1/billing/return",
  ): Promise<{ id: string; url: string }> {
    const customer = await this.customer(a);
    const meta = { account: a.id, kind: "recharge" };
    const cs = await this.s.client.checkout.sessions.create(
      {
        mode: "payment",
        customer,
        client_reference_id: a.id,
        metadata: meta,
        line_items: [
          {
            quantity: 1,
            price_data: { currency: "usd", unit_amount: cents, product_data: { name: "Inference credit" } },
          },
        ],
        payment_intent_data: { setup_future_usage: "off_session", metadata: meta },
        success_url: `${base}${returnPath}?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${base}${returnPath}?cancelled=1`,
      },
      key ? { idempotencyKey: `checkout:${a.id}:${key}` } : undefined,
    );
    return { id: cs.id, url: cs.url! };
  }

  async subscribe(
    a: AuthedAccount,
    plan: "pro" | "business",
    base: string,
    key?: string,
    returnPath = "/v1/billing/return",
  ): Promise<{ id: string; url: string }> {
    const view = await ledger(this.env, a.id).billingState(a.id, a.plan);
    const sub = view.billing.subscription;
    if (sub && !view.billing.ended.includes(sub.id) && sub.status === "active")
      throw new ApiError("conflict", `already subscribed to ${sub.plan}`);
    const customer = await this.customer(a);
    const meta = { account: a.id, plan };
    const cs = await this.s.client.checkout.sessions.create(
      {
        mode: "subscription",
        customer,
        client_reference_id: a.id,
        metadata: meta,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: "usd",
              unit_amount: PLAN_PRICE_CENTS[plan],
              recurring: { interval: "month" },
              product_data: { name: `${plan} plan` },
            },
          },
        ],
        subscription_data: { metadata: meta },
        success_url: `${base}${returnPath}?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${base}${returnPath}?cancelled=1`,
      },
      key ? { idempotencyKey: `subscribe:${a.id}:${key}` } : undefined,
    );
    return { id: cs.id, url: cs.url! };
  }

  /** Cancels at the period's end; the plan and its limits stay until Stripe ends the subscription. */
  async cancel(a: AuthedAccount): Promise<void> {
    const sub = (await ledger(this.env, a.id).billingState(a.id, a.plan)).billing.subscription;
    if (!sub || sub.status === "canceled") throw new ApiError("not_found", "no active subscription");
    await this.s.client.subscriptions.update(sub.id, { cancel_at_period_end: true });
  }

  async configureAutoRecharge(
    a: AuthedAccount,
    cfg: { enabled: boolean; threshold: number; amount: number },
  ): Promise<void> {
    const r = await ledger(this.env, a.id).configureAutoRecharge(a.id, a.plan, {
      enabled: cfg.enabled,
      threshold: cfg.threshold * MICRO_PER_CENT,
      amount: cfg.amount * MICRO_PER_CENT,
    });
    if (!r.ok) throw new ApiError("conflict", r.message);
    if (r.claim) await this.autoRecharge(r.claim);
  }

  view(a: AuthedAccount): Promise<{ billing: BillingState; payments: PaymentRow[]; plan: Plan; available: number }> {
    return ledger(this.env, a.id).billingState(a.id, a.plan);
  }

  /**
   * Charges the saved card once for a claim the ledger made. The key derives from the claim's sequence, so a retry
   * (a transport error, or a claim re-issued after 15 minutes) can never charge twice. Card errors are recorded and
   * not retried; the credit itself arrives with the `payment_intent.succeeded` webhook.
   */
  async autoRecharge(c: AutoRechargeClaim): Promise<"sent" | "failed" | "unknown"> {
    try {
      const pi = await this.s.client.paymentIntents.create(
        {
          amount: Math.round(c.amount / MICRO_PER_CENT),
          currency: "usd",
          customer: c.customer_id,
          payment_method: c.payment_method,
          off_session: true,
          confirm: true,
          metadata: { account: c.account_id, kind: "auto_recharge", seq: String(c.seq) },
        },
        { idempotencyKey: `auto-recharge:${c.account_id}:${c.seq}` },
      );
      // Stripe's own answer to our call settles it too, so a lost webhook cannot leave the charge in flight; the
      // webhook that follows finds the PaymentIntent credited (one credit per object id).
      if (pi.status === "succeeded") {
        const r = await creditFromIntent(this.s, pi.id);
        if (r)
          await ledger(this.env, c.account_id).stripeEffect(
            c.account_id,
            "free",
            `sync:${pi.id}`,
            "payment_intent.succeeded",
            r.effect,
          );
      }
      return "sent";
    } catch (e) {
      if (e instanceof Stripe.errors.StripeCardError || e instanceof Stripe.errors.StripeInvalidRequestError) {
        await ledger(this.env, c.account_id).autoRechargeFailed(c.seq, e.code ?? e.type, e.message);
        return "failed";
      }
      console.error(
        JSON.stringify({
          level: "warn",
          message: "auto-recharge charge outcome unknown; re-issued with the same key later",
          account: c.account_id,
          seq: c.seq,
          error: String(e),
        }),
      );
      return "unknown";
    }
  }

  /** After a debit: a charge when the balance fell below the threshold. */
  async afterDebit(accountId: string): Promise<void> {
    const claim = await ledger(this.env, accountId).autoRechargeCheck(accountId);
    if (claim) await this.autoRecharge(claim);
  }

  /** Stripe's webhook: verified, routed to one account, applied once per event id; 400 when the signature fails. */
  async webhook(payload: string, signature: string | undefined): Promise<WebhookOutcome> {
    const event = await verifyEvent(this.s, payload, signature);
    if (!event) throw new ApiError("invalid_input", "webhook signature verification failed");
    const base = { event_id: event.id, type: event.type };
    if (event.livemode !== this.s.live) return { ...base, applied: false, account: null };
    const r = await route(this.s, event);
    if (!r) return { ...base, applied: false, account: null };
    const account = await this.accountFor(r.account, r.customer);
    if (!account) {
      console.error(
        JSON.stringify({
          level: "warn",
          message: "stripe event for no known account",
          event: event.id,
          customer: r.customer,
        }),
      );
      return { ...base, applied: false, account: null };
    }
    const res: EffectResult = await ledger(this.env, account.id).stripeEffect(
      account.id,
      account.plan,
      event.id,
      event.type,
      r.effect,
    );
    // D1's plan follows the ledger's (the ledger enforces the limits); replays converge it too.
    if (res.plan !== account.plan)
      await db(this.env).update(accounts).set({ plan: res.plan }).where(eq(accounts.id, account.id));
    await invalidate(planCacheKey(account.id));
    if (res.claim) await this.autoRecharge(res.claim);
    return { ...base, applied: res.applied, account: account.id };
  }

  private async accountFor(
    account: string | null,
    customer: string | null,
  ): Promise<{ id: string; plan: Plan } | null> {
    let id = account;
    if (!id && customer)
      id =
        (
          await db(this.env)
            .select({ a: billingCustomers.accountId })
            .from(billingCustomers)
            .where(eq(billingCustomers.customerId, customer))
            .get()
        )?.a ?? null;
    if (!id) return null;
    const row = await db(this.env)
      .select({ id: accounts.id, plan: accounts.plan })
      .from(accounts)
      .where(eq(accounts.id, id))
      .get();
    return row ? { id: row.id, plan: row.plan as Plan } : null;
  }
}

export function payments(env: Env): Payments {
  return new Payments(env);
}
