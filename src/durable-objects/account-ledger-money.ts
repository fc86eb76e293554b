import type { Plan } from "../../schemas/index.ts";
import type { PaymentRow } from "./account-ledger-money-sql.ts";
import {
  fresh,
  MAX_FAILURES,
  STALE_CLAIM_MS,
  type AutoRecharge,
  type AutoRechargeClaim,
  type BillingState,
  type EffectResult,
  type MoneyCore,
  type StripeEffect,
} from "./account-ledger-money-types.ts";
import { StripeEffects } from "./account-ledger-stripe.ts";

export type * from "./account-ledger-money-types.ts";

/**
 * Card payments, plan grants, refunds, disputes and auto-recharge of one account, as AccountLedger state transitions:
 * each Stripe event applies once (its id recorded in its effect's transaction), each effect idempotent by object id
 * (account-ledger-stripe.ts). The billing state is one JSON row, kept in memory.
 */
export class LedgerMoney {
  private b: BillingState = fresh();
  private effects: StripeEffects;

  /** `core` is a field of its own so that the payments simulation can inject faults into its transactions. */
  constructor(readonly core: MoneyCore) {
    this.effects = new StripeEffects(this);
  }

  reload(): void {
    const row = this.core.sql.exec<{ data: string }>(`SELECT data FROM billing WHERE id = 1`).toArray()[0];
    this.b = row ? { ...fresh(), ...(JSON.parse(row.data) as BillingState) } : fresh();
  }

  state(): BillingState {
    return structuredClone(this.b);
  }

  current(): BillingState {
    return this.b;
  }

  /** Writes the billing state (inside a transaction); memory follows at once and is reloaded if the transaction fails. */
  save(next: BillingState): void {
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
      this.effects.apply(e, now);
      // A reversal is a debit: it may take the balance below the threshold. A failed charge must not start another.
      return e.type === "refund" ? this.claim(accountId, now) : null;
    });
    return { applied: true, plan: this.core.plan(), available: this.core.available(), claim };
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
