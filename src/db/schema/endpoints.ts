import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";
import { agents } from "./providers.ts";

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
