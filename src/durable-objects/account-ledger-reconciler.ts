import type { LedgerBook } from "./account-ledger-book.ts";
import type { HoldOutcome, VoidResult } from "./account-ledger-types.ts";

export type JobCheck = { id: string; account_id: string; model: string };
/** Asks a pool's broker which of these jobs exist (a missing one is written as failed there). */
export type AskBroker = (pool: string, items: JobCheck[]) => Promise<{ id: string; present: boolean }[]>;

/** One alarm checks every hold due within this window, so a busy account's checks are batched. */
const RECONCILE_WINDOW_MS = 10_000;
/** Holds asked about in one broker call. */
const PAGE = 200;

/**
 * A crash between the hold and the job's enqueue would leave the hold locked until it expires. So every hold with a
 * job still pending `RECONCILE_AFTER_MS` (account-ledger-admit.ts) after it was made is checked against its pool's broker: a job that exists
 * confirms it (its own completion closes the hold); a missing one is written as failed by the broker, so a
 * submission that resumes late cannot queue it, and the hold is voided here (the call goes back to the quota).
 * Idempotent.
 */
export class Reconciler {
  constructor(
    private ask: AskBroker,
    private book: LedgerBook,
    /** voids through the group commit, as any other void */
    private voidAll: (ids: string[], reason: string) => Promise<(VoidResult | { failed: string })[]>,
  ) {}

  async run(now: number): Promise<{ confirmed: number; voided: number }> {
    const book = this.book;
    const byPool = new Map<string, JobCheck[]>();
    for (const [id, h] of book.pending) {
      if (!h.job || h.checkAt === null || h.checkAt > now + RECONCILE_WINDOW_MS) continue;
      const list = byPool.get(h.job.pool) ?? [];
      list.push({ id, account_id: book.s!.account_id, model: h.job.model });
      byPool.set(h.job.pool, list);
    }
    let confirmed = 0;
    let voided = 0;
    for (const [pool, items] of byPool) {
      for (let i = 0; i < items.length; i += PAGE) {
        const answers = await this.ask(pool, items.slice(i, i + PAGE));
        // The broker call let other events in: act only on holds still pending.
        const present = answers.filter((a) => a.present && book.pending.get(a.id)?.checkAt != null).map((a) => a.id);
        if (present.length) {
          book.tx(() => {
            for (const id of present) book.sql.exec(`UPDATE holds SET check_at = NULL WHERE id = ?`, id);
          });
          for (const id of present) book.pending.get(id)!.checkAt = null;
          confirmed += present.length;
        }
        const missing = answers.filter((a) => !a.present && book.pending.has(a.id)).map((a) => a.id);
        if (missing.length) {
          const results = await this.voidAll(missing, "submission_interrupted");
          voided += results.filter((r) => r !== null && "first" in r && (r as HoldOutcome).first).length;
        }
      }
    }
    return { confirmed, voided };
  }
}
