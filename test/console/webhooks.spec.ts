import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, paidAccount, signIn, test } from "./fixtures.ts";

const PHOTO = path.resolve(import.meta.dirname, "../../examples/photo.jpg");

/** A webhook receiver on this machine: it records each delivery's headers and answers 200. */
async function receiver(): Promise<{ url: string; got: Record<string, string>[]; server: Server }> {
  const got: Record<string, string>[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      got.push({
        id: String(req.headers["webhook-id"]),
        signature: String(req.headers["webhook-signature"]),
      });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, server };
}

test("the delivery log shows each attempt; redeliver resends under the same id; rotation signs with both secrets", async ({
  page,
  api,
}) => {
  const hook = await receiver();
  try {
    const acct = await paidAccount(api, "hooks");
    const body = { image: readFileSync(PHOTO).toString("base64"), webhook: hook.url };
    const sub = await api.post("/v2/nsfw-detector", { headers: { "x-api-key": acct.key }, data: body });
    expect(sub.status()).toBe(202);
    const id = ((await sub.json()) as { request_id: string }).request_id;
    await expect.poll(() => hook.got.length, { timeout: 90_000 }).toBe(1);

    await signIn(page, acct.email);
    await page.getByRole("link", { name: "Webhooks" }).click();
    const row = page.locator("tr", { hasText: id });
    await expect(async () => {
      await page.reload();
      await expect(row.locator(".status")).toHaveText("succeeded", { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
    await expect(row).toContainText(hook.url);
    await row.getByText("1 attempt").click();
    await expect(row.locator("li[data-attempt='1']")).toContainText("HTTP 200");

    // The secret deliveries were signed with; one entry in the header.
    await page.getByText("Show the signing secret").click();
    const first = (await page.locator("#webhook-secret").textContent())!.trim();
    expect(first).toMatch(/^whsec_/);
    expect(hook.got[0]!.signature.split(" ")).toHaveLength(1);

    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await expect(page.getByText("Secret rotated.")).toBeVisible();
    const second = (await page.locator("#webhook-secret").textContent())!.trim();
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    await expect(page.locator("#overlap")).toContainText("The previous secret also signs until");

    await page.goto("/console/webhooks");
    await row.getByRole("button", { name: /Redeliver/ }).click();
    await expect(page.getByRole("status").filter({ hasText: "queued again" })).toBeVisible();
    await expect.poll(() => hook.got.length, { timeout: 30_000 }).toBe(2);
    expect(hook.got[1]!.id).toBe(hook.got[0]!.id);
    // During the overlap the redelivery carries a signature from the new and from the previous secret.
    expect(hook.got[1]!.signature.split(" ")).toHaveLength(2);
    await expect(async () => {
      await page.goto("/console/webhooks");
      await row.getByText("2 attempts").click({ timeout: 1000 });
      await expect(row.locator("li[data-attempt='2']")).toContainText("(redelivery)", { timeout: 1000 });
    }).toPass({ timeout: 30_000 });

    // Without the CSRF token a redelivery is refused and nothing is sent.
    const delivery = (await row.getAttribute("data-delivery"))!;
    const forged = await page.request.post(`/console/webhooks/deliveries/${delivery}/redeliver`, {
      form: { x: "1" },
      headers: { origin: new URL(page.url()).origin },
    });
    expect(forged.status()).toBe(403);

    // The filter swaps the table in place.
    await page.getByLabel("Status").selectOption("failed");
    await expect(page).toHaveURL(/status=failed/);
    await expect(page.getByText("No deliveries match these filters.", { exact: false })).toBeVisible();
    expect(hook.got).toHaveLength(2);
  } finally {
    hook.server.close();
  }
});
