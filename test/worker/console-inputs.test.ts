import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, call, resetBroker, syncCatalog } from "./helpers.ts";
import { ORIGIN, apiKey, createAccount, email, signIn } from "./console-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const PNG = Uint8Array.from(atob(PNG_1x1), (ch) => ch.charCodeAt(0));

describe("console: a small input, kept only inside its job", () => {
  it("is listed and served while the request is queued, to its owner only, and no longer once it has ended", async () => {
    const addr = email();
    const key = await apiKey(await createAccount(addr, "pro"));
    const s = await signIn(addr);
    const other = await signIn();
    const fd = new FormData();
    fd.set("_csrf", s.csrf);
    fd.set("image__file", new File([PNG], "p.png", { type: "image/png" }));
    fd.set("image", "");
    const run = await call("/console/models/nsfw-detector/run", {
      method: "POST",
      headers: { ...ORIGIN, cookie: s.cookie, "hx-request": "true" },
      body: fd,
    });
    expect(run.status).toBe(200);
    const id = (await run.text()).match(/\/console\/requests\/(req_[A-Za-z0-9_-]+)/)![1]!;
    const link = `/console/requests/${id}/inputs/image`;

    const page = await (await call(`/console/requests/${id}`, { headers: { cookie: s.cookie } })).text();
    expect(page).toContain(link);
    const img = await call(link, { headers: { cookie: s.cookie } });
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(PNG);
    expect((await call(link, { headers: { cookie: other.cookie } })).status).toBe(404);

    const cancel = await call(`/v2/requests/${id}/cancel`, { method: "POST", headers: { "x-api-key": key } });
    expect(cancel.status).toBe(200);
    const after = await (await call(`/console/requests/${id}`, { headers: { cookie: s.cookie } })).text();
    expect(after).not.toContain(link);
    expect((await call(link, { headers: { cookie: s.cookie } })).status).toBe(404);
  });
});
