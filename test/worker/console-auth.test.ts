import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BASE, call, resetBroker, syncCatalog } from "./helpers.ts";
import { MagicLinks, LINK_TTL_MS, PER_EMAIL, PER_IP } from "../../src/console/services/magic.ts";
import { ORIGIN, createAccount, email, form, requestLink, signIn } from "./console-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);
afterEach(() => vi.restoreAllMocks());

describe("console sign-in by email link", () => {
  it("happy: the link's GET only shows a button; its POST sets a __Host- session cookie and works once", async () => {
    const addr = email();
    const { status, body, token } = await requestLink(addr);
    expect(status).toBe(200);
    expect(body).toContain("Check your email");
    const stored = await env.DB.prepare(
      "SELECT token_hash, expires_at - created_at AS ttl FROM console_magic_links WHERE email = ?",
    )
      .bind(addr)
      .first<{ token_hash: string; ttl: number }>();
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.token_hash).not.toContain(token);
    expect(stored!.ttl).toBe(LINK_TTL_MS);

    // A mail scanner's GET (twice) does not use the link up.
    for (let i = 0; i < 2; i++) {
      const g = await call(`/console/auth/verify?t=${token}`);
      expect(g.status).toBe(200);
      expect(await g.text()).toContain(`Sign in as ${addr}`);
    }
    const r = await call("/console/auth/verify", {
      method: "POST",
      headers: ORIGIN,
      body: form({ t: token!, next: "/console/keys" }),
      redirect: "manual",
    });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/console/keys");
    const cookie = r.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^__Host-sid=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Domain");
    // Only the session id's hash is stored.
    const sid = cookie.split(";")[0]!.split("=")[1]!;
    const rows = await env.DB.prepare("SELECT id_hash FROM console_sessions").all<{ id_hash: string }>();
    expect(rows.results.some((x) => x.id_hash === sid)).toBe(false);

    const again = await call("/console/auth/verify", {
      method: "POST",
      headers: ORIGIN,
      body: form({ t: token! }),
      redirect: "manual",
    });
    expect(again.status).toBe(410);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect((await call(`/console/auth/verify?t=${token}`)).status).toBe(410);
  });

  it("a first sign-in creates a free account; a known address signs in to its account", async () => {
    const addr = email();
    const id = await createAccount(addr);
    const s = await signIn(addr);
    const page = await (await call("/console/usage", { headers: { cookie: s.cookie } })).text();
    expect(page).toContain(addr);
    expect(page).toContain(">pro<");
    const fresh = await signIn();
    const row = await env.DB.prepare("SELECT plan FROM accounts WHERE email = ?")
      .bind(fresh.email)
      .first<{ plan: string }>();
    expect(row!.plan).toBe("free");
    expect(id).toMatch(/^acct_/);
  });

  it("security: an expired link is refused", async () => {
    const links = new MagicLinks(env, { send: async () => true });
    const logs: string[] = [];
    const mail = { send: async (m: { link: string }) => (logs.push(m.link), true) };
    const t0 = Date.now();
    await new MagicLinks(env, mail).request(email(), "1.2.3.4", BASE, "/console/usage", t0);
    const token = new URL(logs[0]!).searchParams.get("t")!;
    expect(await links.peek(token, t0 + LINK_TTL_MS + 1)).toBeNull();
    expect(await links.consume(token, t0 + LINK_TTL_MS + 1)).toBeNull();
    expect(await links.consume(token, t0 + LINK_TTL_MS - 1)).not.toBeNull();
  });

  it("security: the same reply for known and unknown addresses; past 5 links in 10 minutes none is sent", async () => {
    const known = email();
    await createAccount(known);
    const unknown = email();
    const a = await requestLink(known);
    const b = await requestLink(unknown);
    expect(a.status).toBe(b.status);
    expect(a.body.replace(known, "X")).toBe(b.body.replace(unknown, "X"));

    for (let i = 1; i < PER_EMAIL; i++) expect((await requestLink(known)).token).not.toBeNull();
    const over = await requestLink(known);
    expect(over.status).toBe(200);
    expect(over.body.replace(known, "X")).toBe(a.body.replace(known, "X"));
    expect(over.token).toBeNull();
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM console_magic_links WHERE email = ?")
      .bind(known)
      .first<{ n: number }>();
    expect(count!.n).toBe(PER_EMAIL);
  });

  it("security: past 20 links from one network in 10 minutes, the form answers 429", async () => {
    const ip = "203.0.113.77";
    for (let i = 0; i < PER_IP; i++) expect((await requestLink(email(), ip)).token).not.toBeNull();
    const r = await requestLink(email(), ip);
    expect(r.status).toBe(429);
    expect(r.token).toBeNull();
  });

  it("bad input: an invalid address gets 400 and no link", async () => {
    const r = await requestLink("not-an-email");
    expect(r.status).toBe(400);
    expect(r.token).toBeNull();
  });

  it("sign-out ends this session; sign-out everywhere ends all of the account's sessions", async () => {
    const addr = email();
    const a = await signIn(addr);
    const b = await signIn(addr);
    const c = await signIn(addr);
    const out = await call("/console/sign-out", {
      method: "POST",
      headers: { ...ORIGIN, cookie: a.cookie },
      body: form({ _csrf: a.csrf }),
      redirect: "manual",
    });
    expect(out.status).toBe(303);
    expect((await call("/console/usage", { headers: { cookie: a.cookie }, redirect: "manual" })).status).toBe(303);
    expect((await call("/console/usage", { headers: { cookie: b.cookie } })).status).toBe(200);
    const all = await call("/console/sign-out-everywhere", {
      method: "POST",
      headers: { ...ORIGIN, cookie: b.cookie },
      body: form({ _csrf: b.csrf }),
      redirect: "manual",
    });
    expect(all.status).toBe(303);
    for (const s of [b, c]) {
      const r = await call("/console/usage", { headers: { cookie: s.cookie }, redirect: "manual" });
      expect(r.status).toBe(303);
      expect(r.headers.get("location")).toBe("/console/sign-in?next=%2Fconsole%2Fusage");
    }
  });
});

describe("console CSRF, headers and assets", () => {
  it("security: a post without Origin, with a foreign Origin, or without the session token is refused", async () => {
    const s = await signIn();
    const keys = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE a.email = ?")
        .bind(s.email)
        .first<{ n: number }>();
    const noOrigin = await call("/console/keys", {
      method: "POST",
      headers: { cookie: s.cookie },
      body: form({ name: "x", _csrf: s.csrf }),
    });
    expect(noOrigin.status).toBe(403);
    const foreign = await call("/console/keys", {
      method: "POST",
      headers: { cookie: s.cookie, origin: "https://evil.example" },
      body: form({ name: "x", _csrf: s.csrf }),
    });
    expect(foreign.status).toBe(403);
    const noToken = await call("/console/keys", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form({ name: "x" }),
    });
    expect(noToken.status).toBe(403);
    const jsonNoToken = await call("/console/keys", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(jsonNoToken.status).toBe(403);
    expect((await keys())!.n).toBe(0);
    const ok = await call("/console/keys", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form({ name: "x", _csrf: s.csrf }),
    });
    expect(ok.status).toBe(201);
    expect((await keys())!.n).toBe(1);
  });

  it("pages carry the CSP and no-store; assets have hashed names and immutable caching", async () => {
    const s = await signIn();
    const r = await call("/console/usage", { headers: { cookie: s.cookie } });
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const html = await r.text();
    const scripts = [...html.matchAll(/src="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.some((p) => /\/htmx\.[0-9a-f]{12}\.js$/.test(p))).toBe(true);
    expect(scripts.some((p) => /\/uplot\.[0-9a-f]{12}\.js$/.test(p))).toBe(true);
    for (const p of scripts) {
      const a = await call(p);
      expect(a.status).toBe(200);
      expect(a.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await a.text()).length).toBeGreaterThan(100);
    }
    expect((await call("/console/assets/htmx.000000000000.js")).status).toBe(404);
  });

  it("/console goes to the usage page; an unknown console path is an HTML 404", async () => {
    const root = await call("/console", { redirect: "manual" });
    expect(root.status).toBe(303);
    expect(root.headers.get("location")).toBe("/console/usage");
    const missing = await call("/console/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("text/html");
  });

  it("pages need a session: GET redirects to sign-in, POST gets 401", async () => {
    const g = await call("/console/keys", { redirect: "manual" });
    expect(g.status).toBe(303);
    expect(g.headers.get("location")).toBe("/console/sign-in?next=%2Fconsole%2Fkeys");
    const p = await call("/console/keys", { method: "POST", headers: ORIGIN, body: form({ name: "x" }) });
    expect(p.status).toBe(401);
  });
});
