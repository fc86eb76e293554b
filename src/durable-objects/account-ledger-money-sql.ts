/**
 * SQLite tables the AccountLedger adds for card payments and provider earnings, created on wake (idempotent).
 *
 * An account's object keeps the Stripe events it applied (deduplication by event id), its payments (one row per
 * Stripe object, so every effect is idempotent by object id), its billing state, and the earnings split of each
 * settled charge. A provider's earnings live in the AccountLedger named `provider:{id}`: `earnings` and `payouts`.
 */
export const MONEY_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    received_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS payments (
    object_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'auto_recharge', 'grant', 'refund', 'dispute', 'recovery')),
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    receipt_url TEXT,
    op_id TEXT,
    -- charges: the cumulative amount Stripe says was refunded, so each charge.refunded debits only its delta
    refunded INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS billing (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS splits (
    op_id TEXT PRIMARY KEY,
    hold_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    model TEXT NOT NULL,
    gpu_class TEXT,
    gpu_ms INTEGER NOT NULL,
    charge INTEGER NOT NULL CHECK (charge >= 0),
    earn INTEGER NOT NULL CHECK (earn >= 0),
    fee INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (charge = earn + fee)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS earnings (
    op_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('earning', 'platform_paid')),
    account_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    model TEXT NOT NULL,
    gpu_class TEXT,
    gpu_ms INTEGER NOT NULL,
    charge INTEGER NOT NULL,
    earn INTEGER NOT NULL CHECK (earn >= 0),
    day TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS earnings_day ON earnings(day)`,
  `CREATE TABLE IF NOT EXISTS payouts (
    op_id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL CHECK (amount > 0),
    reference TEXT,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
];

export type PaymentKind = "card" | "auto_recharge" | "grant" | "refund" | "dispute" | "recovery";

export type PaymentRow = {
  object_id: string;
  kind: PaymentKind;
  amount: number;
  status: string;
  receipt_url: string | null;
  op_id: string | null;
  refunded: number;
  created_at: number;
};

export type SplitRow = {
  op_id: string;
  hold_id: string;
  provider_id: string;
  agent_id: string;
  model: string;
  gpu_class: string | null;
  gpu_ms: number;
  charge: number;
  earn: number;
  fee: number;
  created_at: number;
};

export type EarningRow = {
  op_id: string;
  kind: "earning" | "platform_paid";
  account_id: string;
  agent_id: string;
  model: string;
  gpu_class: string | null;
  gpu_ms: number;
  charge: number;
  earn: number;
  day: string;
  created_at: number;
};
