import type { RunningTick, TickEarner } from "./account-ledger-running.ts";
import type { EndpointRecord, InstanceRow } from "./endpoint-sql.ts";
import { cumulativeCharge, holdTarget, openAccruedMs } from "../services/endpoints/metering.ts";

/** An instance's billed time so far: its closed session, or its open one up to the last heartbeat seen. */
export function instanceMs(i: InstanceRow): number {
  if (i.released_at !== null) return i.billed_ms;
  return i.ready_at === null ? 0 : openAccruedMs(i.ready_at, i.last_hb);
}

export interface NextTick {
  body: RunningTick;
  /** the cumulative charge through this tick */
  total: number;
  /** instances whose reported time moves with this tick (written in the tick's transaction) */
  reported: InstanceRow[];
}

/**
 * The next money tick of an endpoint: the cumulative charge of all billed time minus what earlier ticks charged
 * (so rounding never drifts: an hour costs exactly the price), each provider's part of it by instance, and the hold
 * to keep for `live` instances (none when closing).
 */
export function nextTick(e: EndpointRecord, rows: InstanceRow[], live: number, seq: number, close: boolean): NextTick {
  const total = cumulativeCharge(
    e.price_per_hour,
    rows.reduce((a, i) => a + instanceMs(i), 0),
  );
  const earners: TickEarner[] = [];
  const reported: InstanceRow[] = [];
  for (const i of rows) {
    const ms = instanceMs(i);
    if (ms === i.reported_ms) continue;
    const part = cumulativeCharge(e.price_per_hour, ms) - cumulativeCharge(e.price_per_hour, i.reported_ms);
    if (i.provider_id) {
      earners.push({
        provider_id: i.provider_id,
        agent_id: i.agent_id,
        share_bp: i.share_bp,
        model: e.model,
        charge: part,
        billed_ms: ms - i.reported_ms,
        gpu_class: e.gpu_class,
      });
    }
    reported.push({ ...i, reported_ms: ms });
  }
  const target = close ? 0 : holdTarget(e.price_per_hour, live, e.max_hourly_spend);
  return { body: { seq, charge: total - e.charged, target, earners, ...(close ? { close } : {}) }, total, reported };
}
