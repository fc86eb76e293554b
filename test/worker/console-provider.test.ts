import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminHeaders, call, json } from "./helpers.ts";
import { email, signIn } from "./console-helpers.ts";
import { fillDays, recentMonths } from "../../src/console/routes/provider.tsx";
import { cents } from "../../src/console/routes/billing.tsx";

const adminJson = (method: string, path: string, body: unknown) => json(method, path, body, adminHeaders);

describe("provider sign-in email (migration 0010, admin API)", () => {
  it("a provider is made with an email, found by it case-insensitively; a second provider cannot take it", async () => {
    const addr = email();
    const r = await adminJson("POST", "/admin/v1/providers", { name: "p1", email: addr.toUpperCase() });
    expect(r.status).toBe(201);
    const { id } = (await r.json()) as { id: string };
    const row = await env.DB.prepare("SELECT email FROM providers WHERE id = ?").bind(id).first<{ email: string }>();
    expect(row!.email).toBe(addr);

    const dup = await adminJson("POST", "/admin/v1/providers", { name: "p2", email: addr });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { error: { code: string } }).error.code).toBe("conflict");
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM providers WHERE name = 'p2'").first<{ n: number }>();
    expect(count!.n).toBe(0);

    // The console shows that provider to whoever signs in with the address.
    const s = await signIn(addr);
    const page = await call("/console/provider", { headers: { cookie: s.cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Provider: p1");
  });

  it("the email is set, moved and cleared through PUT; bad input changes nothing", async () => {
    const { id } = (await (await adminJson("POST", "/admin/v1/providers", { name: "p3" })).json()) as { id: string };
    const addr = email();
    const set = await adminJson("PUT", `/admin/v1/providers/${id}/email`, { email: addr });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ id, name: "p3", email: addr });

    const bad = await adminJson("PUT", `/admin/v1/providers/${id}/email`, { email: "not-an-email" });
    expect(bad.status).toBe(400);
    const extra = await adminJson("PUT", `/admin/v1/providers/${id}/email`, { email: addr, name: "x" });
    expect(extra.status).toBe(400);
    const missing = await adminJson("PUT", "/admin/v1/providers/prov_nope/email", { email: email() });
    expect(missing.status).toBe(404);
    const noAuth = await json("PUT", `/admin/v1/providers/${id}/email`, { email: email() });
    expect(noAuth.status).toBe(401);
    const row = await env.DB.prepare("SELECT email FROM providers WHERE id = ?").bind(id).first<{ email: string }>();
    expect(row!.email).toBe(addr);

    const cleared = await adminJson("PUT", `/admin/v1/providers/${id}/email`, { email: null });
    expect(((await cleared.json()) as { email: string | null }).email).toBeNull();
    const s = await signIn(addr);
    const page = await call("/console/provider", { headers: { cookie: s.cookie } });
    expect(await page.text()).toContain("is not a GPU provider");
    const stmt = await call("/console/provider/statements/2026-01.csv", { headers: { cookie: s.cookie } });
    expect(stmt.status).toBe(403);
  });

  it("statement links: a malformed month is a 404, and a signed-out request goes to sign-in", async () => {
    const addr = email();
    await adminJson("POST", "/admin/v1/providers", { name: "p4", email: addr });
    const s = await signIn(addr);
    for (const f of ["2026-13.csv", "2026-1.json", "2026-01.xml", "..%2Fsecret"]) {
      const r = await call(`/console/provider/statements/${f}`, { headers: { cookie: s.cookie } });
      expect(r.status, f).toBe(404);
    }
    const ok = await call("/console/provider/statements/2026-01.json", { headers: { cookie: s.cookie } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ month: "2026-01", provider_name: "p4", rows: [] });
    const out = await call("/console/provider/statements/2026-01.json", { redirect: "manual" });
    expect(out.status).toBe(303);
  });
});

describe("console helpers", () => {
  it("dollar amounts become whole cents exactly; anything else is NaN (refused by the schema)", () => {
    expect(cents("10")).toBe(1000);
    expect(cents("12.5")).toBe(1250);
    expect(cents("0.07")).toBe(7);
    expect(cents(" 1000.00 ")).toBe(100_000);
    for (const v of ["", "1e3", "-5", "1.234", "abc", undefined, "10,00"]) expect(cents(v)).toBeNaN();
  });

  it("the earnings chart has every day of the window and the last six months are listed newest first", () => {
    const from = Date.UTC(2026, 0, 30);
    const days = fillDays([{ key: "2026-01-31", earned: 5, jobs: 1 }], from, 3);
    expect(days).toEqual([
      { day: "2026-01-30", cost: 0, jobs: 0 },
      { day: "2026-01-31", cost: 5, jobs: 1 },
      { day: "2026-02-01", cost: 0, jobs: 0 },
    ]);
    expect(recentMonths(Date.UTC(2026, 1, 15), 3)).toEqual(["2026-02", "2026-01", "2025-12"]);
  });
});
