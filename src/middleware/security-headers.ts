import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";

/**
 * Headers every API response carries: nothing is sniffed, framed or sent a referrer, and in production browsers
 * keep to https. A route that sets its own (output files set a stricter Content-Security-Policy) keeps its value.
 */
export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  // Responses from bindings (static assets, R2 bodies passed through) can carry immutable headers: copy those first.
  try {
    c.res.headers.set("x-content-type-options", "nosniff");
  } catch {
    c.res = new Response(c.res.body, c.res);
  }
  const set = (k: string, v: string) => {
    if (!c.res.headers.has(k)) c.res.headers.set(k, v);
  };
  set("x-content-type-options", "nosniff");
  set("referrer-policy", "no-referrer");
  set("x-frame-options", "DENY");
  set("content-security-policy", "frame-ancestors 'none'");
  const production = c.get("cfg")?.ENVIRONMENT === "production";
  if (production) set("strict-transport-security", "max-age=31536000; includeSubDomains");
};
