import { sqliteTable, text, integer, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

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
