import { eq } from "drizzle-orm";
import { db } from "../db/client.ts";
import { agents } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { agentRowCacheKey } from "./cache-keys.ts";
import { cached } from "./edge-cache.ts";

export type AgentRow = typeof agents.$inferSelect;

/**
 * An agent's row through the edge cache: what is read from it (token, provider, runtimes, models, GPU class and
 * count) is fixed at registration, so a cached copy is never stale in what matters; null for an unknown agent.
 */
export function agentRow(env: Pick<Env, "DB">, agentId: string): Promise<AgentRow | null> {
  return cached(agentRowCacheKey(agentId), () =>
    db(env)
      .select()
      .from(agents)
      .where(eq(agents.id, agentId))
      .get()
      .then((r) => r ?? null),
  );
}
