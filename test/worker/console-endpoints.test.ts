import { beforeEach, describe, expect, it } from "vitest";
import { adminHeaders, call, json } from "./helpers.ts";
import { createAccount, email, form, ORIGIN, signIn } from "./console-helpers.ts";
import { CPU_PRICE, MODEL, balances, dedicatedAgent, resetReservations } from "./endpoint-helpers.ts";
import { syncCatalog } from "./helpers.ts";

beforeEach(resetReservations);

/** A signed-in console user on an enterprise account with credit, as a browser would post its forms. */
async function user(credit = 100_000_000) {
  await syncCatalog();
  const addr = email();
  const id = await createAccount(addr, "enterprise");
  if (credit > 0) {
    const r = await json(
      "POST",
      `/admin/v1/accounts/${id}/credits`,
      { amount: credit, reason: "t", idempotency_key: `fund-${id}` },
      adminHeaders,
    );
    expect(r.status).toBe(200);
  }
  const s = await signIn(addr);
  const post = (path: string, fields: Record<string, string>, csrf: string | null = s.csrf) =>
    call(path, {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie },
      body: form(csrf === null ? fields : { _csrf: csrf, ...fields }),
      redirect: "manual",
    });
  const get = (path: string, headers: Record<string, string> = {}) =>
    call(path, { headers: { cookie: s.cookie, ...headers } });
  return { id, ...s, post, get };
}

async function create(u: Awaited<ReturnType<typeof user>>, fields: Record<string, string> = {}) {
  const name = `web-${crypto.randomUUID().slice(0, 8)}`;
  const r = await u.post("/console/endpoints", {
    name,
    model: MODEL,
    gpu_class: "cpu",
    min_instances: "0",
    max_instances: "1",
    idle_timeout_s: "60",
    max_hourly_spend: "",
    ...fields,
  });
  return { r, name };
}

describe("console: dedicated endpoints", () => {
  it("create through the form, see it listed, scale, pause, resume, delete", async () => {
    const u = await user();
    const list0 = await (await u.get("/console/endpoints")).text();
    expect(list0).toContain("No endpoints yet");
    expect(list0).toContain(`<option value="${MODEL}"`);

    const { r, name } = await create(u, { max_hourly_spend: "1.50" });
    expect(r.status).toBe(303);
    const id = r.headers.get("location")!.match(/^\/console\/endpoints\/(ep_[A-Za-z0-9_-]+)$/)![1]!;

    const list = await (await u.get("/console/endpoints")).text();
    expect(list).toContain(`data-endpoint="${id}"`);
    expect(list).toContain(name);
    expect(list).toContain("$0.36/h"); // the cpu price per instance-hour, frozen at creation

    const page = await (await u.get(`/console/endpoints/${id}`)).text();
    expect(page).toContain(`hx-get="/console/endpoints/${id}/live"`);
    expect(page).toMatch(/hx-trigger="every \d+s"/);
    expect(page).toContain("spend capped at $1.50/h");
    const api = await json("GET", `/v1/endpoints/${id}`, undefined, {}); // no key: the console is not an API client
    expect(api.status).toBe(401);

    // Scale up: a dedicated agent takes the reservation and reports ready; the live fragment shows the instance.
    const agent = await dedicatedAgent([MODEL], "cpu");
    const scaled = await u.post(`/console/endpoints/${id}/scale`, { min_instances: "1", max_instances: "2" });
    expect(scaled.status).toBe(200);
    const scaledText = await scaled.text();
    expect(scaledText).toContain("Scaling saved.");
    expect(scaledText).toContain('id="scale-min" name="min_instances" type="number" min="0" max="10" value="1"');
    await agent.serve();
    await agent.serve();
    const live = await u.get(`/console/endpoints/${id}/live`, { "hx-request": "true" });
    expect(live.status).toBe(200);
    const fragment = await live.text();
    expect(fragment).not.toContain("<html");
    expect(fragment).toMatch(/data-instance="[^"]+"/);
    expect(fragment).toContain(`<span class="status ready">ready</span>`);
    expect(fragment).toContain(`$0.36/h`); // one ready instance's spend rate

    // A scale the schema refuses changes nothing.
    const bad = await u.post(`/console/endpoints/${id}/scale`, { min_instances: "3", max_instances: "2" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("max_instances must be at least min_instances");

    const paused = await u.post(`/console/endpoints/${id}/pause`, {});
    expect(paused.status).toBe(200);
    const pausedText = await paused.text();
    expect(pausedText).toContain(`<span class="status paused" id="endpoint-state">paused</span>`);
    expect(pausedText).toContain(`action="/console/endpoints/${id}/resume"`);
    expect((await balances(u.id)).held).toBe(0);

    const resumed = await u.post(`/console/endpoints/${id}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).not.toContain(`id="endpoint-state">paused<`);

    const del = await u.post(`/console/endpoints/${id}/delete`, {});
    expect(del.status).toBe(200);
    const after = await del.text();
    expect(after).toContain(`Endpoint ${name} deleted.`);
    expect(after).not.toContain(`data-endpoint="${id}"`);
    expect((await u.get(`/console/endpoints/${id}`)).status).toBe(404);
    const s = await balances(u.id);
    expect(s.held).toBe(0);
    expect(s.spent).toBeLessThanOrEqual(CPU_PRICE);
  });

  it("the service's validation shows on the form and creates nothing", async () => {
    const u = await user();
    const badName = await create(u, { name: "Bad Name!", max_instances: "0" });
    expect(badName.r.status).toBe(400);
    const t = await badName.r.text();
    expect(t).toContain('data-field-error="name"');
    expect(t).toContain('data-field-error="max_instances"');
    expect(t).toContain('value="Bad Name!"'); // what was typed comes back

    // Refused by the service, not the schema: the model has no "other" class, and the cap cannot fund the minimum.
    const gpu = await create(u, { gpu_class: "other" });
    expect(gpu.r.status).toBe(400);
    const gt = await gpu.r.text();
    expect(gt).toContain(`${MODEL} does not run on other`);
    expect(gt).toContain('data-field-error="gpu_class"');
    const cap = await create(u, { min_instances: "1", max_hourly_spend: "0.10" });
    expect(cap.r.status).toBe(400);
    expect(await cap.r.text()).toContain('data-field-error="max_hourly_spend"');

    const poor = await user(0);
    const broke = await create(poor, { min_instances: "1" });
    expect(broke.r.status).toBe(402);
    expect(await broke.r.text()).toContain("need 90000 micro-USD of runway");

    expect(await (await u.get("/console/endpoints")).text()).toContain("No endpoints yet");
    expect(await (await poor.get("/console/endpoints")).text()).toContain("No endpoints yet");
  });

  it("a post without the CSRF token is refused; another account's endpoint is 404", async () => {
    const u = await user();
    const { r } = await create(u);
    const id = r.headers.get("location")!.split("/").pop()!;

    const noToken = await u.post(`/console/endpoints/${id}/delete`, {}, null);
    expect(noToken.status).toBe(403);
    const wrong = await u.post(`/console/endpoints/${id}/pause`, {}, "x".repeat(43));
    expect(wrong.status).toBe(403);
    const forged = await u.post("/console/endpoints", { name: "forged", model: MODEL, gpu_class: "cpu" }, null);
    expect(forged.status).toBe(403);
    const page = await (await u.get(`/console/endpoints/${id}`)).text();
    expect(page).toContain('id="endpoint-state"');
    expect(page).not.toContain(">paused<");
    expect(await (await u.get("/console/endpoints")).text()).not.toContain(">forged<");

    const other = await user();
    for (const path of [`/console/endpoints/${id}`, `/console/endpoints/${id}/live`]) {
      expect((await other.get(path)).status).toBe(404);
    }
    for (const op of ["scale", "pause", "resume", "delete"]) {
      const res = await other.post(`/console/endpoints/${id}/${op}`, { min_instances: "1", max_instances: "1" });
      expect(res.status).toBe(404);
    }
    // Still there, untouched, for its owner.
    const mine = await u.get(`/console/endpoints/${id}`);
    expect(mine.status).toBe(200);
    const mineText = await mine.text();
    expect(mineText).toContain('id="scale-min" name="min_instances" type="number" min="0" max="10" value="0"');
    expect(mineText).toContain('id="endpoint-state">scaled_to_zero<');
  });
});
