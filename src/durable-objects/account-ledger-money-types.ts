import type { Plan, PlanLimits } from "../../schemas/index.ts";

/** Types and constants of the payments module of the AccountLedger (account-ledger-money.ts). */

/** What the payments module needs from the ledger: its SQL, transactions, balances and journal. */
export interface MoneyCore {
  sql: SqlStorage;
  /** a transaction; on a throw the ledger rolls back and rebuilds its memory from SQLite */
  tx<T>(fn: () => T): T;
  ensure(accountId: string, plan: Plan): void;
  available(): number;
  plan(): Plan;
  /** a journal entry and the balance change it carries (inside `tx`) */
  move(
    opId: string,
    kind: string,
    delta: { deposits?: number; spent?: number },
    amount: number,
    reason: string,
    now: number,
  ): void;
  setPlan(plan: Plan, limits: PlanLimits): void;
}

export interface Card {
  payment_method: string;
  brand: string;
  last4: string;
}
export interface AutoRecharge {
  enabled: boolean;
  threshold: number;
  amount: number;
  /** the sequence of the last charge attempt: its idempotency key is `auto-recharge:{account}:{seq}` */
  seq: number;
  in_flight: number | null;
  claimed_at: number | null;
  failures: number;
  last_error: string | null;
  disabled_reason: string | null;
  /** off-session authentication was required: paused until the card is used on-session again */
  paused_reason: string | null;
}
export interface Subscription {
  id: string;
  plan: Plan;
  status: string;
  period_end: number | null;
  cancel_at_period_end: boolean;
}
export interface BillingState {
  customer_id: string | null;
  card: Card | null;
  subscription: Subscription | null;
  /** subscriptions Stripe ended: a late invoice of one of them grants its credit but never restores the plan */
  ended: string[];
  /** a Stripe subscription grants the monthly credit (per invoice), not the cron */
  stripe_managed: boolean;
  auto: AutoRecharge;
  flagged: string | null;
  /** refunded or disputed money that was already spent: recovered from the next payments */
  receivable: number;
}
export interface AutoRechargeClaim {
  account_id: string;
  seq: number;
  amount: number;
  customer_id: string;
  payment_method: string;
}

/** A verified Stripe event, reduced to the one effect it has on this account. */
export type StripeEffect =
  | {
      type: "credit";
      object_id: string;
      amount: number;
      kind: "card" | "auto_recharge";
      receipt_url: string | null;
      seq?: number;
      card?: Card;
      customer_id?: string;
    }
  | {
      type: "grant";
      object_id: string;
      plan: Plan;
      subscription_id: string;
      period_end: number | null;
      receipt_url: string | null;
    }
  | { type: "refund"; charge_id: string; amount_refunded: number }
  | { type: "dispute"; object_id: string; amount: number }
  | { type: "subscription"; subscription: Subscription }
  | { type: "payment_failed"; object_id: string; seq?: number; code: string; message: string }
  | { type: "none" };

export interface EffectResult {
  applied: boolean;
  plan: Plan;
  available: number;
  claim: AutoRechargeClaim | null;
}

/** A claimed charge that did not answer within this long is issued again under the same idempotency key. */
export const STALE_CLAIM_MS = 15 * 60_000;
export const MAX_FAILURES = 3;
export const ENDING = new Set(["canceled", "unpaid", "incomplete_expired"]);

export const fresh = (): BillingState => ({
  customer_id: null,
  card: null,
  subscription: null,
  ended: [],
  stripe_managed: false,
  flagged: null,
  receivable: 0,
  auto: {
    enabled: false,
    threshold: 0,
    amount: 0,
    seq: 0,
    in_flight: null,
    claimed_at: null,
    failures: 0,
    last_error: null,
    disabled_reason: null,
    paused_reason: null,
  },
});
