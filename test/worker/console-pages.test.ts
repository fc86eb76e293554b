import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PNG_1x1, call, newAgent, resetBroker, syncCatalog } from "./helpers.ts";
import { LogMailer, ResendMailer, mailer } from "../../src/console/services/mail.ts";
import { MagicLinks } from "../../src/console/services/magic.ts";
import { Config } from "../../src/env.ts";
import { ORIGIN, apiKey, createAccount, email, form, signIn } from "./console-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);
afterEach(() => vi.restoreAllMocks());

describe("console API keys", () => {
  it("a key is shown once, works against the API, shows its last use, and once revoked gets 401", async () => {
    const s = await signIn();
    const created = await call("/console/keys", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form({ name: "ci", _csrf: s.csrf }),
    });
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
    const rev = await call(`/console/keys/${id}/revoke`, {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form({ _csrf: s.csrf }),
    });
    expect(rev.status).toBe(200);
    const after = await call("/v1/account", { headers: { "x-api-key": key } });
    expect(after.status).toBe(401);
  });

  it("security: another account's key cannot be revoked", async () => {
    const a = await signIn();
    const b = await signIn();
    const html = await (
      await call("/console/keys", {
        method: "POST",
        headers: { ...ORIGIN, cookie: a.cookie },
        body: form({ name: "a", _csrf: a.csrf }),
      })
    ).text();
    const key = html.match(/id="new-key-value">(sk_live_[A-Za-z0-9_-]+)</)![1]!;
    const id = html.match(/data-key="(key_[^"]+)"/)![1]!;
    const rev = await call(`/console/keys/${id}/revoke`, {
      method: "POST",
      headers: { ...ORIGIN, cookie: b.cookie },
      body: form({ _csrf: b.csrf }),
    });
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
    fd.set(
      "image__file",
      new File([Uint8Array.from(atob(PNG_1x1), (ch) => ch.charCodeAt(0))], "p.png", { type: "image/png" }),
    );
    fd.set("image", "");
    const run = await call("/console/models/nsfw-detector/run", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie, "hx-request": "true" },
      body: fd,
    });
    expect(run.status).toBe(200);
    const card = await run.text();
    const id = card.match(/\/console\/requests\/(req_[A-Za-z0-9_-]+)/)![1]!;
    // Beside the live stream the card polls slowly as the fallback, and at once when the stream ends.
    expect(card).toContain('hx-trigger="every 3s, live-done from:body"');

    const agent = await newAgent();
    const [job] = await agent.lease();
    expect(job!.job_id).toBe(id);
    await new Promise((r) => setTimeout(r, 30));
    const done = await agent.post(`/agent/v1/jobs/${id}/complete`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      outputs: [],
      output_json: { top: "Neutral" },
      metrics: { gpu_ms: 1234, load_ms: 0, gpu_class: "cpu" },
    });
    expect(done.status).toBe(200);

    const final = await (await call(`/console/requests/${id}/card`, { headers: { cookie: s.cookie } })).text();
    expect(final).toContain('data-final="true"');
    expect(final).not.toContain("hx-trigger");
    expect(final).toContain("Neutral");
    const cardCost = final.match(/id="run-cost" data-cost="(\d+)">([^<]+)</)!;
    const api = (await (await call(`/v2/requests/${id}`, { headers: { "x-api-key": key } })).json()) as {
      cost: number;
    };
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
    const daily = JSON.parse(usage.match(/id="spend-data">([^<]*)</)![1]!) as {
      day: string;
      cost: number;
      requests: number;
    }[];
    expect(daily).toHaveLength(30);
    expect(daily.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), cost: api.cost, requests: 1 });
    expect(usage).toMatch(new RegExp(`data-request="${id}"[\\s\\S]*?data-cost="${api.cost}"`));
    const detail = await (await call(`/console/requests/${id}`, { headers: { cookie: s.cookie } })).text();
    // Inputs are deleted when their job ends (issue 9 retention), so a finished request shows none and serves none.
    expect(detail).not.toContain(`/console/requests/${id}/inputs/image`);
    expect(detail).toContain("No stored file inputs");
    const img = await call(`/console/requests/${id}/inputs/image`, { headers: { cookie: s.cookie } });
    expect(img.status).toBe(404);
    // Filters: another model's filter hides it; the status filter keeps it.
    const other = await (
      await call("/console/usage?model=background-removal", { headers: { cookie: s.cookie } })
    ).text();
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
    const r = await call("/console/models/nsfw-detector/run", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: fd,
    });
    expect(r.status).toBe(400);
    const html = await r.text();
    expect(html).toContain("invalid_input");
    expect(html).toContain("<code>image</code>");
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n).toBe(before);
  });

  it("bad input: oversized bodies get 413 before anything is read or created", async () => {
    const s = await signIn();
    const big = await call("/console/keys", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form({ name: "x".repeat(70 * 1024), _csrf: s.csrf }),
    });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain("exceeds");
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n;
    const fd = new FormData();
    fd.set("_csrf", s.csrf);
    fd.set("image__file", new File([new Uint8Array(21 * 1024 * 1024)], "big.png", { type: "image/png" }));
    const run = await call("/console/models/nsfw-detector/run", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: fd,
    });
    expect(run.status).toBe(413);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n).toBe(before);
    const keys = await (await call("/console/keys", { headers: { cookie: s.cookie } })).text();
    expect(keys).toContain("No keys yet.");
  });

  it("security: another account's request is not found", async () => {
    const a = await signIn();
    const b = await signIn();
    const fd = new FormData();
    fd.set("_csrf", a.csrf);
    fd.set("image", `data:image/png;base64,${PNG_1x1}`);
    const run = await call("/console/models/nsfw-detector/run", {
      method: "POST",
      headers: { ...ORIGIN, cookie: a.cookie },
      body: fd,
      redirect: "manual",
    });
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
      return new Response(
        status === 200 ? JSON.stringify({ id: "email_1" }) : JSON.stringify({ message: "bad from" }),
        { status },
      );
    }) as unknown as typeof fetch;
    const m = new ResendMailer("re_test_key", "Console <login@example.com>", fake, "http://resend.test");
    expect(await m.send({ to: "a@example.com", link: "https://x.test/console/auth/verify?t=abc" })).toBe(true);
    expect(seen[0]!.url).toBe("http://resend.test/emails");
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer re_test_key");
    const body = JSON.parse(String(seen[0]!.init.body));
    expect(body).toMatchObject({
      from: "Console <login@example.com>",
      to: ["a@example.com"],
      subject: "Your sign-in link",
    });
    expect(body.text).toContain("https://x.test/console/auth/verify?t=abc");
    status = 422;
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await m.send({ to: "a@example.com", link: "https://x.test/l" })).toBe(false);
  });

  it("production never logs a link: without a provider no mail is sent and the operator is told", async () => {
    const prod = Config.parse({ ENVIRONMENT: "production" });
    expect(mailer(prod)).toBeNull();
    expect(mailer(Config.parse({ ENVIRONMENT: "development" }))).toBeInstanceOf(LogMailer);
    const withResend = Config.parse({
      ENVIRONMENT: "production",
      MAIL_PROVIDER: "resend",
      MAIL_API_KEY: "re_x",
      MAIL_FROM: "a@b.co",
    });
    expect(mailer(withResend)).toBeInstanceOf(ResendMailer);
    const logs = vi.spyOn(console, "log");
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const r = await new MagicLinks(env, null).request(email(), "192.0.2.9", "https://x.test");
    expect(r).toEqual({ ok: true, sent: false });
    expect(logs).not.toHaveBeenCalled();
    expect(String(errors.mock.calls[0]?.[0])).toContain("no mail provider");
  });
});
