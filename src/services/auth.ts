import { and, eq, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { db } from "../db/client.ts";
import { accounts, agentTokens, apiKeys } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import { safeEqual, sha256Hex } from "./crypto.ts";
import { agentTokenCacheKey, apiKeyCacheKey, planCacheKey } from "./cache-keys.ts";
import { cached } from "./edge-cache.ts";
import type { Plan } from "../../schemas/index.ts";

export type { AuthedAccount, AuthedAgent } from "./auth-types.ts";

function presented(c: { req: { header(n: string): string | undefined } }): string | undefined {
  const key = c.req.header("x-api-key");
  if (key) return key.trim();
  const auth = c.req.header("authorization");
  const m = auth?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}

export { agentRowCacheKey, agentTokenCacheKey, apiKeyCacheKey, planCacheKey } from "./cache-keys.ts";

/**
 * API key → account. Keys are looked up by their SHA-256 hash and compared again in constant time, through the edge
 * cache (services/edge-cache.ts): a revoked key or a changed plan is seen within SHARED_TTL_MS (30 s) everywhere,
 * and at once in the isolate and colo that made the change.
 */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = presented(c);
  if (!key) throw new ApiError("unauthenticated", "missing API key: send x-api-key or Authorization: Bearer");
  const hash = await sha256Hex(key);
  const row = await cached(apiKeyCacheKey(hash), () =>
    db(c.env)
      .select({ keyId: apiKeys.id, hash: apiKeys.hash, accountId: apiKeys.accountId })
      .from(apiKeys)
      .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
      .get()
      .then((r) => r ?? null),
  );
  if (!row || !safeEqual(row.hash, hash)) throw new ApiError("unauthenticated", "invalid or revoked API key");
  const plan = await cached(planCacheKey(row.accountId), () =>
    db(c.env)
      .select({ plan: accounts.plan })
      .from(accounts)
      .where(eq(accounts.id, row.accountId))
      .get()
      .then((r) => r?.plan ?? null),
  );
  if (!plan) throw new ApiError("unauthenticated", "invalid or revoked API key");
  c.set("account", { id: row.accountId, plan: plan as Plan, keyId: row.keyId });
  touchKey(c, row.keyId);
  await next();
};

/** When this isolate last wrote each key's "last used" time. */
const touched = new Map<string, number>();

/** "Last used" for the console's key list: at most one D1 write a minute per key, off the response path. */
function touchKey(c: Parameters<MiddlewareHandler<AppEnv>>[0], keyId: string) {
  const now = Date.now();
  const last = touched.get(keyId);
  if (last !== undefined && now - last < 60_000) return;
  touched.set(keyId, now);
  if (touched.size > 5_000) touched.delete(touched.keys().next().value!);
  const write = db(c.env)
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(eq(apiKeys.id, keyId))
    .run()
    .catch(() => undefined);
  try {
    c.executionCtx.waitUntil(write);
  } catch {
    // no execution context (some test harnesses): the write still runs, just not awaited
  }
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.get("cfg").ADMIN_TOKEN;
  const got = presented(c);
  if (!expected) throw new ApiError("forbidden", "admin API disabled: ADMIN_TOKEN is not set");
  if (!got || !safeEqual(got, expected)) throw new ApiError("unauthenticated", "invalid admin token");
  await next();
};

/** Agent token → provider, through the edge cache with the same bound as API keys. */
export const requireAgentToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = presented(c);
  if (!token) throw new ApiError("unauthenticated", "missing agent token");
  const hash = await sha256Hex(token);
  const row = await cached(agentTokenCacheKey(hash), () =>
    db(c.env)
      .select({ id: agentTokens.id, hash: agentTokens.hash, providerId: agentTokens.providerId })
      .from(agentTokens)
      .where(and(eq(agentTokens.hash, hash), isNull(agentTokens.revokedAt)))
      .get()
      .then((r) => r ?? null),
  );
  if (!row || !safeEqual(row.hash, hash)) throw new ApiError("unauthenticated", "invalid or revoked agent token");
  c.set("agent", { tokenId: row.id, providerId: row.providerId });
  await next();
};
