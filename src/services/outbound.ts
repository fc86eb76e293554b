import { ApiError } from "../errors.ts";
import type { Config } from "../env.ts";
import { classifyIPv4, classifyIPv6, classifyName, parseIPv4, parseIPv6 } from "./addresses.ts";

/**
 * The one outbound policy: every request the platform makes for a caller (webhook deliveries, image inputs given as
 * URLs) goes through checkOutbound and outboundFetch. Destinations must be public: no loopback, private, link-local,
 * CGNAT, multicast, reserved or documentation address in any spelling, no internal or metadata names, no userinfo,
 * and in production https on an allowed port only. Outside production, loopback and private destinations pass only
 * when ALLOW_PRIVATE_OUTBOUND is set (the local start sets it); production ignores that setting.
 */
export interface OutboundPolicy {
  production: boolean;
  allowPrivate: boolean;
  /** ports a URL may name; null = any (outside production) */
  ports: ReadonlySet<number> | null;
}

export const MAX_URL_LENGTH = 2048;
export const DEFAULT_PORTS = [80, 443];

export function outboundPolicy(cfg: Config): OutboundPolicy {
  const production = cfg.ENVIRONMENT === "production";
  const configured = cfg.OUTBOUND_ALLOWED_PORTS;
  return {
    production,
    allowPrivate: !production && cfg.ALLOW_PRIVATE_OUTBOUND,
    ports: configured ? new Set(configured) : production ? new Set(DEFAULT_PORTS) : null,
  };
}

export type Verdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Host text as a resolver would see it: brackets off, percent-decoded once, lower case, trailing dots trimmed. */
function normaliseHost(hostname: string): string | null {
  let h = hostname.replace(/^\[|\]$/g, "");
  if (h.includes("%")) {
    try {
      h = decodeURIComponent(h);
    } catch {
      return null;
    }
  }
  return h.toLowerCase().replace(/\.+$/, "");
}

/** Why a host is not a public destination, or null when it is. */
export function hostRefusal(hostname: string): string | null {
  const host = normaliseHost(hostname);
  if (host === null || host.length === 0) return "malformed host";
  if (host.includes(":")) {
    const groups = parseIPv6(host);
    return groups ? classifyIPv6(groups) : "malformed IPv6 address";
  }
  const a = parseIPv4(host);
  if (a !== null) return Number.isNaN(a) ? "malformed numeric address" : classifyIPv4(a);
  return classifyName(host);
}

export function checkUrl(raw: string, policy: OutboundPolicy): Verdict {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `URL longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "only http(s) URLs" };
  if (policy.production && url.protocol !== "https:") return { ok: false, reason: "only https URLs in production" };
  if (url.username || url.password) return { ok: false, reason: "URLs with credentials (userinfo) are refused" };
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  if (policy.ports && !policy.ports.has(port)) return { ok: false, reason: `port ${port} is not allowed` };
  const why = hostRefusal(url.hostname);
  if (why && !(policy.allowPrivate && isLocalReason(why))) {
    return { ok: false, reason: `destination is not public (${why})` };
  }
  return { ok: true, url };
}

/** What ALLOW_PRIVATE_OUTBOUND lets through: a developer's own machine and network, nothing malformed. */
function isLocalReason(why: string): boolean {
  return !/^malformed/.test(why);
}

/** Checks a caller-supplied URL; a refusal is 400 invalid_input naming the field. */
export function checkOutbound(raw: string, field: string, policy: OutboundPolicy): URL {
  const v = checkUrl(raw, policy);
  if (!v.ok) throw refusal(field, v.reason, "outbound_refused");
  return v.url;
}

function refusal(field: string, reason: string, code: string): ApiError {
  return new ApiError("invalid_input", `${field}: ${reason}`, { fields: [{ path: field, message: reason, code }] });
}

export type Fetcher = (input: string, init: RequestInit) => Promise<Response>;

export interface OutboundFetchOptions {
  policy: OutboundPolicy;
  field: string;
  /** redirects followed, each hop checked by the policy; 0 hands a 3xx back to the caller as the answer */
  maxRedirects: number;
  timeoutMs: number;
  /** the fetch to use; tests inject a stand-in (Workers' global fetch otherwise) */
  fetcher?: Fetcher;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches a caller-supplied URL under the policy. Redirects are never followed by the runtime (redirect: "manual"):
 * with maxRedirects 0 a 3xx is returned as is (a failed webhook delivery); otherwise each Location is resolved,
 * checked by the same policy, and followed up to maxRedirects times. A 303 (and a 301/302 of a POST) becomes a GET.
 */
export async function outboundFetch(raw: string, init: RequestInit, o: OutboundFetchOptions): Promise<Response> {
  const fetcher = o.fetcher ?? ((input, i) => fetch(input, i));
  let url = checkOutbound(raw, o.field, o.policy);
  let req: RequestInit = init;
  for (let hop = 0; ; hop++) {
    const res = await fetcher(url.toString(), { ...req, redirect: "manual", signal: AbortSignal.timeout(o.timeoutMs) });
    if (!REDIRECTS.has(res.status) || o.maxRedirects === 0) return res;
    const location = res.headers.get("location");
    await res.body?.cancel();
    if (!location) throw refusal(o.field, "redirect without a Location", "bad_redirect");
    if (hop >= o.maxRedirects) {
      throw refusal(o.field, `more than ${o.maxRedirects} redirects`, "too_many_redirects");
    }
    let next: string;
    try {
      next = new URL(location, url).toString();
    } catch {
      throw refusal(o.field, "invalid redirect Location", "bad_redirect");
    }
    url = checkOutbound(next, o.field, o.policy);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && req.method && req.method !== "GET")) {
      req = { ...req, method: "GET", body: undefined };
    }
  }
}
