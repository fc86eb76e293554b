import type { LedgerBook } from "./account-ledger-book.ts";

/**
 * The ledger's one alarm: set for the earliest pending hold's deadline (it expires) or reconciler check (its job is
 * looked for in the broker). `fire` does both for everything due, then sets the alarm for what remains.
 */
export class HoldAlarm {
  private alarmAt: number | null = null;

  constructor(
    private storage: DurableObjectStorage,
    private book: LedgerBook,
    private due: { expire(now: number): number; reconcile(now: number): Promise<unknown> },
  ) {}

  /**
   * On wake, pending holds get their alarm set again, at their next check or deadline, whatever getAlarm() says: an
   * alarm stored in the past may never fire, and a restarted local runtime keeps reporting alarms it no longer fires
   * (workers-sdk#5948), which would leave holds locked until the next admit.
   */
  async wake(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
    const next = this.next();
    if (next === null) return;
    this.alarmAt = next;
    await this.storage.setAlarm(next);
  }

  async fire(now: number): Promise<void> {
    this.alarmAt = null;
    this.due.expire(now);
    await this.due.reconcile(now);
    const next = this.next();
    if (next !== null) await this.schedule(next);
  }

  /** Sets the alarm for `at` unless it is already set for earlier. */
  async schedule(at: number): Promise<void> {
    if (this.alarmAt === null || at < this.alarmAt) {
      this.alarmAt = at;
      await this.storage.setAlarm(at);
    }
  }

  private next(): number | null {
    let next: number | null = null;
    for (const h of this.book.pending.values()) {
      const at = Math.min(h.deadline, h.checkAt ?? Number.POSITIVE_INFINITY);
      if (next === null || at < next) next = at;
    }
    return next;
  }
}
