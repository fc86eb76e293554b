import { readFileSync } from "node:fs";
import path from "node:path";
import { admin, expect, newEmail, paidAccount, signIn, test } from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");

test("a provider signs in by email and sees its agent, jobs, GPU-seconds, earnings and statements as the API reports", async ({
  page,
  api,
}) => {
  const providerId = process.env.CONSOLE_PROVIDER_ID!;
  const email = newEmail("provider");
  // Upper case on purpose: addresses are matched case-insensitively, as sign-in lower-cases them.
  await admin(api, "PUT", `/admin/v1/providers/${providerId}/email`, { email: email.toUpperCase() });

  // A charged job on the provider's agent, so there is something earned.
  const acct = await paidAccount(api, "provjob");
  const sub = await api.post("/v2/nsfw-detector", {
    headers: { "x-api-key": acct.key },
    data: { image: readFileSync(PHOTO).toString("base64") },
  });
  expect(sub.status()).toBe(202);
  const id = ((await sub.json()) as { request_id: string }).request_id;
  await expect
    .poll(
      async () => {
        const s = await api.get(`/v2/requests/${id}/status`, { headers: { "x-api-key": acct.key } });
        return ((await s.json()) as { status: string }).status;
      },
      { timeout: 90_000 },
    )
    .toBe("COMPLETED");

  const { token: key } = await admin<{ token: string }>(api, "POST", `/admin/v1/providers/${providerId}/keys`);
  const fromApi = async () =>
    (await (await api.get("/v1/provider/earnings", { headers: { "x-api-key": key } })).json()) as {
      totals: { earned: number; jobs: number };
    };
  await expect.poll(async () => (await fromApi()).totals.jobs, { timeout: 30_000 }).toBeGreaterThan(0);
  const earnings = await fromApi();
  expect(earnings.totals.earned).toBeGreaterThan(0);

  await signIn(page, email);
  await page.getByRole("link", { name: "Provider" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Provider: / })).toBeVisible();
  await expect(page.locator("#provider-earned")).toHaveAttribute("data-earned", String(earnings.totals.earned));
  await expect(page.locator("#provider-jobs")).toHaveText(String(earnings.totals.jobs));
  await expect(page.locator("#agents")).toContainText("console-agent");
  await expect(page.locator("#agents")).toContainText("active");
  await expect(page.locator(".chart canvas").first()).toBeVisible();

  const month = new Date().toISOString().slice(0, 7);
  const json = await page.request.get(`/console/provider/statements/${month}.json`);
  expect(json.status()).toBe(200);
  const statement = (await json.json()) as { month: string; rows: { op_id: string }[] };
  expect(statement.month).toBe(month);
  expect(statement.rows.length).toBe(earnings.totals.jobs);
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: `CSV for ${month}` }).click();
  const csv = readFileSync((await (await download).path())!, "utf8");
  expect(csv.split("\n")[0]).toBe(
    "created_at,op_id,kind,agent_id,model,gpu_class,gpu_ms,charge_micro_usd,earned_micro_usd",
  );
  expect(csv).toContain(statement.rows[0]!.op_id);
});

test("an address that is no provider's sees how to become one, and no statement", async ({ page }) => {
  await signIn(page, newEmail("notprov"));
  await page.goto("/console/provider");
  await expect(page.getByText("is not a GPU provider's address")).toBeVisible();
  const month = new Date().toISOString().slice(0, 7);
  expect((await page.request.get(`/console/provider/statements/${month}.csv`)).status()).toBe(403);
});
