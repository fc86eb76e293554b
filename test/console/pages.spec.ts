import { readFileSync } from "node:fs";
import path from "node:path";
import {
  admin,
  expect,
  expectAccessible,
  newEmail,
  pageWeight,
  paidAccount,
  printedLink,
  screenshot,
  signIn,
  test,
} from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");
const BUDGET = 150 * 1024;

/** Every console page: no serious or critical axe violation, under the weight budget, usable at 390 px wide. */
test.describe.configure({ mode: "serial" });

let requestId = "";
let email = "";

test.beforeAll(async ({ api }) => {
  const acct = await paidAccount(api, "pages");
  email = acct.email;
  // This account's address is also the local agent's provider, so the provider page shows real agents and earnings.
  await admin(api, "PUT", `/admin/v1/providers/${process.env.CONSOLE_PROVIDER_ID}/email`, { email });
  const body = { image: readFileSync(PHOTO).toString("base64") };
  const sub = await api.post("/v2/nsfw-detector", { headers: { "x-api-key": acct.key }, data: body });
  expect(sub.status()).toBe(202);
  requestId = ((await sub.json()) as { request_id: string }).request_id;
  await expect
    .poll(
      async () => {
        const s = await api.get(`/v2/requests/${requestId}/status`, { headers: { "x-api-key": acct.key } });
        return ((await s.json()) as { status: string }).status;
      },
      { timeout: 90_000 },
    )
    .toBe("COMPLETED");
});

async function check(page: import("@playwright/test").Page, url: string, name: string, budget = BUDGET) {
  const weight = await pageWeight(page, url);
  console.log(`page weight ${url}: ${weight.total} B gzipped (${Object.keys(weight.parts).length} files)`);
  expect(weight.total, JSON.stringify(weight.parts)).toBeLessThan(budget);
  await expectAccessible(page);
  await screenshot(page, name);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `${url} scrolls sideways at 390 px`).toBeLessThanOrEqual(0);
  await expectAccessible(page);
  await screenshot(page, `${name}-mobile`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("signed-out pages: sign in, check your email, confirm", async ({ page }) => {
  await check(page, "/console/sign-in", "sign-in");
  const addr = newEmail("confirm");
  await page.getByLabel("Email").fill(addr);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "check-email");
  await check(page, await printedLink(addr), "confirm-sign-in");
});

test("signed-in pages", async ({ page }) => {
  await signIn(page, email);
  // A playground run so the model page shows a finished card.
  await page.goto("/console/models/nsfw-detector");
  await page.getByLabel("Upload an image").setInputFiles(PHOTO);
  await page.getByRole("button", { name: /Run/ }).click();
  await expect(page.locator('#run-status[data-final="true"]')).toBeVisible({ timeout: 90_000 });
  await expectAccessible(page);
  await screenshot(page, "playground");

  await expect(async () => {
    await page.goto("/console/usage");
    await expect(page.locator(`tr[data-request="${requestId}"] td[data-cost]`)).toHaveText(/^\$0\.\d{6}$/, {
      timeout: 1000,
    });
  }).toPass({ timeout: 30_000 });
  await expect(page.locator(".uplot")).toBeVisible();
  const pages: [string, string][] = [
    ["/console/usage", "usage"],
    [`/console/requests/${requestId}`, "request"],
    ["/console/keys", "keys"],
    ["/console/models", "models"],
    ["/console/models/nsfw-detector", "model-nsfw-detector"],
    ["/console/models/background-removal", "model-background-removal"],
    ["/console/models/sdxl1.0-txt2img", "model-sdxl"],
    ["/console/billing", "billing"],
    ["/console/workflows", "workflows"],
    ["/console/webhooks", "webhooks"],
    ["/console/endpoints", "endpoints"],
    ["/console/provider", "provider"],
  ];
  for (const [url, name] of pages) await check(page, url, name);

  // A dedicated endpoint made through the form (min 0 instances: nothing billed), then its live page.
  await page.goto("/console/endpoints");
  await page.getByLabel("Name", { exact: true }).fill(`pages-${Date.now()}`);
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await expect(page).toHaveURL(/\/console\/endpoints\/ep_[A-Za-z0-9_-]+$/);
  await check(page, new URL(page.url()).pathname, "endpoint");

  // A template opened in the builder: exempt from the 150 KB budget (its weight is logged), held under 250 KB.
  await page.goto("/console/workflows");
  await page
    .getByRole("button", { name: /^Open in the builder/ })
    .first()
    .click();
  await expect(page).toHaveURL(/\/console\/workflows\/[a-z0-9-]+$/);
  await expect(page.locator("#wf-canvas .drawflow-node").first()).toBeVisible();
  await check(page, new URL(page.url()).pathname, "workflow-builder", 250 * 1024);

  await page.goto("/console/keys");
  await page.getByLabel("Name").fill("screenshot");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("#new-key-value")).toBeVisible();
  await expectAccessible(page);
  // The one-time key is blurred out of the committed picture.
  if (process.env.SCREENSHOTS_DIR) {
    await page.screenshot({
      path: path.join(process.env.SCREENSHOTS_DIR, "key-created.png"),
      fullPage: true,
      mask: [page.locator("#new-key-value")],
    });
  }
});
