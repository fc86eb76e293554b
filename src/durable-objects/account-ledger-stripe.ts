import { PLAN_DEFAULTS } from "../../schemas/index.ts";
import type { PaymentKind, PaymentRow } from "./account-ledger-money-sql.ts";
import {
  ENDING,
  type BillingState,
  type MoneyCore,
  type StripeEffect,
  type Subscription,
} from "./account-ledger-money-types.ts";

/** What the payments module lends: the ledger's side, and its billing state. */
export interface EffectsHost {
  core: MoneyCore;
  /** the billing state as it is now (not a copy) */
  current(): BillingState;
  save(next: BillingState): void;
  fail(seq: number, code: string, message: string): void;
}

/**
 * What each Stripe event does to the account: a card credit, a plan grant, a refund or dispute (reversed from what
 * is still available, the rest owed and recovered from later payments), a subscription change, a failed charge.
 * Each is idempotent by the Stripe object's id (its `payments` row).
 */
export class StripeEffects {
  constructor(private m: EffectsHost) {}

  private payment(id: string): PaymentRow | undefined {
    return this.m.core.sql.exec<PaymentRow>(`SELECT * FROM payments WHERE object_id = ?`, id).toArray()[0];
  }

  private record(
    objectId: string,
    kind: PaymentKind,
    amount: number,
    status: string,
    receipt: string | null,
    opId: string | null,
    now: number,
    refunded = 0,
  ): void {
    this.m.core.sql.exec(
      `INSERT INTO payments (object_id, kind, amount, status, receipt_url, op_id, refunded, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (object_id) DO UPDATE SET amount = excluded.amount, status = excluded.status, refunded = excluded.refunded,
         receipt_url = COALESCE(excluded.receipt_url, receipt_url), op_id = COALESCE(excluded.op_id, op_id)`,
      objectId,
      kind,
      amount,
      status,
      receipt,
      opId,
      refunded,
      now,
    );
  }

  /** The one effect of a verified Stripe event (inside the event's transaction). */
  apply(e: StripeEffect, now: number): void {
    const b = this.m.current();
    switch (e.type) {
      case "credit": {
        let next = { ...b, auto: { ...b.auto } };
        if (e.card) next = { ...next, card: e.card, auto: { ...next.auto, paused_reason: null } };
        if (e.customer_id && !next.customer_id) next.customer_id = e.customer_id;
        if (e.kind === "auto_recharge" && e.seq !== undefined && next.auto.in_flight === e.seq) {
          next.auto = { ...next.auto, in_flight: null, claimed_at: null, failures: 0, last_error: null };
        }
        const prior = this.payment(e.object_id);
        if (!prior?.op_id) {
          // Both checkout.session.completed and payment_intent.succeeded name the PaymentIntent: one credit.
          const op = `stripe:${e.object_id}`;
          this.m.core.move(op, "card_credit", { deposits: e.amount }, e.amount, e.kind, now);
          this.record(e.object_id, e.kind, e.amount, "succeeded", e.receipt_url, op, now, prior?.refunded ?? 0);
          next.receivable = this.recover(e.object_id, next.receivable, now);
        }
        this.m.save(next);
        return;
      }
      case "grant": {
        if (this.payment(e.object_id)?.op_id) return;
        const amount = PLAN_DEFAULTS[e.plan].monthly_credit;
        const op = `stripe:${e.object_id}`;
        this.m.core.move(
          op,
          "plan_grant",
          { deposits: amount },
          amount,
          `${e.plan} plan credit (invoice ${e.object_id})`,
          now,
        );
        this.record(e.object_id, "grant", amount, "paid", e.receipt_url, op, now);
        const receivable = this.recover(e.object_id, b.receivable, now);
        if (b.ended.includes(e.subscription_id)) {
          this.m.save({ ...b, receivable });
          return;
        }
        this.m.core.setPlan(e.plan, PLAN_DEFAULTS[e.plan]);
        const sub: Subscription = {
          id: e.subscription_id,
          plan: e.plan,
          status: "active",
          period_end: e.period_end,
          cancel_at_period_end: b.subscription?.cancel_at_period_end ?? false,
        };
        this.m.save({ ...b, receivable, stripe_managed: true, subscription: sub });
        return;
      }
      case "refund": {
        const prior = this.payment(e.charge_id);
        const delta = e.amount_refunded - (prior?.refunded ?? 0);
        // amount_refunded is cumulative: an older event arriving late has nothing new to debit
        if (delta <= 0) return;
        this.reverse(`stripe:re:${e.charge_id}:${e.amount_refunded}`, "refund", delta, now);
        this.record(
          e.charge_id,
          "refund",
          e.amount_refunded,
          "refunded",
          null,
          `stripe:re:${e.charge_id}:${e.amount_refunded}`,
          now,
          e.amount_refunded,
        );
        return;
      }
      case "dispute": {
        if (this.payment(e.object_id)) return;
        this.reverse(`stripe:${e.object_id}`, "dispute", e.amount, now);
        this.record(e.object_id, "dispute", e.amount, "disputed", null, `stripe:${e.object_id}`, now);
        return;
      }
      case "subscription": {
        const s = e.subscription;
        const ending = ENDING.has(s.status);
        const ended = ending && !b.ended.includes(s.id) ? [...b.ended, s.id] : b.ended;
        const current = !b.subscription || b.subscription.id === s.id;
        if (ending && current) {
          // Back to free at the period's end (Stripe ends the subscription then); the credit stays.
          this.m.core.setPlan("free", PLAN_DEFAULTS.free);
          this.m.save({ ...b, ended, stripe_managed: false, subscription: { ...s, plan: s.plan } });
          return;
        }
        if (current && !b.ended.includes(s.id)) {
          this.m.save({ ...b, ended, subscription: { ...s, plan: b.subscription?.plan ?? s.plan } });
          return;
        }
        this.m.save({ ...b, ended });
        return;
      }
      case "payment_failed":
        if (e.seq !== undefined) this.m.fail(e.seq, e.code, e.message);
        return;
      case "none":
        return;
    }
  }

  /** Takes back what is still available; the rest is owed (recovered from later payments) and the account flagged. */
  private reverse(op: string, kind: "refund" | "dispute", amount: number, now: number): void {
    const take = Math.min(amount, this.m.core.available());
    if (take > 0) this.m.core.move(op, kind, { spent: take }, take, `${kind} of ${amount}`, now);
    const b = this.m.current();
    const auto = kind === "dispute" ? { ...b.auto, paused_reason: "a payment was disputed" } : b.auto;
    this.m.save({
      ...b,
      auto,
      receivable: b.receivable + amount - take,
      flagged: b.flagged ?? `${kind}: ${amount} micro-USD reversed, ${amount - take} owed`,
    });
  }

  private recover(objectId: string, receivable: number, now: number): number {
    const take = Math.min(receivable, this.m.core.available());
    if (take <= 0) return receivable;
    this.m.core.move(
      `stripe:recover:${objectId}`,
      "recovery",
      { spent: take },
      take,
      "recovered a reversed payment",
      now,
    );
    return receivable - take;
  }
}
