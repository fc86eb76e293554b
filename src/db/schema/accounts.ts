import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    plan: text("plan").notNull(),
    webhookSecret: text("webhook_secret").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("accounts_email").on(t.email)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name"),
    /** SHA-256 hex of the key; the key itself is shown once and never stored */
    hash: text("hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
    /** written by API-key auth at most once a minute per key */
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_account").on(t.accountId)],
);

/** Stripe customer → account, for webhooks that carry no account metadata. */
export const billingCustomers = sqliteTable(
  "billing_customers",
  {
    customerId: text("customer_id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("billing_customers_account").on(t.accountId)],
);
