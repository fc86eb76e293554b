import path from "node:path";
import { expect, paidAccount, signIn, test } from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");

test("the playground shows live progress from the event stream, then the result", async ({ page, api }) => {
  const acct = await paidAccount(api, "live");
  await signIn(page, acct.email);
  await page.goto("/console/models/nsfw-detector");
  const stream = page.waitForResponse((r) => /\/console\/requests\/[^/]+\/events$/.test(r.url()));
  await page.getByLabel("Upload an image").setInputFiles(PHOTO);
  await page.getByRole("button", { name: /Run/ }).click();
  expect((await stream).headers()["content-type"]).toContain("text/event-stream");
  const live = page.locator("#run-live");
  await expect(live).toHaveAttribute("data-state", "done", { timeout: 90_000 });
  await expect(live).toHaveAttribute("data-seen", /\bstarted\b.*\bcompleted$/);
  await expect(live.locator("[data-phase]")).toHaveText("Completed");
  expect(await live.locator("progress").evaluate((el: HTMLProgressElement) => el.value)).toBe(100);
  const card = page.locator('#run-status[data-final="true"]');
  await expect(card).toBeVisible({ timeout: 30_000 });
  await expect(card.locator(".status")).toHaveText("completed");
});

test("when the event stream is refused, the card still reaches the result by polling", async ({ page, api }) => {
  const acct = await paidAccount(api, "nolive");
  await signIn(page, acct.email);
  await page.route(/\/console\/requests\/[^/]+\/events$/, (r) => r.fulfill({ status: 503, body: "unavailable" }));
  await page.goto("/console/models/nsfw-detector");
  await page.getByLabel("Upload an image").setInputFiles(PHOTO);
  await page.getByRole("button", { name: /Run/ }).click();
  await expect(page.locator("#run-live")).toHaveAttribute("data-state", "polling");
  await expect(page.locator("#run-live [data-phase]")).toContainText("live updates unavailable");
  const card = page.locator('#run-status[data-final="true"]');
  await expect(card).toBeVisible({ timeout: 90_000 });
  await expect(card.locator(".status")).toHaveText("completed");
});
