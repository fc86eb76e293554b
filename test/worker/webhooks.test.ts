import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { DeliveryPage, WebhookDelivery, WebhookSecretView } from "../../schemas/index.ts";
import { handleWebhooks } from "../../src/queues/webhooks.ts";
import { signWebhook } from "../../src/services/crypto.ts";
import { PNG_1x1, call, json, newAccount, newAgent, resetBroker, syncCatalog, projected } from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);
afterEach(() => vi.restoreAllMocks());

interface Seen {
  url: string;
  headers: Headers;
  body: string;
}

/** The receiver: answers each delivery with the next scripted outcome (a status, or a thrown network error). */
function receiver(script: (number | Error)[]): Seen[] {
  const seen: Seen[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    seen.push({ url: req.url, headers: req.headers, body: await req.text() });
    const next = script.shift() ?? 200;
    if (next instanceof Error) throw next;
    return new Response("ok", { status: next });
  });
  return seen;
}

/** A finished request of a new account, as the webhook consumer finds it. */
async function finishedRequest() {
  const acct = await newAccount();
  const sub = await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, { "x-api-key": acct.key });
  const { request_id } = (await sub.json()) as { request_id: string };
  const agent = await newAgent();
  const [job] = await agent.lease();
  const done = await agent.post(`/agent/v1/jobs/${job!.job_id}/complete`, {
    lease_id: job!.lease_id,
    epoch: job!.epoch,
    outputs: [],
    output_json: { top: "Neutral" },
    metrics: { gpu_ms: 10, load_ms: 0, gpu_class: "cpu" },
  });
  expect(done.status).toBe(200);
  // the consumer reads the request row, which the events queue projects from the broker's outbox
  await projected(request_id, (r) => r.status === "COMPLETED");
  return { ...acct, request_id, auth: { "x-api-key": acct.key } };
}

let seq = 0;
async function deliver(body: WebhookDelivery, attempts = 1) {
  const batch = createMessageBatch<WebhookDelivery>("edge-inference-webhooks", [
    { id: `m${seq++}`, timestamp: Date.now(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await handleWebhooks(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

const message = (
  r: { id: string; request_id: string },
  webhookId = `wh_${r.request_id}:finished`,
): WebhookDelivery => ({
  webhook_id: webhookId,
  request_id: r.request_id,
  account_id: r.id,
  url: "https://hooks.example.com/hook",
});

async function deliveries(auth: Record<string, string>, query = ""): Promise<DeliveryPage> {
  const r = await call(`/v1/webhooks/deliveries${query}`, { headers: auth });
  expect(r.status).toBe(200);
  return (await r.json()) as DeliveryPage;
}

describe("webhook delivery log", () => {
  it("records each attempt: the receiver's status, latency, error and the next retry", async () => {
    const r = await finishedRequest();
    receiver([500, 200]);
    const first = await deliver(message(r), 1);
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["m0"].map(() => expect.any(String)));
    expect(first.explicitAcks).toEqual([]);
    let page = await deliveries(r.auth);
    expect(page.data).toHaveLength(1);
    const d = page.data[0]!;
    expect(d).toMatchObject({
      request_id: r.request_id,
      webhook_id: `wh_${r.request_id}:finished`,
      status: "retrying",
      attempts: 1,
      last_status_code: 500,
    });
    expect(d.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, redelivery: false, status_code: 500, error: "receiver answered 500" }),
    ]);
    const retryAt = Date.parse(d.attempt_log[0]!.next_retry_at!) - Date.parse(d.attempt_log[0]!.at);
    expect(retryAt).toBeGreaterThanOrEqual(10_000);
    expect(d.attempt_log[0]!.latency_ms).toBeGreaterThanOrEqual(0);

    const second = await deliver(message(r), 2);
    expect(second.explicitAcks).toHaveLength(1);
    page = await deliveries(r.auth);
    expect(page.data[0]).toMatchObject({
      status: "succeeded",
      attempts: 2,
      last_status_code: 200,
      next_retry_at: null,
    });
    expect(page.data[0]!.attempt_log.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, "receiver answered 500"],
      [2, 200, null],
    ]);
  });

  it("a network error has no status code; the last attempt fails the delivery with no retry left", async () => {
    const r = await finishedRequest();
    receiver([new TypeError("connection refused"), 302]);
    await deliver(message(r), 1);
    await deliver(message(r), 9);
    const [d] = (await deliveries(r.auth)).data;
    expect(d).toMatchObject({ status: "failed", attempts: 2, last_status_code: 302, next_retry_at: null });
    expect(d!.attempt_log[0]).toMatchObject({ status_code: null, error: "TypeError: connection refused" });
    expect(d!.attempt_log[0]!.next_retry_at).not.toBeNull();
    expect(d!.attempt_log[1]).toMatchObject({
      status_code: 302,
      error: "receiver answered 302 (redirects are not followed)",
      next_retry_at: null,
    });
  });

  it("filters by request and status, pages with a cursor, and shows an account only its own", async () => {
    const r = await finishedRequest();
    receiver([200, 500, 200]);
    for (const n of [1, 2, 3]) await deliver(message(r, `wh_${r.request_id}:${n}`));
    const all = await deliveries(r.auth, "?limit=2");
    expect(all.data.map((d) => d.webhook_id)).toEqual([`wh_${r.request_id}:3`, `wh_${r.request_id}:2`]);
    const rest = await deliveries(r.auth, `?limit=2&cursor=${all.next_cursor}`);
    expect(rest.data.map((d) => d.webhook_id)).toEqual([`wh_${r.request_id}:1`]);
    expect(rest.next_cursor).toBeNull();
    expect((await deliveries(r.auth, "?status=retrying")).data.map((d) => d.webhook_id)).toEqual([
      `wh_${r.request_id}:2`,
    ]);
    expect((await deliveries(r.auth, `?request_id=${r.request_id}&status=succeeded`)).data).toHaveLength(2);
    expect((await deliveries(r.auth, "?request_id=req_other")).data).toEqual([]);

    const other = await newAccount();
    expect((await deliveries({ "x-api-key": other.key })).data).toEqual([]);
    const id = all.data[0]!.id;
    expect(
      (await call(`/v1/webhooks/deliveries/${id}/redeliver`, { method: "POST", headers: { "x-api-key": other.key } }))
        .status,
    ).toBe(404);
  });

  it("rejects a bad filter or cursor with invalid_input, and a missing key with 401", async () => {
    const { key } = await newAccount();
    for (const q of ["?status=lost", "?limit=0", "?cursor=bm9wZQ", "?nope=1"]) {
      const res = await call(`/v1/webhooks/deliveries${q}`, { headers: { "x-api-key": key } });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    }
    expect((await call("/v1/webhooks/deliveries")).status).toBe(401);
  });

  it("redelivers a finished delivery under the same webhook-id; refuses one whose retries are scheduled", async () => {
    const r = await finishedRequest();
    const seen = receiver([500, 200, 200]);
    await deliver(message(r), 1);
    const [d] = (await deliveries(r.auth)).data;
    const refused = await call(`/v1/webhooks/deliveries/${d!.id}/redeliver`, { method: "POST", headers: r.auth });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("conflict");
    await deliver(message(r), 2);

    const sent: WebhookDelivery[] = [];
    vi.spyOn(env.WEBHOOKS, "send").mockImplementation(async (body) => {
      sent.push(body as WebhookDelivery);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendResponse;
    });
    const res = await call(`/v1/webhooks/deliveries/${d!.id}/redeliver`, { method: "POST", headers: r.auth });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: d!.id, webhook_id: d!.webhook_id, status: "pending" });
    expect(sent).toEqual([{ ...message(r), redelivery: true }]);

    await deliver(sent[0]!, 1);
    const [after] = (await deliveries(r.auth)).data;
    expect(after).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(after!.attempt_log[2]).toMatchObject({ attempt: 3, redelivery: true, status_code: 200 });
    expect(seen.map((s) => s.headers.get("webhook-id"))).toEqual([d!.webhook_id, d!.webhook_id, d!.webhook_id]);
  });
});

describe("webhook signing secret rotation", () => {
  async function secret(auth: Record<string, string>): Promise<WebhookSecretView> {
    return (await (await call("/v1/webhooks/secret", { headers: auth })).json()) as WebhookSecretView;
  }

  it("signs with both secrets during the overlap, then with the new one alone", async () => {
    const r = await finishedRequest();
    const before = await secret(r.auth);
    expect(before).toEqual({ secret: expect.stringMatching(/^whsec_/), previous_secret_expires_at: null });

    const rot = await json("POST", "/v1/webhooks/secret/rotate", { overlap_seconds: 3600 }, r.auth);
    expect(rot.status).toBe(200);
    const rotated = (await rot.json()) as WebhookSecretView;
    expect(rotated.secret).not.toBe(before.secret);
    expect(Date.parse(rotated.previous_secret_expires_at!) - Date.now()).toBeGreaterThan(3500_000);
    expect(await secret(r.auth)).toEqual(rotated);

    const seen = receiver([200, 200]);
    await deliver(message(r, "wh_rotation_1"));
    const h = seen[0]!.headers;
    const ts = Number(h.get("webhook-timestamp"));
    expect(h.get("webhook-signature")).toBe(
      [
        await signWebhook(rotated.secret, "wh_rotation_1", ts, seen[0]!.body),
        await signWebhook(before.secret, "wh_rotation_1", ts, seen[0]!.body),
      ].join(" "),
    );

    // Rotating again with no overlap retires both earlier secrets at once.
    const again = (await (
      await json("POST", "/v1/webhooks/secret/rotate", { overlap_seconds: 0 }, r.auth)
    ).json()) as WebhookSecretView;
    expect(again.previous_secret_expires_at).toBeNull();
    await deliver(message(r, "wh_rotation_2"));
    const h2 = seen[1]!.headers;
    expect(h2.get("webhook-signature")).toBe(
      await signWebhook(again.secret, "wh_rotation_2", Number(h2.get("webhook-timestamp")), seen[1]!.body),
    );
  });

  it("defaults to a day of overlap; a bad body changes nothing", async () => {
    const { key } = await newAccount();
    const auth = { "x-api-key": key };
    const before = await secret(auth);
    for (const body of [{ overlap_seconds: -1 }, { overlap_seconds: 8 * 24 * 3600 }, { overlap: 5 }]) {
      const res = await json("POST", "/v1/webhooks/secret/rotate", body, auth);
      expect(res.status).toBe(400);
    }
    expect(await secret(auth)).toEqual(before);
    const r = (await (await json("POST", "/v1/webhooks/secret/rotate", undefined, auth)).json()) as WebhookSecretView;
    const overlap = Date.parse(r.previous_secret_expires_at!) - Date.now();
    expect(overlap).toBeGreaterThan(23 * 3600_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600_000);
    expect((await json("POST", "/v1/webhooks/secret/rotate", {}, {})).status).toBe(401);
  });
});
