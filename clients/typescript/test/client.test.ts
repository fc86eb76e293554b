import { describe, expect, expectTypeOf, it } from "vitest";
import {
  EdgeInference,
  EdgeInferenceError,
  RequestFailedError,
  WaitTimeoutError,
  type ErrorCode,
  type RequestStatus,
} from "../src/index.ts";

/** A scripted platform: each call gets the next answer; the calls are kept for assertions. */
function platform(answers: (() => Response)[]) {
  const calls: { method: string; url: string; headers: Headers; body: unknown }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    calls.push({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body ? await req.json() : undefined,
    });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected call ${req.method} ${req.url}`);
    return next();
  }) as typeof globalThis.fetch;
  return { client: new EdgeInference({ apiKey: "sk_test", baseUrl: "http://p.test/", fetch }), calls };
}
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const view = (status: string, extra: object = {}) => ({ request_id: "req_1", status, ...extra });

describe("typed client", () => {
  it("types come from the OpenAPI document", () => {
    expectTypeOf<RequestStatus>().toEqualTypeOf<"QUEUED" | "PROCESSING" | "COMPLETED" | "FAILED" | "CANCELLED">();
    expectTypeOf<"rate_limited">().toExtend<ErrorCode>();
    expectTypeOf<"insufficient_credits">().toExtend<ErrorCode>();
  });

  it("run: a sync answer comes back as is; bytes are sent as base64 with the key and a wait preference", async () => {
    const { client, calls } = platform([
      json(200, {
        request_id: "req_1",
        status: "COMPLETED",
        output: null,
        output_json: { top: "Neutral" },
        metrics: {},
        cost: 5,
      }),
    ]);
    const r = await client.run("nsfw-detector", { image: new Uint8Array([1, 2, 3]) }, { syncWaitSeconds: 30 });
    expect(r.output_json).toEqual({ top: "Neutral" });
    expect(calls[0]).toMatchObject({ method: "POST", url: "http://p.test/v1/nsfw-detector", body: { image: "AQID" } });
    expect(calls[0]!.headers.get("x-api-key")).toBe("sk_test");
    expect(calls[0]!.headers.get("prefer")).toBe("wait=30");
    expect(calls[0]!.headers.get("accept")).toBe("application/json");
  });

  it("run: a 202 falls back to waiting for the queued request", async () => {
    const { client, calls } = platform([
      json(202, view("QUEUED")),
      json(200, view("PROCESSING")),
      json(200, view("COMPLETED")),
      json(200, view("COMPLETED", { output_json: { ok: 1 } })),
    ]);
    const r = await client.run("nsfw-detector", { image: "x" }, { syncWaitSeconds: 1 });
    expect(r.output_json).toEqual({ ok: 1 });
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      "POST /v1/nsfw-detector",
      "GET /v2/requests/req_1/status",
      "GET /v2/requests/req_1/status",
      "GET /v2/requests/req_1",
    ]);
  });

  it("run: a failed model run throws RequestFailedError with the kind, sync or after the fallback", async () => {
    const sync = platform([
      json(422, {
        error: {
          code: "unprocessable",
          message: "image does not decode",
          request_id: "h1",
          details: { request_id: "req_1", kind: "invalid_input" },
        },
      }),
    ]);
    const e1 = await sync.client.run("nsfw-detector", { image: "x" }).catch((e) => e);
    expect(e1).toBeInstanceOf(RequestFailedError);
    expect(e1).toMatchObject({
      code: "unprocessable",
      kind: "invalid_input",
      inferenceRequestId: "req_1",
      retryable: false,
    });

    const fallback = platform([
      json(202, view("QUEUED")),
      json(200, view("FAILED")),
      json(
        200,
        view("FAILED", { error: { kind: "timeout", code: "timeout", message: "execution exceeded 120000 ms" } }),
      ),
    ]);
    const e2 = await fallback.client.run("sdxl1.0-txt2img", { prompt: "x" }).catch((e) => e);
    expect(e2).toBeInstanceOf(RequestFailedError);
    expect(e2).toMatchObject({ code: "timeout", kind: "timeout", retryable: true });
  });

  it("error answers become EdgeInferenceError with the stable code, fields and Retry-After", async () => {
    const { client } = platform([
      json(400, {
        error: {
          code: "invalid_input",
          message: "input failed validation",
          request_id: "h2",
          details: { fields: [{ path: "image", message: "required" }] },
        },
      }),
      json(429, { error: { code: "rate_limited", message: "slow down", request_id: "h3" } }, { "retry-after": "12" }),
      () => new Response("<html>bad gateway</html>", { status: 502 }),
    ]);
    const bad = await client.submit("nsfw-detector", {}).catch((e) => e);
    expect(bad).toBeInstanceOf(EdgeInferenceError);
    expect(bad).toMatchObject({
      code: "invalid_input",
      status: 400,
      requestId: "h2",
      fields: [{ path: "image", message: "required" }],
    });
    const limited = await client.account().catch((e) => e);
    expect(limited).toMatchObject({ code: "rate_limited", retryAfter: 12, retryable: true });
    const proxy = await client.models().catch((e) => e);
    expect(proxy).toMatchObject({ code: "internal", status: 502 });
  });

  it("submit sends the webhook and Idempotency-Key; wait gives up with WaitTimeoutError", async () => {
    const { client, calls } = platform([json(202, view("QUEUED")), json(200, view("QUEUED"))]);
    await client.submit("nsfw-detector", { image: "x" }, { webhook: "https://example.com/h", idempotencyKey: "k1" });
    expect(calls[0]!.body).toEqual({ image: "x", webhook: "https://example.com/h" });
    expect(calls[0]!.headers.get("idempotency-key")).toBe("k1");
    const e = await client.wait("req_1", { timeoutMs: 0 }).catch((x) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect(e).toMatchObject({ inferenceRequestId: "req_1", last: { status: "QUEUED" } });
  });
});
