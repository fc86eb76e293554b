import { eq } from "drizzle-orm";
import { platformPaysProvider } from "../../../schemas/index.ts";
import { db } from "../../db/client.ts";
import { providers } from "../../db/schema.ts";
import type { Earner } from "../../durable-objects/account-ledger-earnings.ts";
import type { HoldOutcome } from "../../durable-objects/account-ledger.ts";
import type { Env } from "../../env.ts";
import { agentRow } from "../agent-rows.ts";
import { payments } from "./index.ts";
import { moneyLedger, providerLedger } from "./ledger.ts";
import { cached } from "../edge-cache.ts";

/** Who earns from a job run by `agentId`: its provider and that provider's revenue share (from the broker's lease). */
export const shareCacheKey = (providerId: string) => `share:${providerId}`;

export async function earnerFor(env: Env, agentId: string, model: string): Promise<Earner | null> {
  // Both from the edge cache: the agent's provider is fixed at registration, and a share change applies at once in
  // the isolate and colo that made it, elsewhere within the cache's 30 s bound.
  const agent = await agentRow(env, agentId);
  if (!agent) return null;
  const share = await cached(shareCacheKey(agent.providerId), () =>
    db(env)
      .select({ bp: providers.revenueShareBp })
      .from(providers)
      .where(eq(providers.id, agent.providerId))
      .get()
      .then((r) => r?.bp ?? null),
  );
  const row = share === null ? null : { providerId: agent.providerId, share };
  return row ? { provider_id: row.providerId, agent_id: agentId, share_bp: row.share, model } : null;
}

/** How a request ended, as far as its hold is concerned. */
export interface RequestEnd {
  status: string;
  reason?: string | null;
  gpu_ms: number | null;
  gpu_class: string | null;
}

/**
 * What follows a closed hold: an auto-recharge charge the settle claimed, and the provider's share delivered to the
 * provider's ledger. Both the agent's callback and the events queue get here, and every step is idempotent (the
 * charge by its key, the earning by its op id), so whichever runs second completes what the first could not.
 */
export async function afterClose(
  env: Env,
  accountId: string,
  requestId: string,
  r: HoldOutcome,
  o: RequestEnd,
  earner: Earner | null,
): Promise<void> {
  if (r.auto_recharge) await payments(env).autoRecharge(r.auto_recharge);
  if (!earner) return;
  const l = moneyLedger(env, accountId);
  if (r.status === "settled") {
    for (const split of await l.splitsOf(requestId))
      await providerLedger(env, split.provider_id).recordEarning(accountId, split);
  } else if (platformPaysProvider(o.reason) && o.gpu_ms && o.gpu_ms > 0) {
    const split = await l.platformPays(requestId, earner, o.gpu_ms, o.gpu_class);
    if (split) await providerLedger(env, split.provider_id).recordEarning(accountId, split);
  }
}
