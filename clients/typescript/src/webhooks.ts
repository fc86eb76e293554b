/**
 * Verifies a webhook from the platform (Standard Webhooks): `webhook-signature` holds one or more space-separated
 * `v1,<base64 HMAC-SHA256>` entries over `${webhook-id}.${webhook-timestamp}.${body}`, keyed by the base64-decoded part
 * of the `whsec_…` secret. During a secret rotation deliveries carry one entry per secret, and a receiver may pass
 * both of its secrets. Uses WebCrypto only: runs in Node 20+, Workers, Deno and browsers.
 */
import type { RequestResult } from "./types.ts";

export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
}

export interface VerifyOptions {
  /** how far the timestamp may be from now, in seconds (default 300, as the specification suggests) */
  toleranceSeconds?: number;
  /** now, in seconds since the epoch (tests) */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderSource, name: string): string | null {
  if (typeof (h as Headers).get === "function") return (h as Headers).get(name);
  const v =
    (h as Record<string, string | string[] | undefined>)[name] ??
    (h as Record<string, string | undefined>)[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

function base64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Equal without leaking where they differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export async function sign(secret: string, id: string, timestamp: number, body: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    base64ToBytes(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
}

/**
 * Returns the parsed body when a signature matches one of `secrets` and the timestamp is fresh; throws
 * WebhookVerificationError otherwise. Pass the raw body exactly as received (not re-serialized JSON).
 */
export async function verifyWebhook(
  secrets: string | string[],
  headers: HeaderSource,
  body: string,
  opts: VerifyOptions = {},
): Promise<RequestResult> {
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const sigs = header(headers, "webhook-signature");
  if (!id || !ts || !sigs)
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  const timestamp = Number(ts);
  if (!/^\d+$/.test(ts)) throw new WebhookVerificationError("webhook-timestamp is not a number of seconds");
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300))
    throw new WebhookVerificationError("webhook-timestamp is too far from now");
  const presented = sigs.split(" ").flatMap((s) => {
    const [version, value] = s.split(",", 2);
    if (version !== "v1" || !value) return [];
    try {
      return [base64ToBytes(value)];
    } catch {
      return [];
    }
  });
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    const expected = await sign(secret, id, timestamp, body);
    if (presented.some((p) => constantTimeEqual(p, expected))) return JSON.parse(body) as RequestResult;
  }
  throw new WebhookVerificationError("no signature matches");
}
