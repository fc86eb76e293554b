import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

export const providers = sqliteTable(
  "providers",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    /** the provider's share of each settled charge, in basis points */
    revenueShareBp: integer("revenue_share_bp").notNull().default(8000),
    /** GPU classes this provider's agents may register with, set by an admin */
    gpuClasses: text("gpu_classes", { mode: "json" }).$type<string[]>(),
    /** where the provider's console sign-in link goes (lower case); null until an operator sets it */
    email: text("email"),
  },
  (t) => [uniqueIndex("providers_email").on(t.email)],
);

export const agentTokens = sqliteTable(
  "agent_tokens",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id")
      .notNull()
      .references(() => providers.id),
    hash: text("hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("agent_tokens_hash").on(t.hash)],
);

export const agents = sqliteTable(
  "agents",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id")
      .notNull()
      .references(() => providers.id),
    tokenId: text("token_id")
      .notNull()
      .references(() => agentTokens.id),
    name: text("name").notNull(),
    version: text("version").notNull(),
    gpuClass: text("gpu_class").notNull(),
    gpus: text("gpus", { mode: "json" }).notNull(),
    runtimes: text("runtimes", { mode: "json" }).$type<string[]>().notNull(),
    models: text("models", { mode: "json" }).$type<string[]>().notNull(),
    slots: integer("slots").notNull(),
    registeredAt: integer("registered_at").notNull(),
    /** GPUs one job runs on, accepted at registration: what the broker bills, whatever a completion claims */
    gpuCount: integer("gpu_count").notNull().default(1),
    /** completions refused for claiming another GPU class or count */
    rejectedCompletions: integer("rejected_completions").notNull().default(0),
    /** jobs this agent failed as invalid input although the platform's validation had accepted the input */
    inputRejections: integer("input_rejections").notNull().default(0),
    deregisteredAt: integer("deregistered_at"),
  },
  (t) => [index("agents_token").on(t.tokenId)],
);

/** Provider login keys (earnings and statements), separate from agent tokens; SHA-256 at rest. */
export const providerKeys = sqliteTable(
  "provider_keys",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id")
      .notNull()
      .references(() => providers.id),
    hash: text("hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("provider_keys_hash").on(t.hash)],
);
