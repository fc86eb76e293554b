import { sqliteTable, text, integer, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

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
