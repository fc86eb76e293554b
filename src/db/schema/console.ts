import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** Console sign-in links: only the token's SHA-256 is kept; single use, short-lived. */
export const consoleMagicLinks = sqliteTable(
  "console_magic_links",
  {
    tokenHash: text("token_hash").primaryKey(),
    email: text("email").notNull(),
    ipHash: text("ip_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [
    index("console_magic_links_email").on(t.email, t.createdAt),
    index("console_magic_links_ip").on(t.ipHash, t.createdAt),
  ],
);

/** Console browser sessions, keyed by the SHA-256 of the cookie's value. */
export const consoleSessions = sqliteTable(
  "console_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("console_sessions_account").on(t.accountId)],
);
