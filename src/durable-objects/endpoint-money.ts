import type { Plan } from "../../schemas/index.ts";
import type { RaiseResult, RunningTick, TickEarner, TickResult } from "./account-ledger-running.ts";
import type { EndpointRecord, EndpointSql, InstanceRow } from "./endpoint-sql.ts";
import { ACTIVE } from "./endpoint-state.ts";
import { cumulativeCharge, holdTarget, openAccruedMs, sessionBilledMs } from "../services/endpoints/metering.ts";
import type { EndpointPorts } from "../services/endpoints/ports.ts";

/**
 * An endpoint's money: what its instances are billed and the ticks that carry it to the account's running hold.
 * Each tick captures what accrued since the last one (the hold stays open) and tops the hold up; the closing tick
 * settles it. The Durable Object decides when to tick and what an answer does to its state (endpoint.ts).
 */

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

/** Raises the running hold to the runway of `instances` before they exist (never started unfunded). */
export async function raiseFor(
  ports: EndpointPorts,
  e: EndpointRecord,
  instances: number,
): Promise<RaiseResult & { target: number }> {
  const target = holdTarget(e.price_per_hour, instances, e.max_hourly_spend);
  return { ...(await ports.raiseHold(e.account_id, e.plan as Plan, e.id, target)), target };
}

/**
 * An instance's session ended at `now`: billed ready → now (60 s minimum), or → its last heartbeat when lost (no
 * minimum), nothing when it never became ready.
 */
export function endedSession(i: InstanceRow, now: number, reason: string): InstanceRow {
  const lost = reason === "lost";
  const end = lost ? i.last_hb : now;
  const billed = i.ready_at === null ? 0 : sessionBilledMs(i.ready_at, end, lost);
  return { ...i, state: lost ? "lost" : "released", since: now, released_at: end, billed_ms: billed, reason };
}

/**
 * Writes the next tick before it is sent (resent after a crash; the ledger applies each seq once), with the
 * instances' reported time and the endpoint's cumulative charge, in one transaction.
 */
export function writeTick(
  storage: DurableObjectStorage,
  db: EndpointSql,
  e: EndpointRecord,
  now: number,
  close: boolean,
): { seq: number; body: string } {
  // Draining instances still run (and bill) until they end: the hold keeps covering them.
  const live = db.live().filter((i) => i.state !== "draining" || !ACTIVE.has(e.state)).length;
  const t = nextTick(e, db.instances(), live, db.nextSeq(), close);
  const body = JSON.stringify(t.body);
  storage.transactionSync(() => {
    for (const i of t.reported) db.update(i);
    db.addTick(t.body.seq, body, now);
    db.save({ ...e, charged: t.total, last_tick_at: now });
  });
  return { seq: t.body.seq, body };
}

/** The ledger's answer to a tick, recorded (inside the caller's transaction); returns the updated record. */
export function recordAnswer(db: EndpointSql, e: EndpointRecord, seq: number, r: TickResult): EndpointRecord {
  db.doneTick(seq, r.captured, r.written_off);
  const next = { ...e, captured: e.captured + r.captured, written_off: e.written_off + r.written_off, held: r.held };
  db.save(next);
  return next;
}

/** A tick's provider earnings, idempotent by split: a failed delivery is logged and kept in the ledger (splitsOf). */
export async function deliverSplits(ports: EndpointPorts, accountId: string, splitIds: string[]): Promise<void> {
  if (splitIds.length === 0) return;
  await ports.deliverSplits(accountId, splitIds).catch((err) => {
    console.error(JSON.stringify({ level: "warn", message: "provider earnings delivery failed", error: String(err) }));
  });
}
