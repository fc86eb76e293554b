import path from "node:path";
import { expect, paidAccount, signIn, test } from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");

test("build a two-node workflow by dragging and connecting, publish it, run it and see each node's status", async ({
  page,
  browser,
  api,
}) => {
  const acct = await paidAccount(api, "builder");
  await signIn(page, acct.email);
  await page.getByRole("link", { name: "Workflows" }).click();
  await page.getByLabel("Slug").fill("resize-check");
  await page.getByLabel("Name").fill("Resize then check");
  await page.getByLabel("First model").selectOption("image-resize");
  await page.getByRole("button", { name: "Create and open the builder" }).click();
  await expect(page).toHaveURL(/\/console\/workflows\/resize-check$/);
  const canvas = page.locator("#wf-canvas");
  await expect(canvas.locator('[data-key="node:image-resize"]')).toBeVisible();

  // Drag a second model from the palette onto the canvas.
  await page.locator('.palette li[data-model="nsfw-detector"]').dragTo(canvas, { targetPosition: { x: 520, y: 300 } });
  const second = canvas.locator('[data-key="node:nsfw-detector"]');
  await expect(second).toBeVisible();

  // A string input cannot feed an image port: the link is refused and not drawn.
  await page.getByLabel("Input name").fill("caption");
  await page.getByLabel("Type").selectOption("string");
  await page.getByRole("button", { name: "Add input" }).click();
  await canvas.locator('[data-key="input:caption"] .output_1').dragTo(second.locator(".input_1"));
  await expect(page.locator("#wf-message")).toContainText("Refused: cannot connect string to nsfw-detector.image");
  await expect(page.getByRole("combobox", { name: "Source of nsfw-detector.image" })).toHaveValue("");

  // Connect the resize output to the detector's image, and the detector to a new workflow output.
  await canvas.locator('[data-key="node:image-resize"] .output_1').dragTo(second.locator(".input_1"));
  await expect(page.locator("#wf-message")).toContainText("Connected nodes.image-resize.output → nsfw-detector.image");
  await page.getByLabel("Output name").fill("verdict");
  await page.getByRole("button", { name: "Add output" }).click();
  await second.locator(".output_1").dragTo(canvas.locator('[data-key="output:verdict"] .input_1'));
  await expect(page.getByRole("combobox", { name: "Source of output verdict" })).toHaveValue(
    "nodes.nsfw-detector.json",
  );
  // The unused string input goes (through the table editor's keyboard path it would be the same graph).
  await canvas.locator('[data-key="input:caption"]').click();
  await page.keyboard.press("Delete");
  await expect(canvas.locator('[data-key="input:caption"]')).toHaveCount(0);
  // A literal through the table editor: resize to 64 px wide.
  await page.getByRole("textbox", { name: "Value of image-resize.width" }).fill("64");
  await page.getByRole("textbox", { name: "Value of image-resize.width" }).press("Tab");

  // A second editor saves first: this one's save is refused with 412 and says so.
  const other = await browser.newContext({ baseURL: process.env.CONSOLE_BASE_URL });
  const page2 = await other.newPage();
  await signIn(page2, acct.email);
  await page2.goto("/console/workflows/resize-check");
  await page2.getByRole("button", { name: "Save draft" }).click();
  await expect(page2.locator("#wf-message")).toHaveText("Draft saved.");
  await other.close();
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("#wf-message")).toContainText("Someone saved this draft after you opened it");
  // Reloading takes the other save's ETag; the graph is rebuilt and saved again.
  await page.reload();
  await page.locator('.palette li[data-model="nsfw-detector"]').dragTo(canvas, { targetPosition: { x: 520, y: 300 } });
  await canvas.locator('[data-key="node:image-resize"] .output_1').dragTo(second.locator(".input_1"));
  await page.getByLabel("Output name").fill("verdict");
  await page.getByRole("button", { name: "Add output" }).click();
  await second.locator(".output_1").dragTo(canvas.locator('[data-key="output:verdict"] .input_1'));
  await page.getByRole("textbox", { name: "Value of image-resize.width" }).fill("64");
  await page.getByRole("textbox", { name: "Value of image-resize.width" }).press("Tab");

  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.locator("#wf-message")).toHaveText("Published version 1.");
  await expect(page.locator("#wf-estimate")).toContainText("Estimate: at most $");
  await expect(page.locator("#wf-curl")).toContainText("/v2/workflows/resize-check");
  await expect(page.locator("#wf-versions")).toContainText("production: not set");
  await page.getByLabel("Alias", { exact: true }).selectOption("production");
  await page.getByLabel("Version", { exact: true }).selectOption("1");
  await page.getByRole("button", { name: "Move alias" }).click();
  await expect(page.locator("#wf-message")).toHaveText("production now runs v1.");
  await expect(page.locator("#wf-versions")).toContainText("production: v1");

  await page.locator("#wf-run-form").getByLabel("image").setInputFiles(PHOTO);
  await page.locator("#wf-run-form").getByRole("button", { name: "Run" }).click();
  await expect(page.locator("#wf-run-status")).toHaveText("completed", { timeout: 120_000 });
  for (const n of ["image-resize", "nsfw-detector"]) {
    await expect(page.locator(`tr[data-run-node="${n}"] .status`)).toHaveText("completed");
    await expect(canvas.locator(`[data-node-status="${n}"]`)).toHaveText("completed");
  }
  await expect(page.locator("#wf-run")).toContainText("verdict");
});
