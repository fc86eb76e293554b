import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { accountForKey, providerForKey, providerForToken, touchKey } from "../services/auth.ts";
import { safeEqual } from "../services/crypto.ts";

/** The credential a request presents: `x-api-key`, or `Authorization: Bearer`. */
function presented(c: { req: { header(n: string): string | undefined } }): string | undefined {
  const key = c.req.header("x-api-key");
  if (key) return key.trim();
  const auth = c.req.header("authorization");
  const m = auth?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}

/** `auth: "api_key"` routes: the key's account on `c.var.account` (services/auth.ts says how revocation propagates). */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = presented(c);
  if (!key) throw new ApiError("unauthenticated", "missing API key: send x-api-key or Authorization: Bearer");
  const account = await accountForKey(c.env, key);
  if (!account) throw new ApiError("unauthenticated", "invalid or revoked API key");
  c.set("account", account);
  const write = touchKey(c.env, account.keyId);
  if (write) c.var.services.background(write);
  await next();
};

/** `auth: "admin"` routes: the operator's token from ADMIN_TOKEN, compared in constant time. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.get("cfg").ADMIN_TOKEN;
  const got = presented(c);
  if (!expected) throw new ApiError("forbidden", "admin API disabled: ADMIN_TOKEN is not set");
  if (!got || !safeEqual(got, expected)) throw new ApiError("unauthenticated", "invalid admin token");
  await next();
};

/** `auth: "agent"` routes: the provider the agent token names, on `c.var.agent`. */
export const requireAgentToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = presented(c);
  if (!token) throw new ApiError("unauthenticated", "missing agent token");
  const agent = await providerForToken(c.env, token);
  if (!agent) throw new ApiError("unauthenticated", "invalid or revoked agent token");
  c.set("agent", agent);
  await next();
};

/** `auth: "provider"` routes: the provider a provider key (`pk_…`) names, on `c.var.provider`. */
export const requireProviderKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = presented(c);
  if (!key) throw new ApiError("unauthenticated", "missing provider key: send x-api-key or Authorization: Bearer");
  const provider = await providerForKey(c.env, key);
  if (!provider) throw new ApiError("unauthenticated", "invalid or revoked provider key");
  c.set("provider", provider);
  await next();
};
