import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

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
