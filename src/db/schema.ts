import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";

/** D1 holds what is read broadly and changes rarely. Money lives in the AccountLedger DO, jobs in the JobBroker DO. */

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
  plan: text("plan").notNull(),
  webhookSecret: text("webhook_secret").notNull(),
  createdAt: integer("created_at").notNull(),
}, (t) => [uniqueIndex("accounts_email").on(t.email)]);

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id),
  name: text("name"),
  /** SHA-256 hex of the key; the key itself is shown once and never stored */
  hash: text("hash").notNull(),
  prefix: text("prefix").notNull(),
  createdAt: integer("created_at").notNull(),
  revokedAt: integer("revoked_at"),
}, (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_account").on(t.accountId)]);

export const providers = sqliteTable("providers", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
  /** GPU classes this provider's agents may register with, set by an admin */
  gpuClasses: text("gpu_classes", { mode: "json" }).$type<string[]>(),
});

export const agentTokens = sqliteTable("agent_tokens", {
  id: text("id").primaryKey(),
  providerId: text("provider_id").notNull().references(() => providers.id),
  hash: text("hash").notNull(),
  prefix: text("prefix").notNull(),
  createdAt: integer("created_at").notNull(),
  revokedAt: integer("revoked_at"),
}, (t) => [uniqueIndex("agent_tokens_hash").on(t.hash)]);

export const agents = sqliteTable("agents", {
  id: text("id").primaryKey(),
  providerId: text("provider_id").notNull().references(() => providers.id),
  tokenId: text("token_id").notNull().references(() => agentTokens.id),
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
}, (t) => [index("agents_token").on(t.tokenId)]);

export const models = sqliteTable("models", {
  slug: text("slug").primaryKey(),
  name: text("name").notNull(),
  category: text("category").notNull(),
  description: text("description").notNull(),
  inputSchema: text("input_schema", { mode: "json" }).notNull(),
  outputType: text("output_type").notNull(),
  runtime: text("runtime").notNull(),
  gpuClasses: text("gpu_classes", { mode: "json" }).$type<string[]>().notNull(),
  pricing: text("pricing", { mode: "json" }).notNull(),
  free: integer("free", { mode: "boolean" }).notNull(),
  pool: text("pool").notNull(),
  maxExecutionS: integer("max_execution_s").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  updatedAt: integer("updated_at").notNull(),
});

/** One row per request: ownership and routing (which pool holds the job), then a projection of its outcome. */
export const requests = sqliteTable("requests", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id),
  model: text("model").notNull(),
  pool: text("pool").notNull(),
  mode: text("mode").notNull(),
  status: text("status").notNull(),
  idempotencyKey: text("idempotency_key"),
  bodyHash: text("body_hash"),
  webhookUrl: text("webhook_url"),
  /** the origin the request came in on, for URLs in webhook bodies */
  baseUrl: text("base_url").notNull(),
  createdAt: integer("created_at").notNull(),
  completedAt: integer("completed_at"),
  gpuMs: integer("gpu_ms"),
  gpuClass: text("gpu_class"),
  errorKind: text("error_kind"),
  /** micro-USD charged, projected from the ledger */
  cost: integer("cost"),
}, (t) => [
  uniqueIndex("requests_idempotency").on(t.accountId, t.idempotencyKey),
  index("requests_account_created").on(t.accountId, t.createdAt),
]);
