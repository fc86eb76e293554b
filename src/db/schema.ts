import { sqliteTable, text, integer, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";

/** D1 holds what is read broadly and changes rarely. Money lives in the AccountLedger DO, jobs in the JobBroker DO. */

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
  /** an operator's override of the manifest's moderation policy; null: the manifest's */
  moderation: text("moderation"),
});

/** One row per request: ownership and routing (which pool holds the job), then a projection of its outcome. */
export const requests = sqliteTable(
  "requests",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
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
    /** when retention deleted the request's files from R2 */
    filesDeletedAt: integer("files_deleted_at"),
  },
  (t) => [
    uniqueIndex("requests_idempotency").on(t.accountId, t.idempotencyKey),
    index("requests_account_created").on(t.accountId, t.createdAt),
    index("requests_completed").on(t.completedAt),
    index("requests_model_status").on(t.model, t.status, t.completedAt),
  ],
);

/** An account's private ComfyUI model: its graph, the mapping of request fields to node inputs, what it needs. */
export const customModels = sqliteTable(
  "custom_models",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull(),
    workflow: text("workflow", { mode: "json" }).notNull(),
    inputs: text("inputs", { mode: "json" }).notNull(),
    inputSchema: text("input_schema", { mode: "json" }).notNull(),
    outputType: text("output_type").notNull(),
    gpuClasses: text("gpu_classes", { mode: "json" }).$type<string[]>().notNull(),
    pricing: text("pricing", { mode: "json" }).notNull(),
    /** custom node types and model files an agent must declare to run the graph */
    requires: text("requires", { mode: "json" }).notNull(),
    maxExecutionS: integer("max_execution_s").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("custom_models_account_slug").on(t.accountId, t.slug)],
);
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
/** The webhook delivery log: one row per webhook message (webhook-id), with a summary of its latest attempt. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    requestId: text("request_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    url: text("url").notNull(),
    /** pending | retrying | succeeded | failed (retries exhausted) */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    nextRetryAt: integer("next_retry_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_webhook_id").on(t.webhookId),
    index("webhook_deliveries_account_created").on(t.accountId, t.createdAt, t.id),
    index("webhook_deliveries_account_request").on(t.accountId, t.requestId),
  ],
);

/** Each attempt at a delivery: what the receiver answered (or the error), how long it took, when the next one is. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: integer("attempt").notNull(),
    redelivery: integer("redelivery", { mode: "boolean" }).notNull().default(false),
    startedAt: integer("started_at").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    nextRetryAt: integer("next_retry_at"),
  },
  (t) => [uniqueIndex("webhook_attempts_delivery_attempt").on(t.deliveryId, t.attempt)],
);

/** The signing secret an account rotated away from; deliveries are signed with it too until `expiresAt`. */
export const webhookPreviousSecrets = sqliteTable("webhook_previous_secrets", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id),
  secret: text("secret").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/** A workflow: its editable draft (revision `draftRev` is its ETag) and identity; versions are immutable rows. */
export const workflows = sqliteTable(
  "workflows",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    draft: text("draft", { mode: "json" }).notNull(),
    draftRev: integer("draft_rev").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    archivedAt: integer("archived_at"),
  },
  (t) => [uniqueIndex("workflows_account_slug").on(t.accountId, t.slug)],
);

export const workflowVersions = sqliteTable(
  "workflow_versions",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    version: integer("version").notNull(),
    definition: text("definition", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

export const workflowAliases = sqliteTable(
  "workflow_aliases",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    alias: text("alias").notNull(),
    version: integer("version").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.alias] })],
);

/** One row per workflow run: ownership, idempotency, and a projection of its outcome (the run's DO is the truth). */
export const workflowRuns = sqliteTable(
  "workflow_runs",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    workflowId: text("workflow_id").notNull(),
    slug: text("slug").notNull(),
    version: integer("version").notNull(),
    mode: text("mode").notNull(),
    status: text("status").notNull(),
    idempotencyKey: text("idempotency_key"),
    bodyHash: text("body_hash"),
    webhookUrl: text("webhook_url"),
    baseUrl: text("base_url").notNull(),
    createdAt: integer("created_at").notNull(),
    completedAt: integer("completed_at"),
    charge: integer("charge"),
  },
  (t) => [
    uniqueIndex("workflow_runs_idempotency").on(t.accountId, t.idempotencyKey),
    index("workflow_runs_account_created").on(t.accountId, t.createdAt),
  ],
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

/** Dedicated endpoints (listing and ownership; the Endpoint Durable Object holds instances, metering and money). */
export const endpoints = sqliteTable(
  "endpoints",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    model: text("model").notNull(),
    gpuClass: text("gpu_class").notNull(),
    pricePerHour: integer("price_per_hour").notNull(),
    state: text("state").notNull(),
    createdAt: integer("created_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("endpoints_account_created").on(t.accountId, t.createdAt)],
);

/** Agents opted in to dedicated work; `endpointId` is the exclusive reservation (one endpoint at most). */
export const dedicatedAgents = sqliteTable("dedicated_agents", {
  agentId: text("agent_id")
    .primaryKey()
    .references(() => agents.id),
  gpuClass: text("gpu_class").notNull(),
  models: text("models", { mode: "json" }).$type<string[]>().notNull(),
  lastSeen: integer("last_seen").notNull(),
  endpointId: text("endpoint_id"),
  epoch: integer("epoch").notNull().default(0),
  reservedAt: integer("reserved_at"),
});
