import { PLAN_DEFAULTS, type Plan } from "../../schemas/index.ts";
import { MONEY_TABLES, type PaymentKind, type PaymentRow } from "./account-ledger-money-sql.ts";
import {
  ENDING,
  fresh,
  MAX_FAILURES,
  STALE_CLAIM_MS,
  type AutoRecharge,
  type AutoRechargeClaim,
  type BillingState,
  type EffectResult,
  type MoneyCore,
  type StripeEffect,
  type Subscription,
} from "./account-ledger-money-types.ts";

export type * from "./account-ledger-money-types.ts";

/**
 * Card payments, plan grants, refunds, disputes and auto-recharge of one account, as AccountLedger state transitions:
 * each Stripe event applies once (its id recorded in its effect's transaction), each effect idempotent by object id.
 */
export class LedgerMoney {
  private b: BillingState = fresh();

  constructor(private core: MoneyCore) {}

  migrate(): void {
    this.core.tx(() => MONEY_TABLES.forEach((q) => this.core.sql.exec(q)));
  }

  reload(): void {
    const row = this.core.sql.exec<{ data: string }>(`SELECT data FROM billing WHERE id = 1`).toArray()[0];
    this.b = row ? { ...fresh(), ...(JSON.parse(row.data) as BillingState) } : fresh();
  }

  state(): BillingState {
    return structuredClone(this.b);
  }

  /** Writes the billing state (inside a transaction); memory follows at once and is reloaded if the transaction fails. */
  private save(next: BillingState): void {
    this.core.sql.exec(
      `INSERT INTO billing (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
      JSON.stringify(next),
    );
    this.b = next;
  }

  setCustomer(accountId: string, plan: Plan, customerId: string): void {
    this.core.ensure(accountId, plan);
    if (this.b.customer_id === customerId) return;
    this.core.tx(() => this.save({ ...this.b, customer_id: customerId }));
  }

  payments(limit: number): PaymentRow[] {
    return this.core.sql.exec<PaymentRow>(`SELECT * FROM payments ORDER BY created_at DESC LIMIT ?`, limit).toArray();
  }

  apply(
    accountId: string,
    planHint: Plan,
    eventId: string,
    eventType: string,
    e: StripeEffect,
    now: number,
  ): EffectResult {
    this.core.ensure(accountId, planHint);
    const seen = this.core.sql.exec(`SELECT 1 FROM stripe_events WHERE id = ?`, eventId).toArray().length > 0;
    if (seen) return { applied: false, plan: this.core.plan(), available: this.core.available(), claim: null };
    const claim = this.core.tx(() => {
      this.core.sql.exec(`INSERT INTO stripe_events (id, type, received_at) VALUES (?, ?, ?)`, eventId, eventType, now);
      this.effect(e, now);
      // A reversal is a debit: it may take the balance below the threshold. A failed charge must not start another.
      return e.type === "refund" ? this.claim(accountId, now) : null;
    });
    return { applied: true, plan: this.core.plan(), available: this.core.available(), claim };
  }

  private payment(id: string): PaymentRow | undefined {
    return this.core.sql.exec<PaymentRow>(`SELECT * FROM payments WHERE object_id = ?`, id).toArray()[0];
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
    this.core.sql.exec(
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

  private effect(e: StripeEffect, now: number): void {
    const b = this.b;
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
          this.core.move(op, "card_credit", { deposits: e.amount }, e.amount, e.kind, now);
          this.record(e.object_id, e.kind, e.amount, "succeeded", e.receipt_url, op, now, prior?.refunded ?? 0);
          next.receivable = this.recover(e.object_id, next.receivable, now);
        }
        this.save(next);
        return;
      }
      case "grant": {
        if (this.payment(e.object_id)?.op_id) return;
        const amount = PLAN_DEFAULTS[e.plan].monthly_credit;
        const op = `stripe:${e.object_id}`;
        this.core.move(
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
          this.save({ ...b, receivable });
          return;
        }
        this.core.setPlan(e.plan, PLAN_DEFAULTS[e.plan]);
        const sub: Subscription = {
          id: e.subscription_id,
          plan: e.plan,
          status: "active",
          period_end: e.period_end,
          cancel_at_period_end: b.subscription?.cancel_at_period_end ?? false,
        };
        this.save({ ...b, receivable, stripe_managed: true, subscription: sub });
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
          this.core.setPlan("free", PLAN_DEFAULTS.free);
          this.save({ ...b, ended, stripe_managed: false, subscription: { ...s, plan: s.plan } });
          return;
        }
        if (current && !b.ended.includes(s.id)) {
          this.save({ ...b, ended, subscription: { ...s, plan: b.subscription?.plan ?? s.plan } });
          return;
        }
        this.save({ ...b, ended });
        return;
      }
      case "payment_failed":
        if (e.seq !== undefined) this.fail(e.seq, e.code, e.message);
        return;
      case "none":
        return;
    }
  }

  /** Takes back what is still available; the rest is owed (recovered from later payments) and the account flagged. */
  private reverse(op: string, kind: "refund" | "dispute", amount: number, now: number): void {
    const take = Math.min(amount, this.core.available());
    if (take > 0) this.core.move(op, kind, { spent: take }, take, `${kind} of ${amount}`, now);
    const b = this.b;
    const auto = kind === "dispute" ? { ...b.auto, paused_reason: "a payment was disputed" } : b.auto;
    this.save({
      ...b,
      auto,
      receivable: b.receivable + amount - take,
      flagged: b.flagged ?? `${kind}: ${amount} micro-USD reversed, ${amount - take} owed`,
    });
  }

  private recover(objectId: string, receivable: number, now: number): number {
    const take = Math.min(receivable, this.core.available());
    if (take <= 0) return receivable;
    this.core.move(
      `stripe:recover:${objectId}`,
      "recovery",
      { spent: take },
      take,
      "recovered a reversed payment",
      now,
    );
    return receivable - take;
  }

  /** Auto-recharge settings; turning it on while already below the threshold claims a charge at once. */
  configure(
    accountId: string,
    planHint: Plan,
    cfg: { enabled: boolean; threshold: number; amount: number },
    now: number,
  ): { ok: true; claim: AutoRechargeClaim | null } | { ok: false; message: string } {
    this.core.ensure(accountId, planHint);
    if (cfg.enabled && (!this.b.card || !this.b.customer_id))
      return { ok: false, message: "auto-recharge needs a saved card: make one payment through checkout first" };
    const auto: AutoRecharge = cfg.enabled
      ? { ...this.b.auto, ...cfg, failures: 0, disabled_reason: null, last_error: null }
      : { ...this.b.auto, enabled: false };
    const claim = this.core.tx(() => {
      this.save({ ...this.b, auto });
      return this.claim(accountId, now);
    });
    return { ok: true, claim };
  }

  /**
   * At most one charge in flight: when available credit is below the threshold and no charge is out, the next
   * sequence number is taken and returned to the caller, who creates the PaymentIntent under the key derived from it.
   * Runs inside the caller's transaction (a settle's or a debit's), so concurrent settles claim once.
   */
  claim(accountId: string, now: number): AutoRechargeClaim | null {
    const b = this.b;
    const a = b.auto;
    if (!this.due(now) || !b.card || !b.customer_id) return null;
    const seq = a.in_flight ?? a.seq + 1;
    this.save({ ...b, auto: { ...a, seq: Math.max(a.seq, seq), in_flight: seq, claimed_at: now } });
    return {
      account_id: accountId,
      seq,
      amount: a.amount,
      customer_id: b.customer_id,
      payment_method: b.card.payment_method,
    };
  }

  /** Whether a claim would be made now; reads memory only, so a settle pays nothing when auto-recharge is off. */
  due(now: number): boolean {
    const b = this.b;
    const a = b.auto;
    if (!a.enabled || a.paused_reason || b.flagged || !b.card || !b.customer_id) return false;
    if (this.core.available() >= a.threshold) return false;
    return a.in_flight === null || a.claimed_at === null || now - a.claimed_at >= STALE_CLAIM_MS;
  }

  /** The charge of `seq` failed: it is not retried; three in a row turn auto-recharge off, with the reason kept. */
  fail(seq: number, code: string, message: string): void {
    const a = this.b.auto;
    if (a.in_flight !== seq) return;
    const failures = a.failures + 1;
    const next: AutoRecharge = {
      ...a,
      in_flight: null,
      claimed_at: null,
      failures,
      last_error: `${code}: ${message}`,
      paused_reason:
        code === "authentication_required"
          ? "the bank asked for authentication: pay once on-session to resume"
          : a.paused_reason,
      ...(failures >= MAX_FAILURES
        ? { enabled: false, disabled_reason: `turned off after ${failures} failed charges in a row (last: ${code})` }
        : {}),
    };
    this.save({ ...this.b, auto: next });
  }
}
