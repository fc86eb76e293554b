/**
 * GCRA (the generic cell rate algorithm, as redis-cell does it): one stored value per key, the theoretical arrival
 * time. `limit` requests per `periodMs`, with a burst of `limit`. Exact, no background refill.
 */
export interface GcraDecision {
  allowed: boolean;
  /** the tat to store when allowed */
  tat: number;
  remaining: number;
  /** ms until a request would be allowed (0 when allowed) */
  retryAfterMs: number;
  /** ms until the bucket is full again */
  resetMs: number;
}

export function gcra(storedTat: number | null, now: number, limit: number, periodMs: number): GcraDecision {
  const interval = periodMs / limit;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + interval;
  const allowAt = newTat - periodMs;
  if (now < allowAt) {
    return { allowed: false, tat, remaining: 0, retryAfterMs: Math.ceil(allowAt - now), resetMs: Math.ceil(tat - now) };
  }
  return {
    allowed: true,
    tat: newTat,
    remaining: Math.max(0, Math.floor((periodMs - (newTat - now)) / interval + 1e-9)),
    retryAfterMs: 0,
    resetMs: Math.ceil(newTat - now),
  };
}
