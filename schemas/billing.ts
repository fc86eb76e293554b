import { z } from "zod";

/**
 * Billing amounts a caller sends are USD cents, the unit a card is charged in (1 cent = 10,000 micro-USD on the
 * ledger). Balances and ledger movements stay micro-USD.
 */
export const Cents = z.number().int().positive().max(100_000_000);

/** A top-up: $10 minimum (Segmind's), $1,000 maximum per payment. */
export const CheckoutRequest = z.strictObject({
  amount: Cents.min(1_000, "the minimum top-up is $10 (1000 cents)").max(
    100_000,
    "the maximum top-up is $1,000 (100000 cents)",
  ),
});
export type CheckoutRequest = z.infer<typeof CheckoutRequest>;

export const CheckoutSession = z.object({ id: z.string(), url: z.url() });
export type CheckoutSession = z.infer<typeof CheckoutSession>;

export const SubscriptionRequest = z.strictObject({ plan: z.enum(["pro", "business"]) });
export type SubscriptionRequest = z.infer<typeof SubscriptionRequest>;

/** Auto-recharge: when available credit falls below `threshold`, charge the saved card `amount` (both cents). */
export const AutoRechargeRequest = z.strictObject({
  enabled: z.boolean(),
  threshold: Cents.min(500, "the threshold is at least $5 (500 cents)").max(100_000),
  amount: Cents.min(1_000, "the amount is at least $10 (1000 cents)").max(
    100_000,
    "the amount is at most $1,000 (100000 cents)",
  ),
});
export type AutoRechargeRequest = z.infer<typeof AutoRechargeRequest>;

export const Payment = z.object({
  object_id: z.string(),
  kind: z.enum(["card", "auto_recharge", "grant", "refund", "dispute", "recovery"]),
  /** micro-USD */
  amount: z.number().int(),
  status: z.string(),
  receipt_url: z.string().nullable(),
  /** the ledger operation this payment posted */
  ledger_op_id: z.string().nullable(),
  created_at: z.iso.datetime(),
});

export const BillingView = z.object({
  plan: z.string(),
  /** the subscription's current period end: its renewal (or, when cancelled, its end) */
  renews_at: z.iso.datetime().nullable(),
  subscription: z
    .object({ id: z.string(), plan: z.string(), status: z.string(), cancel_at_period_end: z.boolean() })
    .nullable(),
  card: z.object({ brand: z.string(), last4: z.string() }).nullable(),
  available: z.number().int(),
  auto_recharge: z.object({
    enabled: z.boolean(),
    threshold: z.number().int(),
    amount: z.number().int(),
    in_flight: z.boolean(),
    consecutive_failures: z.number().int(),
    last_error: z.string().nullable(),
    disabled_reason: z.string().nullable(),
    paused_reason: z.string().nullable(),
  }),
  /** why the account is flagged (a refund or dispute), and what it still owes from reversed payments (micro-USD) */
  flagged: z.string().nullable(),
  owed: z.number().int(),
  payments: z.array(Payment),
});
export type BillingView = z.infer<typeof BillingView>;

/** Where Checkout sends the browser back: `cancelled` when the payer cancelled (Stripe also adds session_id). */
export const BillingReturnQuery = z.object({
  cancelled: z
    .string()
    .optional()
    .meta({ description: "set when Checkout was cancelled", examples: ["1"] }),
});

export const WebhookAck = z.object({ received: z.literal(true), event_id: z.string(), applied: z.boolean() });

export const EarningsGroup = z.object({
  key: z.string(),
  earned: z.number().int(),
  jobs: z.number().int(),
  gpu_ms: z.number().int(),
});
export const EarningsView = z.object({
  provider_id: z.string(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  revenue_share_bp: z.number().int(),
  totals: z.object({
    earned: z.number().int(),
    platform_paid: z.number().int(),
    paid_out: z.number().int(),
    balance: z.number().int(),
    jobs: z.number().int(),
    gpu_ms: z.number().int(),
    charged: z.number().int(),
  }),
  by_agent: z.array(EarningsGroup),
  by_model: z.array(EarningsGroup),
  by_gpu_class: z.array(EarningsGroup),
  by_day: z.array(EarningsGroup),
});

/** The window of GET /v1/provider/earnings: ISO dates or instants (a plain `to` date covers that whole day). */
export const EarningsQuery = z.object({
  from: z
    .string()
    .optional()
    .meta({ description: "start (inclusive); default 30 days ago", examples: ["2026-11-30"] }),
  to: z
    .string()
    .optional()
    .meta({ description: "end (exclusive; a plain date includes that day); default now", examples: ["2026-12-02"] }),
});
export type EarningsQuery = z.infer<typeof EarningsQuery>;

export const StatementQuery = z.object({
  format: z
    .string()
    .optional()
    .meta({ description: "`csv` for a CSV file (as Accept: text/csv); JSON otherwise", examples: ["csv"] }),
});

export const ProviderAgent = z.object({
  id: z.string(),
  name: z.string(),
  gpu_class: z.string(),
  state: z.enum(["active", "revoked"]),
  registered_at: z.iso.datetime(),
  jobs: z.number().int(),
  gpu_seconds: z.number(),
  earned: z.number().int(),
});
export const ProviderAgents = z.object({ data: z.array(ProviderAgent) });

export const PayoutRequest = z.strictObject({
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  idempotency_key: z.string().min(1).max(200),
  reference: z.string().max(500).optional(),
});
export const PayoutResult = z.object({
  op_id: z.string(),
  amount: z.number().int(),
  balance: z.number().int(),
  replayed: z.boolean(),
});
export const RevenueShare = z.strictObject({ revenue_share_bp: z.number().int().min(0).max(10_000) });
