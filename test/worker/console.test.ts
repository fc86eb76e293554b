import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BASE, PNG_1x1, adminHeaders, call, json, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import { MagicLinks, LINK_TTL_MS, PER_EMAIL, PER_IP } from "../../src/console/services/magic.ts";
import { ResendMailer } from "../../src/console/services/mail.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);
afterEach(() => vi.restoreAllMocks());

const ORIGIN = { origin: BASE };
let n = 0;
const email = () => `console${Date.now()}-${n++}@example.com`;

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** Asks for a link the way the sign-in form does and returns the token the development mailer logged. */
async function requestLink(addr: string, ip = `198.51.100.${n++ % 250}`): Promise<{ status: number; body: string; token: string | null }> {
  const logs: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
  const r = await call("/console/sign-in", { method: "POST", headers: { ...ORIGIN, "cf-connecting-ip": ip }, body: form({ email: addr }) });
  spy.mockRestore();
  const line = logs.find((l) => l.startsWith(`[magic-link] ${addr} `));
  return { status: r.status, body: await r.text(), token: line ? new URL(line.split(" ")[2]!).searchParams.get("t") : null };
}

async function signIn(addr = email()): Promise<{ cookie: string; csrf: string; email: string }> {
  const { token } = await requestLink(addr);
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const r = await call("/console/auth/verify", { method: "POST", headers: ORIGIN, body: form({ t: token! }), redirect: "manual" });
  expect(r.status).toBe(303);
  const set = r.headers.get("set-cookie")!;
  const cookie = set.split(";")[0]!;
  const page = await (await call("/console/keys", { headers: { cookie } })).text();
  const csrf = page.match(/name="_csrf" value="([^"]+)"/)![1]!;
  return { cookie, csrf, email: addr };
}

async function createAccount(addr: string, plan = "pro"): Promise<string> {
  const a = await json("POST", "/admin/v1/accounts", { email: addr, plan }, adminHeaders);
  expect(a.status).toBe(201);
  return ((await a.json()) as { id: string }).id;
}

async function apiKey(accountId: string): Promise<string> {
  const k = await json("POST", `/admin/v1/accounts/${accountId}/keys`, {}, adminHeaders);
  expect(k.status).toBe(201);
  return ((await k.json()) as { key: string }).key;
}

describe("console sign-in by email link", () => {
  it("happy: the link's GET only shows a button; its POST sets a __Host- session cookie and works once", async () => {
    const addr = email();
    const { status, body, token } = await requestLink(addr);
    expect(status).toBe(200);
    expect(body).toContain("Check your email");
    const stored = await env.DB.prepare("SELECT token_hash, expires_at - created_at AS ttl FROM console_magic_links WHERE email = ?").bind(addr).first<{ token_hash: string; ttl: number }>();
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.token_hash).not.toContain(token);
    expect(stored!.ttl).toBe(LINK_TTL_MS);

    // A mail scanner's GET (twice) does not use the link up.
    for (let i = 0; i < 2; i++) {
      const g = await call(`/console/auth/verify?t=${token}`);
      expect(g.status).toBe(200);
      expect(await g.text()).toContain(`Sign in as ${addr}`);
    }
    const r = await call("/console/auth/verify", { method: "POST", headers: ORIGIN, body: form({ t: token!, next: "/console/keys" }), redirect: "manual" });
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

    const again = await call("/console/auth/verify", { method: "POST", headers: ORIGIN, body: form({ t: token! }), redirect: "manual" });
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
    const row = await env.DB.prepare("SELECT plan FROM accounts WHERE email = ?").bind(fresh.email).first<{ plan: string }>();
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

  it("security: the reply is the same for known and unknown addresses, and past 5 links in 10 minutes none is sent", async () => {
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
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM console_magic_links WHERE email = ?").bind(known).first<{ n: number }>();
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
    const out = await call("/console/sign-out", { method: "POST", headers: { ...ORIGIN, cookie: a.cookie }, body: form({ _csrf: a.csrf }), redirect: "manual" });
    expect(out.status).toBe(303);
    expect((await call("/console/usage", { headers: { cookie: a.cookie }, redirect: "manual" })).status).toBe(303);
    expect((await call("/console/usage", { headers: { cookie: b.cookie } })).status).toBe(200);
    const all = await call("/console/sign-out-everywhere", { method: "POST", headers: { ...ORIGIN, cookie: b.cookie }, body: form({ _csrf: b.csrf }), redirect: "manual" });
    expect(all.status).toBe(303);
    for (const s of [b, c]) {
      const r = await call("/console/usage", { headers: { cookie: s.cookie }, redirect: "manual" });
      expect(r.status).toBe(303);
      expect(r.headers.get("location")).toBe("/console/sign-in?next=%2Fconsole%2Fusage");
    }
  });
});

describe("console CSRF, headers and assets", () => {
  it("security: a form post without Origin, with a foreign Origin, or without the session token is refused; nothing is created", async () => {
    const s = await signIn();
    const keys = () => env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE a.email = ?").bind(s.email).first<{ n: number }>();
    const noOrigin = await call("/console/keys", { method: "POST", headers: { cookie: s.cookie }, body: form({ name: "x", _csrf: s.csrf }) });
    expect(noOrigin.status).toBe(403);
    const foreign = await call("/console/keys", { method: "POST", headers: { cookie: s.cookie, origin: "https://evil.example" }, body: form({ name: "x", _csrf: s.csrf }) });
    expect(foreign.status).toBe(403);
    const noToken = await call("/console/keys", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie }, body: form({ name: "x" }) });
    expect(noToken.status).toBe(403);
    const jsonNoToken = await call("/console/keys", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie, "content-type": "application/json" }, body: "{}" });
    expect(jsonNoToken.status).toBe(403);
    expect((await keys())!.n).toBe(0);
    const ok = await call("/console/keys", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie }, body: form({ name: "x", _csrf: s.csrf }) });
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

  it("pages need a session: GET redirects to sign-in, POST gets 401", async () => {
    const g = await call("/console/keys", { redirect: "manual" });
    expect(g.status).toBe(303);
    expect(g.headers.get("location")).toBe("/console/sign-in?next=%2Fconsole%2Fkeys");
    const p = await call("/console/keys", { method: "POST", headers: ORIGIN, body: form({ name: "x" }) });
    expect(p.status).toBe(401);
  });
});

describe("console API keys", () => {
  it("a key is shown once, works against the API, shows its last use, and once revoked gets 401", async () => {
    const s = await signIn();
    const created = await call("/console/keys", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie }, body: form({ name: "ci", _csrf: s.csrf }) });
    const html = await created.text();
    const key = html.match(/id="new-key-value">(sk_live_[A-Za-z0-9_-]+)</)![1]!;
    expect((await call("/v1/account", { headers: { "x-api-key": key } })).status).toBe(200);
    let list = "";
    for (let i = 0; i < 50; i++) {
      list = await (await call("/console/keys", { headers: { cookie: s.cookie } })).text();
      if (!list.includes(">never<")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(list).not.toContain(key);
    expect(list).toContain(key.slice(0, 12));
    expect(list).not.toContain(">never<");
    const id = list.match(/data-key="(key_[^"]+)"/)![1]!;
    const rev = await call(`/console/keys/${id}/revoke`, { method: "POST", headers: { ...ORIGIN, cookie: s.cookie }, body: form({ _csrf: s.csrf }) });
    expect(rev.status).toBe(200);
    const after = await call("/v1/account", { headers: { "x-api-key": key } });
    expect(after.status).toBe(401);
  });

  it("security: another account's key cannot be revoked", async () => {
    const a = await signIn();
    const b = await signIn();
    const html = await (await call("/console/keys", { method: "POST", headers: { ...ORIGIN, cookie: a.cookie }, body: form({ name: "a", _csrf: a.csrf }) })).text();
    const key = html.match(/id="new-key-value">(sk_live_[A-Za-z0-9_-]+)</)![1]!;
    const id = html.match(/data-key="(key_[^"]+)"/)![1]!;
    const rev = await call(`/console/keys/${id}/revoke`, { method: "POST", headers: { ...ORIGIN, cookie: b.cookie }, body: form({ _csrf: b.csrf }) });
    expect(rev.status).toBe(404);
    expect((await call("/v1/account", { headers: { "x-api-key": key } })).status).toBe(200);
  });
});

describe("console playground and usage", () => {
  it("runs a model from the form; the card, the usage table and the API show the same cost", async () => {
    const addr = email();
    const key = await apiKey(await createAccount(addr, "pro"));
    const s = await signIn(addr);
    const fd = new FormData();
    fd.set("_csrf", s.csrf);
    fd.set("image__file", new File([Uint8Array.from(atob(PNG_1x1), (ch) => ch.charCodeAt(0))], "p.png", { type: "image/png" }));
    fd.set("image", "");
    const run = await call("/console/models/nsfw-detector/run", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie, "hx-request": "true" }, body: fd });
    expect(run.status).toBe(200);
    const card = await run.text();
    const id = card.match(/\/console\/requests\/(req_[A-Za-z0-9_-]+)/)![1]!;
    expect(card).toContain('hx-trigger="every 1s"');

    const agent = await newAgent();
    const [job] = await agent.lease();
    expect(job!.job_id).toBe(id);
    await new Promise((r) => setTimeout(r, 30));
    const done = await agent.post(`/agent/v1/jobs/${id}/complete`, { lease_id: job!.lease_id, epoch: job!.epoch, outputs: [], output_json: { top: "Neutral" }, metrics: { gpu_ms: 1234, load_ms: 0, gpu_class: "cpu" } });
    expect(done.status).toBe(200);

    const final = await (await call(`/console/requests/${id}/card`, { headers: { cookie: s.cookie } })).text();
    expect(final).toContain('data-final="true"');
    expect(final).not.toContain("hx-trigger");
    expect(final).toContain("Neutral");
    const cardCost = final.match(/id="run-cost" data-cost="(\d+)">([^<]+)</)!;
    const api = (await (await call(`/v2/requests/${id}`, { headers: { "x-api-key": key } })).json()) as { cost: number };
    expect(api.cost).toBeGreaterThan(0);
    expect(Number(cardCost[1])).toBe(api.cost);
    const dollars = `$0.${String(api.cost).padStart(6, "0")}`;
    expect(cardCost[2]).toBe(dollars);

    let usage = "";
    for (let i = 0; i < 100; i++) {
      usage = await (await call("/console/usage", { headers: { cookie: s.cookie } })).text();
      if (new RegExp(`data-request="${id}"[\\s\\S]*?data-cost="${api.cost}"`).test(usage)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(usage).toContain(`data-cost="${api.cost}">${dollars}<`);
    const daily = JSON.parse(usage.match(/id="spend-data">([^<]*)</)![1]!) as { day: string; cost: number; requests: number }[];
    expect(daily).toHaveLength(30);
    expect(daily.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), cost: api.cost, requests: 1 });
    expect(usage).toMatch(new RegExp(`data-request="${id}"[\\s\\S]*?data-cost="${api.cost}"`));
    const detail = await (await call(`/console/requests/${id}`, { headers: { cookie: s.cookie } })).text();
    expect(detail).toContain(`/console/requests/${id}/inputs/image`);
    const img = await call(`/console/requests/${id}/inputs/image`, { headers: { cookie: s.cookie } });
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/png");
    // Filters: another model's filter hides it; the status filter keeps it.
    const other = await (await call("/console/usage?model=background-removal", { headers: { cookie: s.cookie } })).text();
    expect(other).not.toContain(`data-request="${id}"`);
    const completed = await (await call("/console/usage?status=COMPLETED", { headers: { cookie: s.cookie } })).text();
    expect(completed).toContain(`data-request="${id}"`);
  });

  it("bad input: a run without an image shows the field error and creates no request", async () => {
    const s = await signIn();
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n;
    const fd = new FormData();
    fd.set("_csrf", s.csrf);
    fd.set("image", "");
    const r = await call("/console/models/nsfw-detector/run", { method: "POST", headers: { ...ORIGIN, cookie: s.cookie }, body: fd });
    expect(r.status).toBe(400);
    const html = await r.text();
    expect(html).toContain("invalid_input");
    expect(html).toContain("<code>image</code>");
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n).toBe(before);
  });

  it("security: another account's request is not found", async () => {
    const a = await signIn();
    const b = await signIn();
    const fd = new FormData();
    fd.set("_csrf", a.csrf);
    fd.set("image", `data:image/png;base64,${PNG_1x1}`);
    const run = await call("/console/models/nsfw-detector/run", { method: "POST", headers: { ...ORIGIN, cookie: a.cookie }, body: fd, redirect: "manual" });
    expect(run.status).toBe(303);
    const id = run.headers.get("location")!.split("/").pop()!;
    expect((await call(`/console/requests/${id}`, { headers: { cookie: a.cookie } })).status).toBe(200);
    expect((await call(`/console/requests/${id}`, { headers: { cookie: b.cookie } })).status).toBe(404);
    expect((await call(`/console/requests/${id}/inputs/image`, { headers: { cookie: b.cookie } })).status).toBe(404);
  });

  it("the catalog searches and filters by category; the model page has a form from the input schema", async () => {
    const s = await signIn();
    const all = await (await call("/console/models", { headers: { cookie: s.cookie } })).text();
    expect(all).toContain("/console/models/nsfw-detector");
    expect(all).toContain("/console/models/background-removal");
    const mod = await (await call("/console/models?category=moderation", { headers: { cookie: s.cookie } })).text();
    expect(mod).toContain("/console/models/nsfw-detector");
    expect(mod).not.toContain("/console/models/background-removal");
    const q = await (await call("/console/models?q=ISNet", { headers: { cookie: s.cookie } })).text();
    expect(q).toContain("/console/models/background-removal");
    expect(q).not.toContain("/console/models/nsfw-detector");
    const page = await (await call("/console/models/sdxl1.0-txt2img", { headers: { cookie: s.cookie } })).text();
    expect(page).toMatch(/<select id="in-scheduler" name="scheduler"/);
    expect(page).toMatch(/name="width" type="number" min="256" max="2048" step="8" value="1024"/);
    expect(page).toMatch(/name="guidance_scale" type="number" min="1" max="25" step="any" value="7.5"/);
    expect(page).not.toContain('name="base64"');
    const br = await (await call("/console/models/background-removal", { headers: { cookie: s.cookie } })).text();
    expect(br).toContain('name="image__file" type="file" accept="image/*"');
    expect(br).toContain("$0.000100");
  });
});

describe("sign-in mail through Resend", () => {
  it("sends the documented request and reports a refusal", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    let status = 200;
    const fake = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(status === 200 ? JSON.stringify({ id: "email_1" }) : JSON.stringify({ message: "bad from" }), { status });
    }) as unknown as typeof fetch;
    const m = new ResendMailer("re_test_key", "Console <login@example.com>", fake, "http://resend.test");
    expect(await m.send({ to: "a@example.com", link: "https://x.test/console/auth/verify?t=abc" })).toBe(true);
    expect(seen[0]!.url).toBe("http://resend.test/emails");
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer re_test_key");
    const body = JSON.parse(String(seen[0]!.init.body));
    expect(body).toMatchObject({ from: "Console <login@example.com>", to: ["a@example.com"], subject: "Your sign-in link" });
    expect(body.text).toContain("https://x.test/console/auth/verify?t=abc");
    status = 422;
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await m.send({ to: "a@example.com", link: "https://x.test/l" })).toBe(false);
  });
});
