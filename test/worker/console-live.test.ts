import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PNG_1x1, call, resetBroker, syncCatalog } from "./helpers.ts";
import { ORIGIN, signIn } from "./console-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

async function run(s: { cookie: string; csrf: string }, htmx = false): Promise<Response> {
  const fd = new FormData();
  fd.set("_csrf", s.csrf);
  fd.set("image", `data:image/png;base64,${PNG_1x1}`);
  return call("/console/models/nsfw-detector/run", {
    method: "POST",
    headers: { ...ORIGIN, cookie: s.cookie, ...(htmx ? { "hx-request": "true" } : {}) },
    body: fd,
    redirect: "manual",
  });
}

/** Reads the stream until `n` events arrived (or it ended), then lets it go. */
async function events(r: Response, n: number): Promise<string[]> {
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  const types: string[] = [];
  while (types.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
    const frames = text.split("\n\n");
    text = frames.pop()!;
    for (const f of frames) {
      const t = f.split("\n").find((l) => l.startsWith("event: "));
      if (t) types.push(t.slice(7));
    }
  }
  await reader.cancel();
  return types;
}

describe("console playground live progress", () => {
  it("the run answers with the live progress line beside a slowly polling card; the stream needs the session", async () => {
    const a = await signIn();
    const r = await run(a, true);
    expect(r.status).toBe(200);
    const html = await r.text();
    const id = /data-events="\/console\/requests\/([^/]+)\/events"/.exec(html)![1]!;
    expect(html).toContain('hx-trigger="every 3s, live-done from:body"');

    const stream = await call(`/console/requests/${id}/events`, { headers: { cookie: a.cookie } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    // Nothing has taken the job (no agent here): the stream says it is queued, with its position.
    expect(await events(stream, 1)).toEqual([expect.stringMatching(/^(queued|queue)$/)]);

    // Another account, or nobody: no stream.
    const b = await signIn();
    expect((await call(`/console/requests/${id}/events`, { headers: { cookie: b.cookie } })).status).toBe(404);
    const anon = await call(`/console/requests/${id}/events`, { redirect: "manual" });
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toMatch(/^\/console\/sign-in\?next=/);
  });
});
