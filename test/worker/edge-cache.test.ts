import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SHARED_TTL_MS, setEdgeClock } from "../../src/services/edge-cache.ts";
import { adminHeaders, call, json, newAccount, newAgent, resetBroker, syncCatalog } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);
afterEach(() => setEdgeClock(null));

/** A clock the edge cache reads; the test moves it instead of waiting. */
function fakeClock() {
  let t = Date.now();
  setEdgeClock(() => t);
  return { advance: (ms: number) => (t += ms) };
}

const account = (key: string) => call("/v1/account", { headers: { "x-api-key": key } });

describe("edge cache: API keys", () => {
  it("a key revoked through the API is refused at once by the isolate that revoked it", async () => {
    const a = await newAccount();
    expect((await account(a.key)).status).toBe(200);
    const r = await call(`/admin/v1/keys/${a.keyId}`, { method: "DELETE", headers: adminHeaders });
    expect(r.status).toBe(200);
    const after = await account(a.key);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
  });

  it("a key revoked elsewhere (straight in D1) works until the cache bound and is refused after it", async () => {
    const clock = fakeClock();
    const a = await newAccount();
    expect((await account(a.key)).status).toBe(200);
    // Another isolate or colo revoked it: nothing here was told.
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), a.keyId).run();
    clock.advance(SHARED_TTL_MS - 1_000);
    expect((await account(a.key)).status).toBe(200); // the documented window
    clock.advance(2_000);
    expect((await account(a.key)).status).toBe(401);
  });

  it("a plan changed through the admin API applies at once", async () => {
    const a = await newAccount("free");
    const plan = async () => ((await (await account(a.key)).json()) as { plan: string }).plan;
    expect(await plan()).toBe("free");
    const r = await json("PUT", `/admin/v1/accounts/${a.id}/plan`, { plan: "pro" }, adminHeaders);
    expect(r.status).toBe(200);
    expect(await plan()).toBe("pro");
  });

  it("a key made a moment ago works at once (an unknown key is never cached as missing)", async () => {
    const bogus = "sk_live_not_a_key_0123456789";
    expect((await account(bogus)).status).toBe(401);
    const a = await newAccount();
    expect((await account(a.key)).status).toBe(200);
  });
});

describe("edge cache: agent tokens", () => {
  const tokenId = async (token: string) => {
    const { sha256Hex } = await import("../../src/services/crypto.ts");
    const row = await env.DB.prepare("SELECT id FROM agent_tokens WHERE hash = ?")
      .bind(await sha256Hex(token))
      .first<{ id: string }>();
    return row!.id;
  };

  it("a token revoked through the API is refused at once", async () => {
    const agent = await newAgent();
    expect(await agent.lease()).toEqual([]);
    const r = await call(`/admin/v1/agent-tokens/${await tokenId(agent.token)}`, {
      method: "DELETE",
      headers: adminHeaders,
    });
    expect(r.status).toBe(200);
    const res = await json(
      "POST",
      "/agent/v1/lease",
      { agent_id: agent.id, slots_free: 1, wait_ms: 0 },
      { authorization: `Bearer ${agent.token}` },
    );
    expect(res.status).toBe(401);
  });

  it("a token revoked straight in D1 is refused once the bound has passed", async () => {
    const clock = fakeClock();
    const agent = await newAgent();
    const lease = () =>
      json(
        "POST",
        "/agent/v1/lease",
        { agent_id: agent.id, slots_free: 1, wait_ms: 0 },
        { authorization: `Bearer ${agent.token}` },
      );
    expect((await lease()).status).toBe(204);
    await env.DB.prepare("UPDATE agent_tokens SET revoked_at = ? WHERE id = ?")
      .bind(Date.now(), await tokenId(agent.token))
      .run();
    clock.advance(SHARED_TTL_MS - 1_000);
    expect((await lease()).status).toBe(204);
    clock.advance(2_000);
    expect((await lease()).status).toBe(401);
  });
});
