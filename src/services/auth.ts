import { and, eq, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app.ts";
import { db } from "../db/client.ts";
import { accounts, agentTokens, apiKeys } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import { safeEqual, sha256Hex } from "./crypto.ts";
import type { Plan } from "../../schemas/index.ts";

export interface AuthedAccount {
  id: string;
  plan: Plan;
  keyId: string;
}
export interface AuthedAgent {
  tokenId: string;
  providerId: string;
}

function presented(c: { req: { header(n: string): string | undefined } }): string | undefined {
  const key = c.req.header("x-api-key");
  if (key) return key.trim();
  const auth = c.req.header("authorization");
  const m = auth?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}

/** API key → account. Keys are looked up by their SHA-256 hash and compared again in constant time. */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = presented(c);
  if (!key) throw new ApiError("unauthenticated", "missing API key: send x-api-key or Authorization: Bearer");
  const hash = await sha256Hex(key);
  const row = await db(c.env)
    .select({ keyId: apiKeys.id, hash: apiKeys.hash, accountId: accounts.id, plan: accounts.plan, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
    .get();
  if (!row || !safeEqual(row.hash, hash)) throw new ApiError("unauthenticated", "invalid or revoked API key");
  c.set("account", { id: row.accountId, plan: row.plan as Plan, keyId: row.keyId });
  touchKey(c, row.keyId, row.lastUsedAt);
  await next();
};

/** "Last used" for the console's key list: at most one D1 write a minute per key, off the response path. */
function touchKey(c: Parameters<MiddlewareHandler<AppEnv>>[0], keyId: string, lastUsedAt: number | null) {
  const now = Date.now();
  if (lastUsedAt !== null && now - lastUsedAt < 60_000) return;
  const write = db(c.env).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId)).run().catch(() => undefined);
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

export const requireAgentToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = presented(c);
  if (!token) throw new ApiError("unauthenticated", "missing agent token");
  const hash = await sha256Hex(token);
  const row = await db(c.env).select().from(agentTokens).where(and(eq(agentTokens.hash, hash), isNull(agentTokens.revokedAt))).get();
  if (!row || !safeEqual(row.hash, hash)) throw new ApiError("unauthenticated", "invalid or revoked agent token");
  c.set("agent", { tokenId: row.id, providerId: row.providerId });
  await next();
};
