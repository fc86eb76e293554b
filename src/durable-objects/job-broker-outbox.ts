import type { EventMessage, RequestAcceptedEvent } from "../../schemas/index.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { EnqueueJob, FinalStatus, FinishFields } from "./job-broker-types.ts";

/** How long after its first send an outbox event is sent once more (see Outbox.flush). */
export const RESEND_AFTER_MS = 30_000;

/** An outbox event not yet sent is sent by the alarm this long after it was written (flushSoon usually sends it first). */
export const OUTBOX_FIRST_SEND_MS = 5000;

/**
 * Events per flush. The UPDATE/DELETE that follows binds one variable per row plus one, and a Durable Object's SQLite
 * accepts at most 100 bound variables per statement (a 100-row batch failed with "too many SQL variables").
 */
const FLUSH_BATCH = 99;

/**
 * When the outbox next needs the alarm: an unsent event OUTBOX_FIRST_SEND_MS after it was written, a sent one at its
 * resend time. Two terms, each served by the outbox_sent index (one CASE over the table read every row of the last
 * RESEND_AFTER_MS).
 */
export const OUTBOX_DUE_SQL = `SELECT MIN(created_at) + ${OUTBOX_FIRST_SEND_MS} FROM outbox WHERE sent_at IS NULL
         UNION ALL SELECT MIN(sent_at) + ${RESEND_AFTER_MS} FROM outbox WHERE sent_at IS NOT NULL`;

/**
 * Events leave through an outbox written in the same transaction as the state change: none is lost on a crash.
 * The broker records them inside its transitions; this module sends them, in batches, and forgets them.
 */
export class Outbox {
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  /** `schedule` keeps the broker's one alarm, which retries a failed flush and sends each event once more. */
  constructor(
    private sql: SqlStorage,
    private queue: Queue<EventMessage>,
    private schedule: () => Promise<void>,
  ) {}

  /** Call inside the transaction of the state change the event reports. */
  record(event: EventMessage, at: number): void {
    this.sql.exec(`INSERT INTO outbox (body, created_at) VALUES (?, ?)`, JSON.stringify(event), at);
  }

  /**
   * Accepted-request events leave in batches (one queue send per ~50 ms of submissions, not one per submission);
   * if this object is evicted first, the outbox alarm sends them within seconds.
   */
  flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, 50);
  }

  /**
   * Each event is handed to the queue twice, at once and again RESEND_AFTER_MS later, then dropped: a send that
   * returned can still be lost by a local runtime killed before it delivered (Miniflare's queues live in memory),
   * and every consumer step is idempotent (the projection moves once, the hold is settled or voided once, a webhook
   * goes out only from the delivery that moved the row), so the second copy costs a message and changes nothing else.
   */
  async flush(): Promise<void> {
    const now = Date.now();
    // New events and those due again, each through the outbox_sent index (one query with OR read the whole outbox,
    // which holds every event of the last RESEND_AFTER_MS), then the oldest FLUSH_BATCH in order.
    type Row = { id: number; body: string; sent_at: number | null };
    const rows = [
      ...this.sql.exec<Row>(
        `SELECT id, body, sent_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ${FLUSH_BATCH}`,
      ),
      ...this.sql.exec<Row>(
        `SELECT id, body, sent_at FROM outbox WHERE sent_at <= ? ORDER BY sent_at LIMIT ${FLUSH_BATCH}`,
        now - RESEND_AFTER_MS,
      ),
    ]
      .sort((a, b) => a.id - b.id)
      .slice(0, FLUSH_BATCH);
    if (rows.length === 0) return;
    try {
      await this.queue.sendBatch(rows.map((r) => ({ body: JSON.parse(r.body) as EventMessage })));
      const place = (ids: number[]) => ids.map(() => "?").join(",");
      const again = rows.filter((r) => r.sent_at !== null).map((r) => r.id);
      const first = rows.filter((r) => r.sent_at === null).map((r) => r.id);
      if (again.length) this.sql.exec(`DELETE FROM outbox WHERE id IN (${place(again)})`, ...again);
      if (first.length) this.sql.exec(`UPDATE outbox SET sent_at = ? WHERE id IN (${place(first)})`, now, ...first);
      if (first.length) await this.schedule();
      // A full batch may have more behind it; each pass marks or deletes what it sent, so this ends.
      if (rows.length === FLUSH_BATCH) await this.flush();
    } catch (e) {
      console.error(
        JSON.stringify({ level: "warn", message: "outbox flush failed; the alarm retries", error: String(e) }),
      );
      await this.schedule();
    }
  }
}

/** The accepted request's D1 row, as an outbox event written in the enqueue's own transaction. */
export function acceptedEvent(job: EnqueueJob, record: NonNullable<EnqueueJob["record"]>): RequestAcceptedEvent {
  return {
    type: "request.accepted",
    event_id: `${job.id}:accepted`,
    request_id: job.id,
    account_id: job.account_id,
    model: job.model,
    ...record,
  };
}

/** A job's terminal state, for the events consumer (billing, the request row, webhooks). */
export function finishedEvent(r: JobRow, status: FinalStatus, f: FinishFields, now: number): EventMessage {
  return {
    type: "request.finished",
    event_id: `${r.id}:finished`,
    request_id: r.id,
    account_id: r.account_id,
    model: r.model,
    status,
    error_kind: f.error_kind ?? null,
    gpu_ms: f.gpu_ms ?? null,
    load_ms: f.load_ms ?? null,
    gpu_class: f.gpu_class ?? null,
    started_at: r.started_at,
    completed_at: now,
    agent_id: r.agent_id,
  };
}
