import { base64url, hmacSha256, safeEqual } from "./crypto.ts";

export const OUTPUT_URL_TTL_S = 3600;

export function baseUrl(publicBase: string | undefined, requestUrl: string): string {
  return (publicBase ?? new URL(requestUrl).origin).replace(/\/$/, "");
}

export function requestUrls(base: string, id: string) {
  return {
    status_url: `${base}/v2/requests/${id}/status`,
    response_url: `${base}/v2/requests/${id}`,
    cancel_url: `${base}/v2/requests/${id}/cancel`,
  };
}

async function signature(secret: string, requestId: string, name: string, expires: number): Promise<string> {
  return base64url(await hmacSha256(secret, `output:${requestId}/${name}:${expires}`));
}

/** A signed, expiring URL for one output; only the owner is ever handed one. */
export async function signOutputUrl(secret: string, base: string, requestId: string, name: string, nowMs: number) {
  const expires = Math.floor(nowMs / 1000) + OUTPUT_URL_TTL_S;
  const sig = await signature(secret, requestId, name, expires);
  return {
    url: `${base}/v2/requests/${requestId}/outputs/${encodeURIComponent(name)}?expires=${expires}&sig=${sig}`,
    expires_at: new Date(expires * 1000).toISOString(),
  };
}

export async function verifyOutputSignature(
  secret: string,
  requestId: string,
  name: string,
  expires: number,
  sig: string,
  nowMs: number,
): Promise<boolean> {
  if (!Number.isInteger(expires) || expires * 1000 < nowMs) return false;
  return safeEqual(await signature(secret, requestId, name, expires), sig);
}

export const r2Keys = {
  input: (account: string, id: string, field: string) => `accounts/${account}/requests/${id}/inputs/${field}`,
  output: (account: string, id: string, name: string) => `accounts/${account}/requests/${id}/outputs/${name}`,
};
