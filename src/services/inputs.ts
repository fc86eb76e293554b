import { ApiError } from "../errors.ts";
import type { Config } from "../env.ts";

export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

export interface ResolvedInput {
  bytes: Uint8Array;
  contentType: string;
}

function decodeBase64(b64: string, field: string): Uint8Array {
  const clean = b64.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length === 0) {
    throw new ApiError("invalid_input", `${field}: not base64, a data URL, or an https URL`, { fields: [{ path: field, message: "unrecognised image encoding" }] });
  }
  if ((clean.length * 3) / 4 > MAX_IMAGE_BYTES) throw new ApiError("payload_too_large", `${field}: image exceeds ${MAX_IMAGE_BYTES} bytes`);
  // Padding only at the end of a whole quantum, and no length that leaves a lone sextet (4n+1 characters).
  const unpadded = clean.replace(/=+$/, "");
  if (unpadded.length % 4 === 1 || (clean.length !== unpadded.length && clean.length % 4 !== 0)) {
    throw new ApiError("invalid_input", `${field}: base64 of impossible length`, { fields: [{ path: field, message: "truncated or malformed base64" }] });
  }
  let bin: string;
  try {
    bin = atob(unpadded.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw new ApiError("invalid_input", `${field}: malformed base64`, { fields: [{ path: field, message: "malformed base64" }] });
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Sniffs the common image containers; the agent does the real decoding and fails the job (422) when it cannot. */
export function sniffImageType(b: Uint8Array): string {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57) return "image/webp";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  return "application/octet-stream";
}

function ipv4(host: string): number[] | null {
  const m = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  return m ? m.slice(1).map(Number) : null;
}

/** True for loopback, private, link-local, CGNAT and other non-public destinations. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  const v4 = ipv4(host) ?? (host.startsWith("::ffff:") ? ipv4(host.slice(7)) : null);
  if (v4) {
    const [a, b] = v4 as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  if (host.includes(":")) {
    return host === "::" || host === "::1" || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith("::ffff:");
  }
  // A bare number or hex form (http://2130706433/) also reaches loopback.
  return /^[0-9x.]+$/.test(host);
}

async function fetchRemote(url: string, field: string, cfg: Config): Promise<ResolvedInput> {
  const dev = cfg.ENVIRONMENT !== "production";
  let current = url;
  for (let hop = 0; hop < 4; hop++) {
    let u: URL;
    try {
      u = new URL(current);
    } catch {
      throw new ApiError("invalid_input", `${field}: invalid URL`);
    }
    if (u.protocol !== "https:" && !(dev && u.protocol === "http:")) throw new ApiError("invalid_input", `${field}: only https URLs are fetched`);
    if (!dev && isPrivateHost(u.hostname)) throw new ApiError("invalid_input", `${field}: private and loopback addresses are refused`);
    let res: Response;
    try {
      res = await fetch(u.toString(), { redirect: "manual", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (e) {
      throw new ApiError("invalid_input", `${field}: could not fetch ${u.host}: ${String(e)}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      current = new URL(res.headers.get("location")!, u).toString();
      continue;
    }
    if (!res.ok) throw new ApiError("invalid_input", `${field}: fetching the URL returned HTTP ${res.status}`);
    const len = Number(res.headers.get("content-length") ?? "0");
    if (len > MAX_IMAGE_BYTES) throw new ApiError("payload_too_large", `${field}: remote image exceeds ${MAX_IMAGE_BYTES} bytes`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ApiError("payload_too_large", `${field}: remote image exceeds ${MAX_IMAGE_BYTES} bytes`);
    return { bytes, contentType: sniffImageType(bytes) };
  }
  throw new ApiError("invalid_input", `${field}: too many redirects`);
}

/** An image input as base64, a data URL, or an URL the edge fetches itself (so no customer URL reaches an agent). */
export async function resolveImage(value: string | Uint8Array, field: string, cfg: Config): Promise<ResolvedInput> {
  if (value instanceof Uint8Array) return { bytes: value, contentType: sniffImageType(value) };
  if (/^https?:\/\//i.test(value)) return fetchRemote(value, field, cfg);
  const data = value.match(/^data:([\w/+.-]+)?(;[\w=.-]+)*;base64,(.*)$/s);
  const bytes = decodeBase64(data ? data[3]! : value, field);
  return { bytes, contentType: sniffImageType(bytes) };
}
