import type { Hono, Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../context.ts";
import type { Config, Env } from "../env.ts";
import { SESSION_COOKIE, SessionService, csrfMatches, type ConsoleSession } from "./services/session.ts";

export type ConsoleEnv = { Bindings: Env; Variables: AppEnv["Variables"] & { session: ConsoleSession } };
export type CCtx = Context<ConsoleEnv>;
export type ConsoleApp = Hono<ConsoleEnv>;

const CSP_BASE = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "media-src 'self' blob: https:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
];

/**
 * Forms may go to ourselves and to the checkout host (a recharge form answers with a redirect to it, which
 * form-action governs too): Stripe's, or the local stand-in's origin when no real Stripe keys are configured.
 */
export function csp(cfg: Pick<Config, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE"> | undefined): string {
  const checkout = !cfg || cfg.STRIPE_SECRET_KEY ? "https://checkout.stripe.com" : new URL(cfg.STRIPE_API_BASE).origin;
  return [...CSP_BASE, `form-action 'self' ${checkout}`].join("; ");
}

/** Security headers on every console response; pages are per-user, so never cached by anyone else. */
export const securityHeaders: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  await next();
  c.header("content-security-policy", csp(c.get("cfg")));
  c.header("referrer-policy", "same-origin");
  c.header("x-content-type-options", "nosniff");
  c.header("x-frame-options", "DENY");
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
};

/** The __Host- cookie named in SESSION_COOKIE (hono adds the prefix). */
export function sessionCookie(c: CCtx): string | undefined {
  return getCookie(c, SESSION_COOKIE, "host");
}

/** Pages behind sign-in: a GET without a session goes to the sign-in page, anything else gets 401. */
export const requireSession: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const session = await new SessionService(c.env).read(sessionCookie(c));
  if (!session) {
    if (c.req.method === "GET") {
      const url = new URL(c.req.url);
      return c.redirect(`/console/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    return c.text("sign in first", 401);
  }
  c.set("session", session);
  await next();
};

/**
 * The per-session token, on top of hono/csrf's Origin / Sec-Fetch-Site check: every unsafe method must echo it as
 * the `_csrf` form field or the `x-csrf-token` header (htmx sends the header from the body's hx-headers).
 */
export const requireCsrfToken: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (["GET", "HEAD", "OPTIONS"].includes(c.req.method)) return next();
  const session = c.get("session");
  let presented = c.req.header("x-csrf-token");
  if (!presented) {
    const type = c.req.header("content-type") ?? "";
    if (/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
      const v = (await c.req.parseBody({ all: true }))._csrf;
      presented = typeof v === "string" ? v : undefined;
    }
  }
  if (!csrfMatches(session, presented)) return c.text("Forbidden: missing or wrong CSRF token", 403);
  await next();
};

/** A path to return to after sign-in: only this console's own pages. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console\/[A-Za-z0-9/_.?=&%-]*$/.test(next) && !next.startsWith("//") ? next : "/console/usage";
}

export function isHtmx(c: CCtx): boolean {
  return c.req.header("hx-request") === "true";
}
