import { expect, newEmail, signIn, test } from "./fixtures.ts";

const balance = async (page: import("@playwright/test").Page) =>
  Number(await page.locator("#balance").getAttribute("data-available"));

test("recharge $10 through the checkout stand-in: the balance rises by $10, the card is saved, a receipt is listed", async ({
  page,
}) => {
  await signIn(page, newEmail("recharge"));
  await page.getByRole("link", { name: "Billing" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Billing" })).toBeVisible();
  await expect(page.locator("#card")).toHaveText("None");
  await expect(page.getByText("No payments yet.")).toBeVisible();
  const before = await balance(page);

  await page.getByLabel("$10", { exact: true }).check();
  await page.getByRole("button", { name: "Continue to checkout" }).click();
  // The stand-in's hosted page, on its own origin, as Stripe Checkout is.
  await expect(page.getByRole("heading", { name: "Pay $10.00" })).toBeVisible();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: /^Pay/ }).click();

  await expect(page).toHaveURL(/\/console\/billing\?session_id=cs_/);
  await expect(page.getByText("Payment received")).toBeVisible();
  // The credit arrives with the signed webhook; the summary polls until then.
  await expect(page.locator("#balance")).toHaveAttribute("data-available", String(before + 10_000_000), {
    timeout: 30_000,
  });
  await page.reload();
  await expect(page.locator("#card")).toHaveText("visa •••• 4242");
  const row = page.locator("#payments tbody tr").first();
  await expect(row).toContainText("Top-up");
  await expect(row).toContainText("$10.00");
  await expect(row).toContainText("succeeded");
  await expect(row.getByRole("link", { name: /Receipt/ })).toHaveAttribute("href", /^http/);

  // With a saved card, auto-recharge can be turned on; the settings come back as saved.
  await page.getByLabel("When the balance falls below ($)").fill("5");
  await page.getByLabel("Charge ($)").fill("20");
  await page.getByLabel(/Turn on/).check();
  await page.getByRole("button", { name: "Save auto-recharge" }).click();
  await expect(page.getByText("Auto-recharge is on.")).toBeVisible();
  await expect(page.locator("#auto-state")).toHaveText("On.");
  await expect(page.getByLabel("Charge ($)")).toHaveValue("20.00");
});

test("a declined card charges nothing; amounts outside $10–$1,000 are refused with a message", async ({ page }) => {
  await signIn(page, newEmail("declined"));
  await page.goto("/console/billing");
  const before = await balance(page);

  await page.getByLabel("Other", { exact: true }).check();
  await page.getByLabel("Other amount ($10–$1,000)").fill("5");
  // The browser's own min check would stop this; the server must refuse it too.
  await page.locator("#recharge-custom").evaluate((el) => el.removeAttribute("min"));
  await page.getByRole("button", { name: "Continue to checkout" }).click();
  await expect(page.getByRole("alert")).toContainText("Amount: the minimum top-up is $10");

  await page.getByLabel("Other", { exact: true }).check();
  await page.getByLabel("Other amount ($10–$1,000)").fill("12.50");
  await page.getByRole("button", { name: "Continue to checkout" }).click();
  await expect(page.getByRole("heading", { name: "Pay $12.50" })).toBeVisible();
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByRole("button", { name: /^Pay/ }).click();
  await expect(page.getByRole("alert")).toContainText("declined");

  await page.goto("/console/billing");
  expect(await balance(page)).toBe(before);
  await expect(page.getByText("No payments yet.")).toBeVisible();
});

test("auto-recharge needs a saved card first; the refusal is shown and the settings stay off", async ({ page }) => {
  await signIn(page, newEmail("auto"));
  await page.goto("/console/billing");
  await page.getByLabel("When the balance falls below ($)").fill("5");
  await page.getByLabel("Charge ($)").fill("20");
  await page.getByLabel(/Turn on/).check();
  await page.getByRole("button", { name: "Save auto-recharge" }).click();
  await expect(page.getByRole("alert")).toContainText("auto-recharge needs a saved card");
  await expect(page.locator("#auto-state")).toContainText("Off.");
});
