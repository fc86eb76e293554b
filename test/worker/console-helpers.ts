import { expect, vi } from "vitest";
import { BASE, adminHeaders, call, json } from "./helpers.ts";

/** Console test helpers: sign in the way a browser does, with the link the development mailer logs. */
export const ORIGIN = { origin: BASE };
let n = 0;
export const email = () => `console${Date.now()}-${n++}@example.com`;

export function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** Asks for a link the way the sign-in form does and returns the token the development mailer logged. */
export async function requestLink(
  addr: string,
  ip = `198.51.100.${n++ % 250}`,
): Promise<{ status: number; body: string; token: string | null }> {
  const logs: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
  const r = await call("/console/sign-in", {
    method: "POST",
    headers: { ...ORIGIN, "cf-connecting-ip": ip },
    body: form({ email: addr }),
  });
  spy.mockRestore();
  const line = logs.find((l) => l.startsWith(`[magic-link] ${addr} `));
  return {
    status: r.status,
    body: await r.text(),
    token: line ? new URL(line.split(" ")[2]!).searchParams.get("t") : null,
  };
}

export async function signIn(addr = email()): Promise<{ cookie: string; csrf: string; email: string }> {
  const { token } = await requestLink(addr);
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const r = await call("/console/auth/verify", {
    method: "POST",
    headers: ORIGIN,
    body: form({ t: token! }),
    redirect: "manual",
  });
  expect(r.status).toBe(303);
  const set = r.headers.get("set-cookie")!;
  const cookie = set.split(";")[0]!;
  const page = await (await call("/console/keys", { headers: { cookie } })).text();
  const csrf = page.match(/name="_csrf" value="([^"]+)"/)![1]!;
  return { cookie, csrf, email: addr };
}

export async function createAccount(addr: string, plan = "pro"): Promise<string> {
  const a = await json("POST", "/admin/v1/accounts", { email: addr, plan }, adminHeaders);
  expect(a.status).toBe(201);
  return ((await a.json()) as { id: string }).id;
}

export async function apiKey(accountId: string): Promise<string> {
  const k = await json("POST", `/admin/v1/accounts/${accountId}/keys`, {}, adminHeaders);
  expect(k.status).toBe(201);
  return ((await k.json()) as { key: string }).key;
}
