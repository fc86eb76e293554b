import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "../src/index.ts";

// The Standard Webhooks specification's test vector.
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const OTHER = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const headers = (sig: string, ts = TS) => ({
  "webhook-id": ID,
  "webhook-timestamp": String(ts),
  "webhook-signature": sig,
});

describe("verifyWebhook", () => {
  it("accepts the specification's vector and returns the parsed body", async () => {
    expect(await verifyWebhook(SECRET, headers(SIG), BODY, { now: TS })).toEqual({ test: 2432232314 });
    expect(await verifyWebhook(SECRET, new Headers(headers(SIG)), BODY, { now: TS + 299 })).toEqual({
      test: 2432232314,
    });
  });

  it("during a rotation: any matching entry of several, with either of the receiver's secrets", async () => {
    expect(await verifyWebhook(SECRET, headers(`v1,AAAA ${SIG}`), BODY, { now: TS })).toBeTruthy();
    expect(await verifyWebhook([OTHER, SECRET], headers(SIG), BODY, { now: TS })).toBeTruthy();
  });

  it("rejects a tampered body, a wrong secret, a stale timestamp, other versions and missing headers", async () => {
    const cases: [string | string[], Record<string, string>, string][] = [
      [SECRET, headers(SIG), '{"test": 2432232315}'],
      [OTHER, headers(SIG), BODY],
      [SECRET, headers(SIG, TS - 301), BODY],
      [SECRET, headers(SIG.replace("v1,", "v2,")), BODY],
      [SECRET, { "webhook-id": ID, "webhook-timestamp": String(TS) }, BODY],
      [SECRET, headers("v1,not base64!"), BODY],
    ];
    for (const [secret, h, body] of cases) {
      await expect(verifyWebhook(secret, h, body, { now: TS })).rejects.toBeInstanceOf(WebhookVerificationError);
    }
  });
});
