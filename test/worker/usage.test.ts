import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newAccount } from "./helpers.ts";

type Page = {
  data: { request_id: string; error: { kind: string; code: string } | null }[];
  next_cursor: string | null;
};

describe("GET /v1/usage", () => {
  it("pages newest first by (created_at, id), ties included, and refuses a cursor it did not issue", async () => {
    const a = await newAccount();
    // five rows, two of them with the same created_at, as the events queue projects them
    const at = [1_000, 2_000, 2_000, 3_000, 4_000];
    for (const [i, t] of at.entries())
      await env.DB.prepare(
        `INSERT INTO requests (id, account_id, model, pool, mode, status, base_url, created_at, error_kind)
         VALUES (?, ?, 'nsfw-detector', 'public', 'async', ?, 'http://x', ?, ?)`,
      )
        .bind(`req_u${i}`, a.id, i === 0 ? "FAILED" : "COMPLETED", t, i === 0 ? "oom" : null)
        .run();
    const get = async (q: string) => {
      const r = await call(`/v1/usage${q}`, { headers: { "x-api-key": a.key } });
      return { status: r.status, body: (await r.json()) as Page };
    };
    const seen: string[] = [];
    let page = await get("?limit=2");
    for (;;) {
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((d) => d.request_id));
      if (!page.body.next_cursor) break;
      page = await get(`?limit=2&cursor=${encodeURIComponent(page.body.next_cursor)}`);
    }
    expect(seen).toEqual(["req_u4", "req_u3", "req_u2", "req_u1", "req_u0"]);
    const last = await get("?limit=5");
    expect(last.body.data[4]?.error).toEqual({ kind: "oom", code: expect.any(String) });
    expect(last.body.next_cursor).toBeNull();

    const bad = await call("/v1/usage?cursor=nonsense", { headers: { "x-api-key": a.key } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
  });
});
