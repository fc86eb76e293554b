import { and, eq, isNull } from "drizzle-orm";
import type { Plan } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { accounts, agentTokens, apiKeys, providerKeys } from "../db/schema.ts";
import type { Env } from "../env.ts";
import type { AuthedAccount, AuthedAgent, AuthedProvider } from "./auth-types.ts";
import { safeEqual, sha256Hex } from "./crypto.ts";
import { agentTokenCacheKey, apiKeyCacheKey, planCacheKey } from "./cache-keys.ts";
import { cached } from "./edge-cache.ts";

export type { AuthedAccount, AuthedAgent, AuthedProvider } from "./auth-types.ts";

export { agentRowCacheKey, agentTokenCacheKey, apiKeyCacheKey, planCacheKey } from "./cache-keys.ts";

/**
 * API key → account. Keys are looked up by their SHA-256 hash and compared again in constant time, through the edge
 * cache (services/edge-cache.ts): a revoked key or a changed plan is seen within SHARED_TTL_MS (30 s) everywhere,
 * and at once in the isolate and colo that made the change. Null for an unknown or revoked key.
 */
export async function accountForKey(env: Env, key: string): Promise<AuthedAccount | null> {
  const hash = await sha256Hex(key);
  const row = await cached(apiKeyCacheKey(hash), () =>
    db(env)
      .select({ keyId: apiKeys.id, hash: apiKeys.hash, accountId: apiKeys.accountId })
      .from(apiKeys)
      .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
      .get()
      .then((r) => r ?? null),
  );
  if (!row || !safeEqual(row.hash, hash)) return null;
  const plan = await cached(planCacheKey(row.accountId), () =>
    db(env)
      .select({ plan: accounts.plan })
      .from(accounts)
      .where(eq(accounts.id, row.accountId))
      .get()
      .then((r) => r?.plan ?? null),
  );
  if (!plan) return null;
  return { id: row.accountId, plan: plan as Plan, keyId: row.keyId };
}

/** When this isolate last wrote each key's "last used" time. */
const touched = new Map<string, number>();

/** "Last used" for the console's key list: at most one D1 write a minute per key; returns the write, if any. */
export function touchKey(env: Env, keyId: string): Promise<unknown> | null {
  const now = Date.now();
  const last = touched.get(keyId);
  if (last !== undefined && now - last < 60_000) return null;
  touched.set(keyId, now);
  if (touched.size > 5_000) touched.delete(touched.keys().next().value as string);
  return db(env).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId)).run();
}

/** Agent token → provider, through the edge cache with the same bound as API keys. Null for unknown or revoked. */
export async function providerForToken(env: Env, token: string): Promise<AuthedAgent | null> {
  const hash = await sha256Hex(token);
  const row = await cached(agentTokenCacheKey(hash), () =>
    db(env)
      .select({ id: agentTokens.id, hash: agentTokens.hash, providerId: agentTokens.providerId })
      .from(agentTokens)
      .where(and(eq(agentTokens.hash, hash), isNull(agentTokens.revokedAt)))
      .get()
      .then((r) => r ?? null),
  );
  if (!row || !safeEqual(row.hash, hash)) return null;
  return { tokenId: row.id, providerId: row.providerId };
}

/**
 * A provider login key (`pk_…`, SHA-256 at rest) → the provider it belongs to. Read from D1 on each call: the provider
 * API is not on a hot path, and a revoked key stops at once. Null for an unknown or revoked key.
 */
export async function providerForKey(env: Env, key: string): Promise<AuthedProvider | null> {
  const hash = await sha256Hex(key);
  const row = await db(env)
    .select()
    .from(providerKeys)
    .where(and(eq(providerKeys.hash, hash), isNull(providerKeys.revokedAt)))
    .get();
  if (!row || !safeEqual(row.hash, hash)) return null;
  return { id: row.providerId };
}
