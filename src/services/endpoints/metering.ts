/**
 * Metering and money arithmetic of dedicated endpoints, pure so the policy is testable on its own. Times are the
 * endpoint's clock (ms); money is integer micro-USD.
 */
export const MIN_SESSION_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** the running hold covers this much time at the current instance count */
export const RUNWAY_MS = 15 * 60_000;
export const TICK_MS = 60_000;
/** an instance not heard from this long is lost; billing ends at its last heartbeat */
export const LOST_AFTER_MS = 60_000;

const ceilSec = (ms: number) => Math.ceil(Math.max(0, ms) / 1000) * 1000;

/** A closed session: ready → released, rounded up to the second, at least 60 s; a lost agent gets no minimum. */
export function sessionBilledMs(readyAt: number, endAt: number, lost: boolean): number {
  const ms = ceilSec(endAt - readyAt);
  return lost ? ms : Math.max(MIN_SESSION_MS, ms);
}

/** What an open session has accrued: up to the last heartbeat the endpoint saw (never past what a close bills). */
export function openAccruedMs(readyAt: number, lastHeartbeat: number): number {
  return ceilSec(lastHeartbeat - readyAt);
}

/** The cumulative charge for `billedMs` of instance time: an hour costs exactly the price. */
export function cumulativeCharge(pricePerHour: number, billedMs: number): number {
  return Number((BigInt(pricePerHour) * BigInt(Math.round(billedMs))) / BigInt(HOUR_MS));
}

/** The running hold for `live` instances: 15 minutes of runway, never above a quarter of the hourly cap. */
export function holdTarget(pricePerHour: number, live: number, maxHourlySpend: number | null): number {
  const want = Math.ceil((pricePerHour * live * RUNWAY_MS) / HOUR_MS);
  return maxHourlySpend === null ? want : Math.min(want, Math.floor((maxHourlySpend * RUNWAY_MS) / HOUR_MS));
}

/** The most instances the hourly cap allows. */
export function spendCapInstances(pricePerHour: number, maxHourlySpend: number | null): number {
  if (maxHourlySpend === null || pricePerHour === 0) return Number.MAX_SAFE_INTEGER;
  return Math.floor(maxHourlySpend / pricePerHour);
}

export interface ScaleInput {
  min: number;
  max: number;
  cap: number;
  /** instances reserving, loading, ready or busy */
  live: number;
  queued: number;
  /** ms the queue has been non-empty (by the endpoint's clock); 0 when empty */
  queueWaitMs: number;
  queueDelayMs: number;
}

/**
 * How many instances to add: up to min_instances always; one more when requests queue with nothing live (a wake
 * from zero) or when the queue has waited past the delay; never past max_instances nor the spend cap.
 */
export function instancesToAdd(s: ScaleInput): number {
  const limit = Math.min(s.max, s.cap);
  let want = Math.max(s.min, s.live);
  if (s.queued > 0 && s.live === 0) want = Math.max(want, 1);
  else if (s.queued > 0 && s.queueWaitMs >= s.queueDelayMs) want = s.live + 1;
  return Math.max(0, Math.min(want, limit) - s.live);
}
