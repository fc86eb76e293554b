import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

export { expect };

const env = (k: string) => {
  const v = process.env[k];
  if (!v)
    throw new Error(
      `${k} is not set: run through test/console/playwright.config.ts (its global setup starts the platform)`,
    );
  return v;
};

export const test = base.extend<{ api: APIRequestContext }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from its first parameter
  baseURL: async ({}, use) => use(env("CONSOLE_BASE_URL")),
  api: async ({ playwright }, use) => {
    const ctx = await playwright.request.newContext({ baseURL: env("CONSOLE_BASE_URL") });
    await use(ctx);
    await ctx.dispose();
  },
});

let n = 0;
export const newEmail = (tag: string) => `${tag}-${Date.now()}-${n++}@example.com`;

/** The magic link the platform printed for this address (wrangler dev's output, in the log the start script keeps). */
export async function printedLink(email: string): Promise<string> {
  const file = path.join(env("CONSOLE_LOG_DIR"), "wrangler.log");
  let link: string | undefined;
  await expect
    .poll(
      () => {
        const log = existsSync(file) ? readFileSync(file, "utf8") : "";
        const lines = log.split("\n").filter((l) => l.includes(`[magic-link] ${email} `));
        link = lines
          .at(-1)
          ?.split(" ")
          .find((w) => w.startsWith("http"));
        return link;
      },
      { timeout: 15_000, message: `no magic link printed for ${email}` },
    )
    .toBeTruthy();
  return link!;
}

/** Signs in through the UI: the form, the printed link, the confirm button. */
export async function signIn(page: Page, email: string): Promise<void> {
  await page.goto("/console/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await page.goto(await printedLink(email));
  await expect(page.getByRole("heading", { name: `Sign in as ${email}` })).toBeVisible();
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/console\/usage$/);
}

export async function admin<T>(api: APIRequestContext, method: string, p: string, data?: unknown): Promise<T> {
  const r = await api.fetch(p, { method, headers: { authorization: `Bearer ${env("CONSOLE_ADMIN_TOKEN")}` }, data });
  expect(r.status(), await r.text()).toBeLessThan(300);
  return (await r.json()) as T;
}

/** A pro account (so runs are charged) with an API key, for comparing what the console shows with the API. */
export async function paidAccount(
  api: APIRequestContext,
  tag: string,
): Promise<{ email: string; id: string; key: string }> {
  const email = newEmail(tag);
  const { id } = await admin<{ id: string }>(api, "POST", "/admin/v1/accounts", { email, plan: "pro" });
  const { key } = await admin<{ key: string }>(api, "POST", `/admin/v1/accounts/${id}/keys`, { name: "test" });
  return { email, id, key };
}

/** Zero serious or critical axe violations (WCAG 2.0/2.1 A and AA). */
export async function expectAccessible(page: Page): Promise<void> {
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((x) => x.target.join(" ")).join(", ")})`)).toEqual([]);
}

/** Gzipped bytes of the page's HTML, scripts and stylesheets, fetched as the browser did. */
export async function pageWeight(page: Page, url: string): Promise<{ total: number; parts: Record<string, number> }> {
  const parts: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const onResponse = (res: import("@playwright/test").Response) => {
    const type = res.request().resourceType();
    if (!["document", "script", "stylesheet"].includes(type)) return;
    pending.push(
      res
        .body()
        .then((b) => void (parts[new URL(res.url()).pathname] = gzipSync(b).byteLength))
        .catch(() => undefined),
    );
  };
  page.on("response", onResponse);
  await page.goto(url, { waitUntil: "load" });
  page.off("response", onResponse);
  await Promise.all(pending);
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}

/** Saved only by `npm run screenshots` (SCREENSHOTS_DIR), so the test run leaves the committed images alone. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS_DIR;
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true, animations: "disabled" });
}
