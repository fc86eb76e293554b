import { type AgentOffer, canRun, noCapacityMessage } from "./job-broker-caps.ts";
import { OUTBOX_DUE_SQL } from "./job-broker-outbox.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { FinishFields } from "./job-broker-types.ts";

/**
 * The broker's one alarm, kept at the earliest deadline: a lease's expiry, a running job's execution deadline, a
 * queued job's TTL, or the outbox's next send.
 */
export class Deadlines {
  private alarmAt: number | null = null;

  constructor(private storage: DurableObjectStorage) {}

  /**
   * Forgets the alarm this object set, so the next `schedule` sets it again from the deadlines whatever getAlarm()
   * says: one stored in the past may never fire, and a restarted local runtime reports alarms it no longer fires
   * (workers-sdk#5948). Called on wake and when the alarm fires.
   */
  reset(): void {
    this.alarmAt = null;
  }

  /** Whether the alarm already set fires no later than `at`: a new deadline at `at` needs no new `schedule`. */
  coveredBy(at: number): boolean {
    return this.alarmAt !== null && this.alarmAt <= at;
  }

  /** Keeps one alarm at the earliest deadline (or soon, when the outbox still holds events). */
  async schedule(): Promise<void> {
    const r = this.storage.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (
         SELECT MIN(MIN(lease_expires_at, COALESCE(exec_deadline, lease_expires_at))) AS t FROM jobs WHERE status = 'PROCESSING'
         UNION ALL SELECT MIN(ttl_deadline) FROM jobs WHERE status = 'QUEUED'
         UNION ALL ${OUTBOX_DUE_SQL})`,
      )
      .one();
    const next = r.t;
    if (next === null) return;
    if (this.alarmAt === null || next < this.alarmAt) {
      this.alarmAt = next;
      await this.storage.setAlarm(next);
    }
  }
}

const DAY_MS = 24 * 3600_000;

/** Finished jobs are kept OUTPUT_RETENTION_DAYS days for status reads, then pruned (by the alarm and the cron). */
export function retentionCutoff(now: number, retentionDays: number): number {
  return now - retentionDays * DAY_MS;
}

/** What becomes of a job past a deadline: it fails with these fields, or goes back to the queue. */
export type Expiry = { requeue: true } | { requeue: false; fields: FinishFields };

/**
 * A queued job past its TTL fails as `timeout` when a connected agent could have run it, else as `no_capacity`
 * naming what none had; a running one fails at its execution deadline, or when its lease expired on its last
 * attempt, and is otherwise queued again.
 */
export function onExpiry(r: JobRow, now: number, offers: () => AgentOffer[]): Expiry {
  if (r.status === "QUEUED") {
    const agents = offers();
    if (agents.some((a) => canRun(r, a))) {
      return { requeue: false, fields: { error_kind: "timeout", error_message: "request TTL passed while queued" } };
    }
    return { requeue: false, fields: { error_kind: "no_capacity", error_message: noCapacityMessage(r, agents) } };
  }
  if (r.exec_deadline !== null && r.exec_deadline <= now) {
    return {
      requeue: false,
      fields: { error_kind: "timeout", error_message: `execution exceeded ${r.exec_timeout_ms} ms` },
    };
  }
  if (r.attempt >= r.max_attempts) {
    const message = `agent lost the job ${r.attempt} times (lease expired)`;
    return { requeue: false, fields: { error_kind: "worker_lost", error_message: message } };
  }
  return { requeue: true };
}
