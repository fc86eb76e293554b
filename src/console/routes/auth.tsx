/** @jsxImportSource hono/jsx */
import { deleteCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { baseUrl } from "../../services/urls.ts";
import { requireCsrfToken, requireSession, safeNext, sessionCookie, type CCtx, type ConsoleApp } from "../app.ts";
import { CheckEmailPage, ConfirmPage, SignInPage } from "../pages/signin.tsx";
import { ErrorPage } from "../pages/simple.tsx";
import { SESSION_COOKIE, SESSION_TTL_MS } from "../services/session.ts";

const Email = z.email().max(254);
const str = (v: unknown) => (typeof v === "string" ? v : "");

const links = (c: CCtx) => c.var.services.console.magicLinks;
const sessions = (c: CCtx) => c.var.services.console.sessions;

export function registerAuth(app: ConsoleApp) {
  app.get("/sign-in", async (c) => {
    if (await sessions(c).read(sessionCookie(c))) return c.redirect(safeNext(c.req.query("next")), 303);
    return c.html(<SignInPage next={c.req.query("next")} />);
  });

  app.post("/sign-in", async (c) => {
    const body = await c.req.parseBody();
    const raw = str(body.email).trim().toLowerCase();
    const parsed = Email.safeParse(raw);
    if (!parsed.success)
      return c.html(<SignInPage error="Enter a valid email address." email={raw} next={str(body.next)} />, 400);
    const ip = c.req.header("cf-connecting-ip") ?? "local";
    const next = safeNext(str(body.next));
    const r = await links(c).request(parsed.data, ip, baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url), next);
    if (!r.ok) {
      c.header("retry-after", "600");
      return c.html(
        <ErrorPage
          status={429}
          title="Too many sign-in requests"
          message="Too many links were asked for from your network; try again in 10 minutes."
        />,
        429,
      );
    }
    // The same page whatever happened: a known address, an unknown one, or one over its limit.
    return c.html(<CheckEmailPage email={parsed.data} />);
  });

  app.get("/auth/verify", async (c) => {
    const token = c.req.query("t") ?? "";
    const email = await links(c).peek(token);
    // The token must not leak through Referer to anything this page links to.
    c.header("referrer-policy", "no-referrer");
    return c.html(<ConfirmPage email={email} token={token} next={safeNext(c.req.query("next"))} />, email ? 200 : 410);
  });

  app.post("/auth/verify", async (c) => {
    const body = await c.req.parseBody();
    const email = await links(c).consume(str(body.t));
    if (!email) return c.html(<ConfirmPage email={null} token="" next="" />, 410);
    const accountId = await c.var.services.console.accounts.forEmail(email);
    const s = await sessions(c).create(accountId);
    setCookie(c, SESSION_COOKIE, s.cookie, {
      prefix: "host",
      httpOnly: true,
      sameSite: "Lax",
      maxAge: SESSION_TTL_MS / 1000,
    });
    return c.redirect(safeNext(str(body.next)), 303);
  });

  app.post("/sign-out", requireSession, requireCsrfToken, async (c) => {
    await sessions(c).destroy(c.get("session").idHash);
    deleteCookie(c, SESSION_COOKIE, { prefix: "host" });
    return c.redirect("/console/sign-in", 303);
  });

  app.post("/sign-out-everywhere", requireSession, requireCsrfToken, async (c) => {
    await sessions(c).destroyAll(c.get("session").accountId);
    deleteCookie(c, SESSION_COOKIE, { prefix: "host" });
    return c.redirect("/console/sign-in", 303);
  });
}
