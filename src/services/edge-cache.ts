/**
 * Reads that sit on the hot path (API key → account, agent token → provider, agent row, catalog) are served from
 * two tiers in front of D1: an LRU in this isolate, and the colo's Cache API. D1 lives in one region; a caller on
 * another continent pays 100–250 ms per D1 round trip, so a warm path makes none.
 *
 * Staleness bound: an entry lives LOCAL_TTL_MS in an isolate and SHARED_TTL_MS in the colo cache, and an isolate
 * that fills from the colo cache keeps the colo entry's own expiry (never extends it), so a change made elsewhere
 * (another isolate, another colo, or directly in D1) is seen everywhere within SHARED_TTL_MS = 30 s. The isolate
 * that makes a change (revoke, plan change) drops the entry from both tiers at once, so it and every isolate of its
 * colo that has not cached the entry locally see the change immediately.
 */
export const LOCAL_TTL_MS = 10_000;
export const SHARED_TTL_MS = 30_000;
const MAX_ENTRIES = 5_000;
const CACHE_ORIGIN = "https://edge-cache.internal/";

let clock: () => number = () => Date.now();
/** Tests move time forward to show the revocation bound without waiting for it. */
export function setEdgeClock(fn: (() => number) | null) {
  clock = fn ?? (() => Date.now());
}
export const edgeNow = () => clock();

interface Entry<T> {
  value: T;
  /** when the value must be read from D1 again, wherever it is cached */
  expires: number;
  /** when this isolate asks the colo cache again */
  local: number;
}

const store = new Map<string, Entry<unknown>>();
/** Keys dropped by this isolate: a concurrent fill that read before the drop must not put the old value back. */
const dropped = new Map<string, number>();

function sharedCache(): Cache | null {
  try {
    return typeof caches === "undefined" ? null : (caches as unknown as { default: Cache }).default;
  } catch {
    return null;
  }
}

function remember<T>(key: string, value: T, expires: number) {
  const now = clock();
  store.delete(key);
  store.set(key, { value, expires, local: Math.min(expires, now + LOCAL_TTL_MS) });
  if (store.size > MAX_ENTRIES) store.delete(store.keys().next().value!);
}

/**
 * The cached value for `key`, or `load()`'s (from D1) when neither tier has a fresh one. A null load (unknown key,
 * revoked key) is not cached: a key created a moment ago must work at once.
 */
export async function cached<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
  const now = clock();
  const hit = store.get(key) as Entry<T> | undefined;
  if (hit && hit.local > now && hit.expires > now) {
    store.delete(key);
    store.set(key, hit);
    return hit.value;
  }
  const started = now;
  const shared = sharedCache();
  const url = CACHE_ORIGIN + encodeURIComponent(key);
  if (shared) {
    const res = await shared.match(url).catch(() => undefined);
    if (res) {
      const body = (await res.json().catch(() => null)) as { value: T; expires: number } | null;
      if (body && body.expires > clock() && !droppedSince(key, started)) {
        remember(key, body.value, body.expires);
        return body.value;
      }
    }
  }
  const value = await load();
  if (value === null || droppedSince(key, started)) return value;
  const expires = clock() + SHARED_TTL_MS;
  remember(key, value, expires);
  if (shared) {
    const res = new Response(JSON.stringify({ value, expires }), {
      headers: { "content-type": "application/json", "cache-control": `max-age=${SHARED_TTL_MS / 1000}` },
    });
    await shared.put(url, res).catch(() => undefined);
  }
  return value;
}

function droppedSince(key: string, since: number): boolean {
  const at = dropped.get(key);
  return at !== undefined && at >= since;
}

/** Drops `key` from this isolate and this colo's cache: the caller changed what it maps to. */
export async function invalidate(...keys: string[]): Promise<void> {
  const shared = sharedCache();
  const now = clock();
  for (const key of keys) {
    store.delete(key);
    dropped.set(key, now);
    if (dropped.size > MAX_ENTRIES) dropped.delete(dropped.keys().next().value!);
    if (shared) await shared.delete(CACHE_ORIGIN + encodeURIComponent(key)).catch(() => false);
  }
}

/** Drops every entry whose key starts with `prefix` from this isolate (the colo copies expire on their own). */
export function invalidateLocal(prefix: string) {
  const now = clock();
  for (const key of [...store.keys()]) {
    if (key.startsWith(prefix)) {
      store.delete(key);
      dropped.set(key, now);
    }
  }
}

/** Tests start from empty tiers. */
export async function clearEdgeCache() {
  const keys = [...store.keys()];
  store.clear();
  dropped.clear();
  const shared = sharedCache();
  if (shared) for (const k of keys) await shared.delete(CACHE_ORIGIN + encodeURIComponent(k)).catch(() => false);
}
